"""A conversation's life with the router: queued, abandoned, wrapped up, transferred."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from cea.common.errors import Conflict, ValidationFailed
from engagement.access import require_handling_agent
from engagement.conversations.models import Conversation, ConversationStatus
from engagement.routing.engine import kick_on_commit, offer_close, work_enqueue, work_release
from engagement.routing.live import conversation_announce
from engagement.routing.models import (
    OPEN_WORK,
    AgentProfile,
    Offer,
    OfferStatus,
    Presence,
    Queue,
    WorkItem,
    WorkStatus,
    WrapUpCode,
)
from engagement.routing.presence import agent_profile_for, presence_change_locked
from records.interactions.services import interaction_wrap_up

__all__ = ["conversation_transfer", "conversation_wrap_up", "work_enqueue", "work_on_conversation_end"]


def _open_item(conversation_id: int) -> WorkItem | None:
    return (
        WorkItem.objects.select_for_update(of=("self",))
        .select_related("queue")
        .filter(conversation_id=conversation_id, status__in=OPEN_WORK)
        .first()
    )


def work_on_conversation_end(*, conversation: Conversation, now) -> str | None:
    """Called by ``conversation_end`` with the conversation locked. Returns what became of its work.

    Waiting or offered: the customer left before an answer, ``abandoned`` (a pending offer is
    rescinded). With an agent: ``wrap_up``, until the agent wraps it up and their capacity is free.
    """
    item = _open_item(conversation.pk)
    if item is None:
        return None
    if item.status in (WorkStatus.WAITING, WorkStatus.OFFERED):
        if item.status == WorkStatus.OFFERED:
            agent = AgentProfile.objects.select_for_update(of=("self",)).get(pk=item.agent_id)
            offer = Offer.objects.select_for_update(of=("self",)).get(work_item=item, status=OfferStatus.PENDING)
            offer_close(
                offer=offer, item=item, agent=agent, status=OfferStatus.RESCINDED, reason="customer left", now=now
            )
            kick_on_commit(agent_ids=[agent.pk])
        item.status = WorkStatus.ABANDONED
        item.ended_at = now
        # ``now`` is the conversation's end, which a channel may report from before it was queued.
        item.wait_seconds = max(0.0, (now - item.enqueued_at).total_seconds())
        item.save(update_fields=["status", "ended_at", "wait_seconds"])
        return WorkStatus.ABANDONED
    if item.status == WorkStatus.ASSIGNED:
        item.status = WorkStatus.WRAP_UP
        item.save(update_fields=["status"])
        from engagement.routing.live import push_to_agent

        agent = AgentProfile.objects.get(pk=item.agent_id)
        push_to_agent(agent.user_id, {"type": "work.wrap_up", "conversation": conversation.pk})
    return item.status


@transaction.atomic
def conversation_wrap_up(
    *,
    actor,
    conversation: Conversation,
    wrap_up_code: str,
    disposition: str = "",
    notes: str = "",
    after_contact: bool = False,
):
    """End (if still open) and wrap up the conversation; the agent's capacity is freed.

    With ``after_contact`` the agent goes into after-contact work for the queue's time limit, then
    back to available; otherwise they stay as they are and the router may offer them work at once.
    """
    from engagement.conversations.services import conversation_end

    # Checked on the row as it is now (locked), not on the caller's copy: a conversation transferred
    # meanwhile is no longer this agent's to end.
    conversation = Conversation.objects.select_for_update(of=("self",)).get(pk=conversation.pk)
    require_handling_agent(actor, conversation)
    code = WrapUpCode.objects.filter(code=wrap_up_code, is_active=True).first()
    if code is None:
        raise ValidationFailed(
            "Choose a wrap-up code.",
            fields={"wrap_up_code": "Unknown wrap-up code." if wrap_up_code else "Required."},
        )
    if len(notes) > 10_000:
        raise ValidationFailed("Notes are at most 10,000 characters.", fields={"notes": "Too long."})
    if conversation.status == ConversationStatus.ENDED:
        interaction = conversation.interaction
        if interaction is not None:
            interaction_wrap_up(
                actor=actor, interaction=interaction, wrap_up_code=code.code, disposition=disposition, notes=notes
            )
    else:
        interaction = conversation_end(
            actor=actor, conversation=conversation, wrap_up_code=code.code, disposition=disposition, notes=notes
        )
    item = (
        WorkItem.objects.select_for_update(of=("self",))
        .select_related("queue")
        .filter(conversation=conversation, status__in=(WorkStatus.ASSIGNED, WorkStatus.WRAP_UP))
        .first()
    )
    if item is None:
        return interaction
    agent = AgentProfile.objects.select_for_update(of=("self",)).get(pk=item.agent_id)
    now = timezone.now()
    work_release(item=item, agent=agent, status=WorkStatus.DONE, now=now)
    if after_contact and agent.presence == Presence.AVAILABLE:
        from datetime import timedelta

        presence_change_locked(
            profile=agent,
            presence=Presence.AFTER_CONTACT,
            reason=None,
            cause="wrap_up",
            now=now,
            until=now + timedelta(seconds=item.queue.after_contact_seconds),
        )
    else:
        kick_on_commit(agent_ids=[agent.pk])
    return interaction


@transaction.atomic
def conversation_transfer(
    *, actor, conversation: Conversation, to_queue: Queue | None = None, to_agent=None, note: str = ""
) -> WorkItem:
    """Hand an active conversation to another queue or a named agent, with a note in its context."""
    if (to_queue is None) == (to_agent is None):
        raise ValidationFailed("Transfer to a queue or to an agent.", fields={"to": "Choose one."})
    if len(note) > 2000:
        raise ValidationFailed("The note is at most 2,000 characters.", fields={"note": "Too long."})
    # Checked on the row as it is now (locked), not on the caller's copy.
    conversation = Conversation.objects.select_for_update(of=("self",)).get(pk=conversation.pk)
    require_handling_agent(actor, conversation)
    target = None
    if to_agent is not None:
        if to_agent.pk == conversation.agent_id:
            raise ValidationFailed("The conversation is already with this agent.", fields={"to_agent": "Same agent."})
        if not to_agent.is_active:
            raise ValidationFailed("This agent's account is not active.", fields={"to_agent": "Inactive."})
        target = agent_profile_for(to_agent)
    if to_queue is not None and not to_queue.is_active:
        raise ValidationFailed("This queue is closed.", fields={"to_queue": "Inactive queue."})
    if conversation.status != ConversationStatus.ACTIVE:
        raise Conflict("Only a conversation with an agent can be transferred.", code="not_active")
    item = (
        WorkItem.objects.select_for_update(of=("self",))
        .select_related("queue")
        .filter(conversation=conversation, status=WorkStatus.ASSIGNED)
        .first()
    )
    now = timezone.now()
    if item is not None:
        agent = AgentProfile.objects.select_for_update(of=("self",)).get(pk=item.agent_id)
        work_release(item=item, agent=agent, status=WorkStatus.TRANSFERRED, now=now)
        kick_on_commit(agent_ids=[agent.pk])
    queue = to_queue or (item.queue if item is not None else None)
    conversation.agent = None
    conversation.status = ConversationStatus.QUEUED
    if queue is not None:
        conversation.queue = queue.name
    conversation.save(update_fields=["agent", "status", "queue", "updated_at"])
    new_item = work_enqueue(
        conversation=conversation,
        queue=queue,
        queue_name=conversation.queue,
        target_agent=target,
        transferred_from=item,
        note=note,
        now=now,
    )
    who = (to_agent.get_full_name() or to_agent.username) if to_agent is not None else (queue.label or queue.name)
    conversation_announce(
        conversation=conversation,
        body="You are being transferred. Please stay with us.",
        payload={"event": "transfer", "to": who},
        context={
            "transfer": {
                "from_agent": actor.get_full_name() or actor.username,
                "to": who,
                "note": note,
                "at": now.isoformat(),
            }
        },
    )
    return new_item
