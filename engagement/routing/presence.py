"""Agent presence: available, busy, after-contact work, away with a reason, offline.

Every change is a ``PresenceChange`` row with its start and end (adherence and reporting read
them). Going away or offline rescinds the agent's pending offers, which go back to their queues;
becoming available asks the router for work. A desktop that closes or loses its websocket marks
the agent disconnected; after ``CEA_PRESENCE_GRACE_SECONDS`` without a connection the sweep sets
them offline (a reload or a short network drop within the grace changes nothing).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from cea.common.errors import PermissionDenied, ValidationFailed
from cea.common.live import supervision_hint_on_commit
from cea.common.queries import one_or_none
from cea.common.roles import can_supervise, is_admin, role_of
from engagement.access import ROUTABLE_ROLES
from engagement.hooks import presence_changed_on_commit
from engagement.routing.live import push_to_agent
from engagement.routing.models import (
    AgentProfile,
    Offer,
    OfferStatus,
    Presence,
    PresenceChange,
    ReasonCode,
    WorkItem,
    WorkStatus,
)
from engagement.routing.work import kick_on_commit, offer_close


def agent_profile_for(user) -> AgentProfile:
    """The user's routing profile, made on first use (offline, default capacity)."""
    if role_of(user) not in ROUTABLE_ROLES:
        raise PermissionDenied("Only agents and supervisors take work.", code="not_an_agent")
    profile = one_or_none(AgentProfile.objects.filter(user=user))
    if profile is None:
        profile, _ = AgentProfile.objects.get_or_create(user=user)
    return profile


def presence_json(profile: AgentProfile, *, changed_by: str = "") -> dict:
    """The agent's presence as the desktop shows it; ``changed_by``: the supervisor who set it, if one did."""
    return {
        "presence": profile.presence,
        "label": profile.get_presence_display(),
        "reason": profile.reason.code if profile.reason_id else "",
        "reason_label": profile.reason.label if profile.reason_id else "",
        "since": profile.presence_since.isoformat(),
        "after_contact_until": profile.after_contact_until.isoformat() if profile.after_contact_until else None,
        "load_units": profile.load_units,
        "capacity_units": profile.capacity_units,
        "changed_by": changed_by,
    }


def _check_reason(presence: str, reason_code: str, *, system: bool) -> ReasonCode | None:
    if presence not in Presence.values:
        raise ValidationFailed(
            f"Unknown presence {presence!r}.", fields={"presence": f"One of {', '.join(Presence.values)}."}
        )
    if presence != Presence.AWAY:
        if reason_code:
            raise ValidationFailed("Only 'away' takes a reason code.", fields={"reason": "Only with away."})
        return None
    if not reason_code:
        raise ValidationFailed("Say why you are away.", fields={"reason": "A reason code is required."})
    reason = ReasonCode.objects.filter(code=reason_code, is_active=True).first()
    if reason is None or (reason.system and not system):
        raise ValidationFailed(f"Unknown reason code {reason_code!r}.", fields={"reason": "Unknown reason code."})
    return reason


def presence_change_locked(
    *,
    profile: AgentProfile,
    presence: str,
    reason: ReasonCode | None,
    cause: str,
    now: datetime,
    until=None,
    changed_by: str = "",
) -> bool:
    """Apply a change to a profile whose row (and pending offers' items) the caller locked.

    ``changed_by`` names the supervisor who made it, for the agent's desktop to show.
    """
    if profile.presence == presence and profile.reason_id == (reason.pk if reason else None) and until is None:
        return False
    PresenceChange.objects.filter(agent=profile, ended_at__isnull=True).update(ended_at=now)
    PresenceChange.objects.create(agent=profile, presence=presence, reason=reason, started_at=now, cause=cause)
    was_available = profile.presence == Presence.AVAILABLE
    profile.presence = presence
    profile.reason = reason
    profile.presence_since = now
    profile.after_contact_until = until if presence == Presence.AFTER_CONTACT else None
    fields = ["presence", "reason", "presence_since", "after_contact_until", "updated_at"]
    if presence == Presence.AVAILABLE and not was_available:
        profile.idle_since = now
        fields.append("idle_since")
    profile.save(update_fields=fields)
    if presence in (Presence.AWAY, Presence.OFFLINE):
        _rescind_pending(profile, now=now, reason=f"agent went {presence}")
    if presence == Presence.AVAILABLE:
        kick_on_commit(agent_ids=[profile.pk])
    push_to_agent(profile.user_id, {"type": "presence.changed", **presence_json(profile, changed_by=changed_by)})
    supervision_hint_on_commit(what="agents")
    presence_changed_on_commit(agent_id=profile.pk)  # adherence (engagement/wfm) follows it
    return True


