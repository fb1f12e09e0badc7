"""Read-only views of routing: queue statistics, an agent's offers and work."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, DateTimeField, Exists, F, Min, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from cea.accounts.models import User
from engagement.access import ROUTABLE_ROLES
from engagement.routing.models import (
    AgentProfile,
    Offer,
    OfferStatus,
    Presence,
    PresenceChange,
    Queue,
    WorkItem,
    WorkStatus,
)
from records.interactions.models import Interaction


def queue_stats(*, since: datetime | None = None, now: datetime | None = None) -> list[dict[str, Any]]:
    """Per active queue: waiting work, the oldest wait, free agents, and the service level since ``since``.

    Service level: the share of work answered within the queue's target seconds, among the work
    answered or abandoned since ``since`` (default: the last 24 hours).
    """
    now = now or timezone.now()
    since = since or now - timedelta(hours=24)
    live = {
        row["queue_id"]: row
        for row in WorkItem.objects.filter(status__in=(WorkStatus.WAITING, WorkStatus.OFFERED))
        .values("queue_id")
        .annotate(
            waiting=Count("pk", filter=Q(status=WorkStatus.WAITING)),
            offered=Count("pk", filter=Q(status=WorkStatus.OFFERED)),
            oldest=Min("enqueued_at"),
        )
    }
    results = []
    for queue in Queue.objects.filter(is_active=True).select_related("team"):
        done = WorkItem.objects.filter(queue=queue, wait_seconds__isnull=False, transferred_from__isnull=True).filter(
            Q(assigned_at__gte=since) | Q(status=WorkStatus.ABANDONED, ended_at__gte=since)
        )
        counts = done.aggregate(
            answered=Count("pk", filter=Q(assigned_at__isnull=False)),
            within=Count("pk", filter=Q(assigned_at__isnull=False, wait_seconds__lte=queue.service_level_seconds)),
            abandoned=Count("pk", filter=Q(status=WorkStatus.ABANDONED)),
        )
        handled = counts["answered"] + counts["abandoned"]
        row = live.get(queue.pk, {})
        agents = AgentProfile.objects.filter(presence=Presence.AVAILABLE, user__is_active=True)
        if queue.team_id:
            agents = agents.filter(user__teams=queue.team_id)
        results.append(
            {
                "name": queue.name,
                "label": queue.label or queue.name,
                "channel": queue.channel,
                "team": queue.team.name if queue.team else None,
                "waiting": row.get("waiting", 0),
                "offered": row.get("offered", 0),
                "oldest_wait_seconds": round((now - row["oldest"]).total_seconds(), 1) if row.get("oldest") else None,
                "agents_available": agents.count(),
                "answered": counts["answered"],
                "abandoned": counts["abandoned"],
                "service_level_target": f"{queue.service_level_percent}% in {queue.service_level_seconds} s",
                "service_level_percent": round(100 * counts["within"] / handled, 1) if handled else None,
            }
        )
    return results


def offers_pending_for(*, profile: AgentProfile) -> QuerySet[Offer]:
    return (
        Offer.objects.filter(agent=profile, status=OfferStatus.PENDING)
        .select_related("work_item__conversation__customer", "work_item__queue")
        .order_by("offered_at", "pk")
    )


# --- Transfer targets ---------------------------------------------------------------------------


def transfer_target_agents() -> QuerySet[User]:
    """The users a conversation may be transferred to: active agents and supervisors.

    A superuser is an administrator whatever their role field says (``role_of``), so is none.
    """
    return get_user_model().objects.filter(is_active=True, is_superuser=False, role__in=ROUTABLE_ROLES)


def transfer_target_agent(*, reference: int | str) -> User | None:
    """The transfer target named by ``reference`` (a user id, or a username), or ``None`` if no such target.

    Both the API and the desk resolve ``to_agent`` here, so they accept and refuse the same users.
    """
    targets = transfer_target_agents()
    text = str(reference)
    agent = targets.filter(pk=int(text)).first() if text.isascii() and text.isdigit() else None
    return agent or targets.filter(username=text).first()


def interactions_with_routing(*, interactions: QuerySet[Interaction]) -> QuerySet[Interaction]:
    """Interactions annotated with what routing knows of them, for insights' contact rollups.

    ``first_enqueued_at``: when its conversation first waited for an agent (null: never routed);
    ``transferred``: an agent transferred it at least once; ``released_at``: when the last agent
    wrapped it up (the end of after-contact work; null when nobody did).
    """
    work = WorkItem.objects.filter(conversation__interaction=OuterRef("pk"))
    return interactions.annotate(
        first_enqueued_at=Subquery(work.order_by("enqueued_at").values("enqueued_at")[:1]),
        transferred=Exists(work.filter(status=WorkStatus.TRANSFERRED)),
        released_at=Subquery(work.filter(status=WorkStatus.DONE).order_by("-ended_at").values("ended_at")[:1]),
    )


def queue_service_level_settings() -> QuerySet[Queue]:
    """Every queue's service-level settings by name (the name interactions record)."""
    return Queue.objects.order_by().values(  # type: ignore[return-value]  # rows as dicts, read as SQL
        "name",
        "service_level_seconds",
        "service_level_formula",
        "short_abandon_seconds",
        "sl_counts_answered_after_target",
        "sl_counts_abandons",
        "sl_excludes_short_abandons",
        "sl_counts_flow_outs",
    )


def presence_spans(*, start: datetime, end: datetime, now: datetime) -> QuerySet[PresenceChange]:
    """Agents' presence periods overlapping ``[start, end)``, with ``user_id`` and ``until``
    (the period's end, ``now`` while it lasts), for insights' agent rollups."""
    return (
        PresenceChange.objects.filter(started_at__lt=end)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start))
        .annotate(user_id=F("agent__user_id"), until=Coalesce("ended_at", Value(now, output_field=DateTimeField())))
        .order_by()
    )


def presence_timeline(
    *, start: datetime, end: datetime, now: datetime, user_ids: Collection[int] | None = None
) -> QuerySet[PresenceChange]:
    """Presence periods overlapping ``[start, end)`` of the agents whose users are ``user_ids`` (all
    when ``None``), oldest first, with ``user_id``, ``until`` (``now`` while a period lasts) and
    the away reason selected: the agents' state timelines of insights' reports."""
    spans = presence_spans(start=start, end=end, now=now).select_related("reason")
    if user_ids is not None:
        spans = spans.filter(agent__user_id__in=sorted(user_ids))
    return spans.order_by("agent__user_id", "started_at", "id")
