"""A work item's and an offer's life after a decision: close an offer, release work, kick the router.

The bottom of routing: the decision engine, offers, presence, the sweep and the orchestration of
a conversation's hand-offs (``engagement.orchestration``) all end offers and work through here,
and ask for routing after commit with ``kick_on_commit``.

The router's tasks are sent by their registered names (``ROUTE_QUEUE_TASK``,
``ROUTE_AGENT_TASK``, which ``engagement/routing/tasks.py`` registers): the tasks call the engine
and the sweep, which build on this module, so importing the tasks here would make a cycle.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from celery import signature
from django.db.models import F

from cea.common.tasks import send_on_commit
from engagement.conversations.models import Conversation
from engagement.routing.live import push_to_agent, routing_changed_on_commit
from engagement.routing.models import OPEN_WORK, AgentProfile, Offer, OfferStatus, WorkItem, WorkStatus

ROUTE_QUEUE_TASK = "engagement.routing.route_queue"
ROUTE_AGENT_TASK = "engagement.routing.route_agent"


def kick_on_commit(
    *, queue_ids: Iterable[int] = (), agent_ids: Iterable[int] = (), countdown: float | None = None
) -> None:
    """After commit, ask Celery to route these queues and these agents (``countdown`` seconds later).

    A signature is made for each send: a signature keeps the task it first resolved, and the
    task is looked up by name in the app that is current when it is sent.
    """
    queues, agents = sorted(set(queue_ids)), sorted(set(agent_ids))
    if queues or agents:
        routing_changed_on_commit()  # work joined or went back to a queue, or an agent became free
    for queue_id in queues:
        send_on_commit(signature(ROUTE_QUEUE_TASK), queue_id, countdown=countdown)
    for agent_id in agents:
        send_on_commit(signature(ROUTE_AGENT_TASK), agent_id, countdown=countdown)


def offer_close(*, offer: Offer, item: WorkItem, agent: AgentProfile, status: str, reason: str, now: datetime) -> None:
    """End a pending offer; the caller holds the item's and the agent's locks.

    Rejected, timed-out and rescinded offers give the agent's capacity back and put the item back
    to waiting (a transfer to a named agent, or a preferred one, falls back to its queue). Accepted offers keep both.
    """
    offer.status = status
    offer.ended_at = now
    offer.reason = reason[:200]
    offer.save(update_fields=["status", "ended_at", "reason"])
    if status != OfferStatus.ACCEPTED:
        AgentProfile.objects.filter(pk=agent.pk).update(load_units=F("load_units") - item.units)
        agent.load_units = max(0, agent.load_units - item.units)
        item.status = WorkStatus.WAITING
        item.agent = None
        item.offered_at = None
        item.target_agent = None
        item.target_until = None
        item.save(update_fields=["status", "agent", "offered_at", "target_agent", "target_until"])
    push_to_agent(agent.user_id, {"type": "offer.ended", "offer": offer.pk, "status": status, "reason": reason})


def work_release(*, item: WorkItem, agent: AgentProfile, status: str, now: datetime) -> None:
    """Close assigned work (done or transferred) and give the agent's capacity back; rows are locked."""
    item.status = status
    item.ended_at = now
    item.save(update_fields=["status", "ended_at"])
    agent.load_units = max(0, agent.load_units - item.units)
    if agent.load_units == 0:
        # Free again: longest idle counts from the end of their last contact, not from when it began.
        agent.idle_since = now
        AgentProfile.objects.filter(pk=agent.pk).update(load_units=F("load_units") - item.units, idle_since=now)
    else:
        AgentProfile.objects.filter(pk=agent.pk).update(load_units=F("load_units") - item.units)
    push_to_agent(agent.user_id, {"type": "work.ended", "conversation": item.conversation_id, "status": status})


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
        if item.status == WorkStatus.OFFERED and item.agent_id is not None:  # an offer has its agent
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
        routing_changed_on_commit()
        return WorkStatus.ABANDONED
    if item.status == WorkStatus.ASSIGNED and item.agent_id is not None:  # assigned work has its agent
        item.status = WorkStatus.WRAP_UP
        item.save(update_fields=["status"])
        agent = AgentProfile.objects.get(pk=item.agent_id)
        push_to_agent(agent.user_id, {"type": "work.wrap_up", "conversation": conversation.pk})
    return item.status
