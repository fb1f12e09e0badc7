"""Where a conversation and the router meet: escalate to a queue, transfer, wrap up, end, move or re-queue work.

Conversations (the funnel) know nothing of routing, and routing's modules only move work items,
offers and agents; the hand-offs that change both a conversation and its work live here, above
both, in one place. Every function takes the locks in the engine's order: conversation → work
item → agent.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from cea.accounts.models import User
from cea.accounts.types import Actor
from cea.common.errors import Conflict, ValidationFailed
from cea.common.pii import redact_text
from engagement.access import require_handling_agent
from engagement.backoffice.out_of_hours import out_of_hours_answer_on_commit
from engagement.context.models import ContextScope
from engagement.context.services import context_write_on_commit
from engagement.conversations.models import Conversation, ConversationStatus
from engagement.conversations.services import conversation_announce, conversation_close, conversation_status_push
from engagement.hooks import work_transferred_on_commit
from engagement.routing.engine import work_enqueue, work_queue_change
from engagement.routing.models import (
    AgentProfile,
    FlowOutReason,
    Offer,
    OfferStatus,
    Presence,
    Queue,
    WorkItem,
    WorkStatus,
    WrapUpCode,
)
from engagement.routing.presence import agent_profile_for, presence_change_locked
from engagement.routing.work import kick_on_commit, offer_close, work_on_conversation_end, work_release
from records.interactions.models import Interaction
from records.interactions.services import interaction_wrap_up


@transaction.atomic
def conversation_escalate(*, conversation: Conversation, queue: str = "", reason: str = "") -> Conversation:
    """Hand a conversation from self-service to the agents' queue; its context goes with it."""
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if conversation.status == ConversationStatus.ENDED:
        raise Conflict(f"Conversation {conversation.pk} has ended.", code="conversation_ended")
    if conversation.status in (ConversationStatus.QUEUED, ConversationStatus.ACTIVE):
        return conversation
    conversation.status = ConversationStatus.QUEUED
    conversation.escalated_at = timezone.now()
    conversation.queue = queue or conversation.queue
    conversation.save(update_fields=["status", "escalated_at", "queue", "updated_at"])
    work_enqueue(conversation=conversation, queue_name=conversation.queue)
    conversation_status_push(conversation=conversation)
    # A closed queue: told so on the contact's channel, after the contact's own message is kept.
    out_of_hours_answer_on_commit(conversation=conversation)
    context_write_on_commit(
        actor=None,
        scope=ContextScope.CONVERSATION,
        context_id=conversation.pk,
        source="selfservice",
        customer_id=conversation.customer_id,
        values={"escalation_reason": reason or "customer asked for an agent"},
    )
    return conversation


@transaction.atomic
def conversation_end(
    *,
    actor: Actor,
    conversation: Conversation,
    wrap_up_code: str = "",
    disposition: str = "",
    notes: str = "",
    ended_at: datetime | None = None,
) -> Interaction | None:
    """End a conversation and record it in records as an Interaction; ending twice returns the same one.

    Only its handling agent, a supervisor, an administrator, an integration client or the system
    (``actor=None``: the channel, self-service) may end it (``require_handling_agent``, checked
    on the locked row); anyone else gets ``PermissionDenied``. Work still waiting is abandoned;
    work with an agent goes to wrap-up.
    """
    conversation = (
        Conversation.objects.select_for_update(of=("self",)).select_related("customer").get(pk=conversation.pk)
    )
    require_handling_agent(actor, conversation, clients=True)
    if conversation.status == ConversationStatus.ENDED:
        return conversation.interaction
    ended_at = ended_at or timezone.now()
    abandoned = work_on_conversation_end(conversation=conversation, now=ended_at) == WorkStatus.ABANDONED
    return conversation_close(
        actor=actor,
        conversation=conversation,
        ended_at=ended_at,
        wrap_up_code=wrap_up_code,
        disposition=disposition or ("abandoned" if abandoned else ""),
        notes=notes,
        abandoned=abandoned,
    )


