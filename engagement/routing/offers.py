"""An agent's answer to an offer: accept, reject; and the offers nobody answered (time-outs)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from cea.common.errors import Conflict, NotFound, PermissionDenied
from cea.common.queries import one_or_none
from engagement.conversations.models import Conversation, ConversationStatus
from engagement.conversations.services import conversation_announce
from engagement.hooks import work_accepted_on_commit
from engagement.routing.defaults import MISSED_OFFER
from engagement.routing.models import AgentProfile, Offer, OfferStatus, Presence, ReasonCode, WorkItem, WorkStatus
from engagement.routing.presence import presence_change_locked
from engagement.routing.work import kick_on_commit, offer_close
from records.audit.context import audited


def _own_offer(actor, offer_id) -> Offer:
    text = str(offer_id)
    offer = (
        one_or_none(Offer.objects.select_related("agent", "work_item").filter(pk=int(text)))
        if text.isascii() and text.isdigit()
        else None
    )
    if offer is None:
        raise NotFound(f"No offer with id {offer_id}.")
    if offer.agent.user_id != actor.pk:
        raise PermissionDenied("This offer is for another agent.")
    return offer


def _lock(offer: Offer) -> tuple[Conversation, WorkItem, AgentProfile, Offer]:
    """Conversation, then item, then agent, then the offer: the engine's lock order."""
    conversation = Conversation.objects.select_for_update(of=("self",)).get(pk=offer.work_item.conversation_id)
    item = WorkItem.objects.select_for_update(of=("self",)).select_related("queue").get(pk=offer.work_item_id)
    agent = AgentProfile.objects.select_for_update(of=("self",)).get(pk=offer.agent_id)
    offer = Offer.objects.select_for_update(of=("self",)).get(pk=offer.pk)
    return conversation, item, agent, offer


def _still_pending(offer: Offer) -> None:
    if offer.status != OfferStatus.PENDING:
        raise Conflict(
            f"This offer has already ended ({offer.get_status_display().lower()}).", code=f"offer_{offer.status}"
        )


@transaction.atomic
def offer_accept(*, actor, offer_id) -> Conversation:
    """The agent takes the conversation: it becomes theirs and active; the customer is told."""
    conversation, item, agent, offer = _lock(_own_offer(actor, offer_id))
    _still_pending(offer)
    now = timezone.now()
    if offer.expires_at <= now:
        # Its time is up though the sweep has not recorded it yet: it timed out all the same.
        raise Conflict("This offer has already ended (timed out).", code=f"offer_{OfferStatus.TIMED_OUT}")
    offer_close(offer=offer, item=item, agent=agent, status=OfferStatus.ACCEPTED, reason="", now=now)
    item.status = WorkStatus.ASSIGNED
    item.assigned_at = now
    item.wait_seconds = (now - item.enqueued_at).total_seconds()
    item.save(update_fields=["status", "assigned_at", "wait_seconds"])
    with audited(actor, source="routing"):
        conversation.agent = actor
        conversation.status = ConversationStatus.ACTIVE
        conversation.answered_at = conversation.answered_at or now
        conversation.queue = item.queue.name
        conversation.save(update_fields=["agent", "status", "answered_at", "queue", "updated_at"])
    name = actor.get_short_name() or actor.username
    conversation_announce(
        conversation=conversation,
        body=f"{name} has joined the conversation.",
        payload={"event": "agent_joined", "agent": name},
        context={
            "agent": {"id": actor.pk, "name": name},
            "queue": item.queue.name,
            "wait_seconds": round(item.wait_seconds, 1),
        },
    )
    work_accepted_on_commit(conversation_id=conversation.pk)  # a waiting call is put through (voice)
    return conversation


@transaction.atomic
def offer_reject(*, actor, offer_id, reason: str = "") -> Offer:
    """The agent declines: the item goes to the next agent (never back to this one)."""
    _conversation, item, agent, offer = _lock(_own_offer(actor, offer_id))
    _still_pending(offer)
    offer_close(
        offer=offer,
        item=item,
        agent=agent,
        status=OfferStatus.REJECTED,
        reason=reason or "rejected",
        now=timezone.now(),
    )
    kick_on_commit(queue_ids=[item.queue_id], agent_ids=[agent.pk])
    return offer


def offer_expire(*, offer_id: int, now: datetime | None = None) -> bool:
    """Time out a pending offer whose time is up; the agent may be set away (per queue). Idempotent."""
    now = now or timezone.now()
    with transaction.atomic():
        offer = one_or_none(Offer.objects.select_related("work_item").filter(pk=offer_id))
        if offer is None or offer.status != OfferStatus.PENDING:
            return False
        # Going away rescinds the agent's other pending offers: lock their items before the agent.
        Conversation.objects.select_for_update(of=("self",)).get(pk=offer.work_item.conversation_id)
        list(
            WorkItem.objects.select_for_update(of=("self",))
            .filter(offers__agent_id=offer.agent_id, offers__status=OfferStatus.PENDING)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        _conversation, item, agent, offer = _lock(offer)
        if offer.status != OfferStatus.PENDING or offer.expires_at > now:
            return False
        offer_close(offer=offer, item=item, agent=agent, status=OfferStatus.TIMED_OUT, reason="no answer", now=now)
        if item.queue.unavailable_on_timeout and agent.presence == Presence.AVAILABLE:
            code, label = MISSED_OFFER
            missed, _ = ReasonCode.objects.get_or_create(code=code, defaults={"label": label, "system": True})
            presence_change_locked(profile=agent, presence=Presence.AWAY, reason=missed, cause="missed_offer", now=now)
        # An agent who stays available has capacity back: they may take other queues' work.
        kick_on_commit(queue_ids=[item.queue_id], agent_ids=[agent.pk] if agent.presence == Presence.AVAILABLE else [])
        return True


def offers_expire_due(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    due = Offer.objects.filter(status=OfferStatus.PENDING, expires_at__lte=now).values_list("pk", flat=True)
    return sum(offer_expire(offer_id=offer_id, now=now) for offer_id in list(due))