def _rescind_pending(profile: AgentProfile, *, now: datetime, reason: str) -> None:
    """Rescind the agent's pending offers whose items this transaction holds or can lock at once.

    The caller locked the items first (``lock_profile``), but the router may have made one more offer
    before the agent's row was locked. Its item may now be locked by that offer's accept (or reject,
    or the customer leaving), which waits for the agent's row we hold: waiting for the item would
    deadlock. So such an item is skipped (``SKIP LOCKED``), and that transaction ends the offer.
    """
    held = (
        WorkItem.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(offers__agent=profile, offers__status=OfferStatus.PENDING)
        .values_list("pk", flat=True)
    )
    offers = (
        Offer.objects.select_for_update(of=("self",))
        .select_related("work_item")
        .filter(agent=profile, status=OfferStatus.PENDING, work_item_id__in=list(held))
    )
    queue_ids = []
    for offer in offers:
        offer_close(
            offer=offer, item=offer.work_item, agent=profile, status=OfferStatus.RESCINDED, reason=reason, now=now
        )
        queue_ids.append(offer.work_item.queue_id)
    # Work transferred to this agent by name now falls back to its queue (``engine.route_locked_item``).
    queue_ids += WorkItem.objects.filter(target_agent=profile, status=WorkStatus.WAITING).values_list(
        "queue_id", flat=True
    )
    kick_on_commit(queue_ids=queue_ids)


def lock_profile(profile_id: int) -> AgentProfile:
    """Lock the items of the agent's pending offers, then the agent (the engine's lock order).

    An offer the router makes between the two locks is not covered; ``_rescind_pending`` copes.
    """
    list(
        WorkItem.objects.select_for_update(of=("self",))
        .filter(offers__agent_id=profile_id, offers__status=OfferStatus.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return AgentProfile.objects.select_for_update(of=("self",)).select_related("reason").get(pk=profile_id)


def _supervises(actor, agent_user) -> bool:
    if not can_supervise(actor):
        return False
    return is_admin(actor) or actor.teams.filter(pk__in=agent_user.teams.values("pk")).exists()


@transaction.atomic
def presence_set(*, actor, agent_user, presence: str, reason_code: str = "", cause: str = "") -> AgentProfile:
    """Set an agent's presence: the agent themself, a supervisor of one of their teams, or an admin.

    A change by someone else is pushed to the agent's desktop with their name (``changed_by``).
    """
    by_someone_else = actor.pk != agent_user.pk
    if by_someone_else and not _supervises(actor, agent_user):
        raise PermissionDenied("Only the agent or a supervisor of theirs changes an agent's presence.")
    reason = _check_reason(presence, reason_code, system=False)
    profile = agent_profile_for(agent_user)
    profile = lock_profile(profile.pk)
    now = timezone.now()
    until = None
    if presence == Presence.AFTER_CONTACT:
        until = now + timedelta(seconds=settings.CEA_AFTER_CONTACT_SECONDS)
    presence_change_locked(
        profile=profile,
        presence=presence,
        reason=reason,
        cause=cause or ("supervisor" if by_someone_else else "agent"),
        now=now,
        until=until,
        changed_by=(actor.get_full_name() or actor.username) if by_someone_else else "",
    )
    return profile


# --- The desktop's connections ----------------------------------------------------------------


def desktop_connected(*, user_id: int) -> None:
    now = timezone.now()
    AgentProfile.objects.filter(user_id=user_id).update(
        connections=F("connections") + 1, last_seen_at=now, disconnected_at=None
    )


def desktop_seen(*, user_id: int) -> None:
    AgentProfile.objects.filter(user_id=user_id).update(last_seen_at=timezone.now())


def desktop_disconnected(*, user_id: int) -> None:
    now = timezone.now()
    with transaction.atomic():
        AgentProfile.objects.filter(user_id=user_id).update(connections=Greatest(F("connections") - 1, 0))
        AgentProfile.objects.filter(user_id=user_id, connections=0).update(disconnected_at=now)


def presence_sweep(*, now: datetime | None = None) -> dict:
    """End after-contact work whose time is up; set offline agents gone longer than the grace period."""
    now = now or timezone.now()
    grace = timedelta(seconds=settings.CEA_PRESENCE_GRACE_SECONDS)
    stale = grace + timedelta(seconds=3 * settings.CEA_DESKTOP_HEARTBEAT_SECONDS)
    done = {"after_contact_ended": 0, "disconnected": 0}
    for profile_id in AgentProfile.objects.filter(
        presence=Presence.AFTER_CONTACT, after_contact_until__lte=now
    ).values_list("pk", flat=True):
        with transaction.atomic():
            profile = lock_profile(profile_id)
            if profile.presence == Presence.AFTER_CONTACT and profile.after_contact_until <= now:
                presence_change_locked(
                    profile=profile, presence=Presence.AVAILABLE, reason=None, cause="timer", now=now
                )
                done["after_contact_ended"] += 1
    gone = Q(connections=0, disconnected_at__lte=now - grace) | Q(last_seen_at__lte=now - stale)
    for profile_id in AgentProfile.objects.exclude(presence=Presence.OFFLINE).filter(gone).values_list("pk", flat=True):
        with transaction.atomic():
            profile = lock_profile(profile_id)
            # Asked again under the lock: a desktop that reconnected since the look keeps its agent.
            still_gone = AgentProfile.objects.filter(pk=profile.pk).filter(gone).exists()
            if profile.presence != Presence.OFFLINE and still_gone:
                presence_change_locked(
                    profile=profile, presence=Presence.OFFLINE, reason=None, cause="disconnect", now=now
                )
                AgentProfile.objects.filter(pk=profile.pk).update(connections=0)
                done["disconnected"] += 1
    return done