@transaction.atomic
def conversation_wrap_up(
    *,
    actor: Actor,
    conversation: Conversation,
    wrap_up_code: str,
    disposition: str = "",
    notes: str = "",
    after_contact: bool = False,
) -> Interaction | None:
    """End (if still open) and wrap up the conversation; the agent's capacity is freed.

    With ``after_contact`` the agent goes into after-contact work for the queue's time limit, then
    back to available; otherwise they stay as they are and the router may offer them work at once.
    """
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
    if item is None or item.agent_id is None:  # assigned work always has its agent
        return interaction
    agent = AgentProfile.objects.select_for_update(of=("self",)).get(pk=item.agent_id)
    now = timezone.now()
    work_release(item=item, agent=agent, status=WorkStatus.DONE, now=now)
    if after_contact and agent.presence == Presence.AVAILABLE:
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
    *,
    actor: Actor,
    conversation: Conversation,
    to_queue: Queue | None = None,
    to_agent: User | None = None,
    note: str = "",
) -> WorkItem:
    """Hand an active conversation to another queue or a named agent, with a note in its context.

    The note (kept on the new work item and in the context) is redacted (``cea.common.pii``) first.
    """
    note = redact_text(note)
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
    if item is not None and item.agent_id is not None:  # assigned work always has its agent
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
    if to_agent is not None:
        who = to_agent.get_full_name() or to_agent.username
    else:
        who = (queue.label or queue.name) if queue is not None else conversation.queue
    conversation_announce(
        conversation=conversation,
        body="You are being transferred. Please stay with us.",
        payload={"event": "transfer", "to": who},
        context={
            "transfer": {
                "from_agent": (actor.get_full_name() or actor.username) if isinstance(actor, User) else "",
                "to": who,
                "note": note,
                "at": now.isoformat(),
            }
        },
    )
    work_transferred_on_commit(conversation_id=conversation.pk)  # a call waits again (voice)
    return new_item


def _lock_work(item: WorkItem) -> tuple[Conversation, WorkItem]:
    """Lock the item's conversation, then the item (the engine's order), as they are now."""
    conversation = Conversation.objects.select_for_update(of=("self",)).get(pk=item.conversation_id)
    return conversation, WorkItem.objects.select_for_update(of=("self",)).select_related("queue").get(pk=item.pk)


@transaction.atomic
def work_move(*, item: WorkItem, to_queue: Queue) -> WorkItem:
    """Move waiting work to another queue; the conversation names its new queue.

    The item keeps its ageing (the customer's place by wait), the new queue's rules start afresh,
    as on an overflow. The caller checked who may (``engagement.access.access_supervised_work``).
    Work no longer waiting (offered, with an agent, ended) is a ``Conflict`` (``not_waiting``).
    """
    if not to_queue.is_active:
        raise ValidationFailed("This queue is closed.", fields={"to_queue": "Inactive queue."})
    conversation, item = _lock_work(item)
    if item.status != WorkStatus.WAITING:
        raise Conflict("Only waiting work can be moved; put it back to waiting first.", code="not_waiting")
    if item.queue_id == to_queue.pk:
        raise ValidationFailed("The work is already in this queue.", fields={"to_queue": "Same queue."})
    work_queue_change(item=item, queue=to_queue, now=timezone.now(), reason=FlowOutReason.MOVED)
    conversation.queue = to_queue.name
    conversation.save(update_fields=["queue", "updated_at"])
    return item


@transaction.atomic
def work_requeue(*, actor: Actor, item: WorkItem, note: str = "") -> WorkItem:
    """Put offered or assigned work back to waiting in its queue; returns the waiting item.

    An offer is rescinded (the agent's capacity comes back, the same item waits again); work with
    an agent is transferred back to its queue (``conversation_transfer``: the agent is freed, the
    customer told, ``note`` kept for the next agent). Waiting or wrapped-up work is a ``Conflict``
    (``not_requeueable``). The caller checked who may.
    """
    conversation, item = _lock_work(item)
    if item.status == WorkStatus.ASSIGNED:
        return conversation_transfer(actor=actor, conversation=conversation, to_queue=item.queue, note=note)
    if item.status != WorkStatus.OFFERED or item.agent_id is None:  # an offer has its agent
        raise Conflict("Only work offered to or with an agent can be put back to waiting.", code="not_requeueable")
    agent = AgentProfile.objects.select_for_update(of=("self",)).get(pk=item.agent_id)
    offer = Offer.objects.select_for_update(of=("self",)).get(work_item=item, status=OfferStatus.PENDING)
    offer_close(
        offer=offer,
        item=item,
        agent=agent,
        status=OfferStatus.RESCINDED,
        reason="put back to waiting by a supervisor",
        now=timezone.now(),
    )
    kick_on_commit(queue_ids=[item.queue_id], agent_ids=[agent.pk])
    return item
