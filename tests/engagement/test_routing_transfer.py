"""Transfer: to another queue or to a named agent, with a note in the context the next agent reads."""

from __future__ import annotations

import pytest

from cea.common.errors import Conflict, PermissionDenied, ValidationFailed
from engagement.access import access_conversation
from engagement.context.models import ContextScope
from engagement.context.services import context_read
from engagement.conversations.models import ConversationStatus
from engagement.orchestration import conversation_transfer
from engagement.routing import engine
from engagement.routing.live import offer_json
from engagement.routing.models import OfferStatus, Presence, QueueFlowOut, WorkItem, WorkStatus
from engagement.routing.offers import offer_accept, offer_reject
from engagement.routing.presence import presence_set
from engagement.routing.priority import rank_of
from tests.accounts.factories import UserFactory
from tests.engagement.factories import QueueFactory, RoutableAgentFactory
from tests.engagement.routing_support import fresh, pending_offer, waiting
from tests.support import make_customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routing_env")]

NOTE = "Wants to dispute the March invoice; already verified by date of birth."


@pytest.fixture
def support(team_a):
    return QueueFactory(name="support", team=team_a)


@pytest.fixture
def handled(support, agent, team_a):
    """A team A customer's chat that waited 90 s and that ``agent`` accepted."""
    RoutableAgentFactory(user=agent, idle_minutes=60)
    item = waiting(support, customer=make_customer(team_a), age_seconds=90)
    engine.dispatch_queue(support.pk)
    offer_accept(actor=agent, offer_id=pending_offer(item).pk)
    return fresh(item)


def test_a_transfer_to_a_queue_moves_the_conversation_with_its_note(
    handled, agent, team_b, django_capture_on_commit_callbacks
):
    """The old work is transferred, the agent freed; a new item waits in the queue with the note, which the
    context and the next offer carry; the customer is told."""
    # Given
    billing = QueueFactory(name="billing", team=team_b)
    # When
    with django_capture_on_commit_callbacks(execute=True):
        new = conversation_transfer(actor=agent, conversation=handled.conversation, to_queue=billing, note=NOTE)
    # Then: the old item and the agent
    old = fresh(handled)
    assert (old.status, old.ended_at is not None) == (WorkStatus.TRANSFERRED, True)
    assert fresh(agent.routing_profile).load_units == 0
    # the new item ages from the first wait, but its own wait (reported) and the queue's rules start afresh
    assert (new.queue, new.status, new.transferred_from, new.note) == (billing, WorkStatus.WAITING, old, NOTE)
    assert new.rank == rank_of(
        priority=new.priority, ageing_per_minute=billing.ageing_per_minute, enqueued_at=old.enqueued_at
    )
    assert (new.enqueued_at == new.entered_queue_at, new.enqueued_at > old.enqueued_at, new.target_agent) == (
        True,
        True,
        None,
    )
    # the conversation
    conversation = fresh(handled.conversation)
    assert (conversation.status, conversation.agent, conversation.queue) == (ConversationStatus.QUEUED, None, "billing")
    assert not QueueFlowOut.objects.exists()  # it was answered in its queue: a transfer, not a flow-out
    told = conversation.messages.get(payload__event="transfer")
    assert (told.author_kind, told.payload["to"]) == ("system", "Billing")
    # the context
    transfer = context_read(scope=ContextScope.CONVERSATION, context_id=conversation.pk).values["transfer"]
    assert transfer["note"] == NOTE
    assert transfer["to"] == "Billing"
    assert transfer["from_agent"] == (agent.get_full_name() or agent.username)
    # When: a billing agent is offered it
    biller = RoutableAgentFactory(username="biller", teams=[team_b])
    engine.dispatch_queue(billing.pk)
    offer = pending_offer(new)
    # Then
    assert offer.agent == biller
    shown = offer_json(offer)
    assert (shown["note"], shown["transfer"]) == (NOTE, True)


def test_a_transfer_to_a_named_agent_outside_the_team_is_theirs_only(
    handled, agent, agent_b, support, team_a, django_capture_on_commit_callbacks
):
    """Only the named agent is offered it, whatever the queue's team; they may see the conversation."""
    # Given: agent_b is in team B; a team A colleague is free and idle longer
    target = RoutableAgentFactory(user=agent_b, idle_minutes=1)
    colleague = RoutableAgentFactory(username="colleague", teams=[team_a], idle_minutes=120)
    with pytest.raises(PermissionDenied):
        access_conversation(agent_b, handled.conversation.pk)
    # When
    with django_capture_on_commit_callbacks(execute=True):
        new = conversation_transfer(actor=agent, conversation=handled.conversation, to_agent=agent_b, note=NOTE)
    # Then: waiting for agent_b, who can already open the conversation and read the note
    assert (new.target_agent, new.queue) == (target, support)
    assert access_conversation(agent_b, handled.conversation.pk).pk == handled.conversation.pk
    values = context_read(scope=ContextScope.CONVERSATION, context_id=handled.conversation.pk).values
    assert values["transfer"]["note"] == NOTE
    # When
    engine.dispatch_queue(support.pk)
    # Then
    offer = pending_offer(new)
    assert offer.agent == target
    assert fresh(colleague).load_units == 0
    # When
    conversation = offer_accept(actor=agent_b, offer_id=offer.pk)
    # Then
    assert (conversation.agent, conversation.status) == (agent_b, ConversationStatus.ACTIVE)
    assert access_conversation(agent_b, conversation.pk).pk == conversation.pk


def test_the_named_agent_asking_for_work_gets_the_transfer_first(handled, agent, agent_b, support):
    """``route_agent``: a transfer by name goes before any other work the agent could take."""
    # Given
    target = RoutableAgentFactory(user=agent_b)
    shared = QueueFactory(name="shared")
    waiting(shared, age_seconds=3600)
    new = conversation_transfer(actor=agent, conversation=handled.conversation, to_agent=agent_b)
    # When
    offer = engine.route_agent(target.pk)
    # Then
    assert offer.work_item_id == new.pk


def test_a_transfer_the_named_agent_rejects_falls_back_to_the_queue(handled, agent, agent_b, support, team_a):
    """Rejected by the named agent, the item goes to the queue's agents, never back to them."""
    # Given
    RoutableAgentFactory(user=agent_b)
    colleague = RoutableAgentFactory(username="colleague", teams=[team_a])
    new = conversation_transfer(actor=agent, conversation=handled.conversation, to_agent=agent_b)
    engine.dispatch_queue(support.pk)
    # When
    offer_reject(actor=agent_b, offer_id=pending_offer(new).pk)
    engine.dispatch_queue(support.pk)
    # Then
    assert fresh(new).target_agent is None
    assert pending_offer(new).agent in (colleague, agent.routing_profile)
    assert pending_offer(new).agent.user != agent_b


@pytest.mark.parametrize(("presence", "reason"), [("offline", ""), ("away", "lunch")])
def test_a_transfer_to_an_agent_who_is_not_there_falls_back_to_the_queue(
    handled, agent, agent_b, support, team_a, presence, reason
):
    """A named agent offline or away would leave the customer waiting for ever: the queue takes it."""
    # Given
    RoutableAgentFactory(user=agent_b)
    colleague = RoutableAgentFactory(username="colleague", teams=[team_a])
    new = conversation_transfer(actor=agent, conversation=handled.conversation, to_agent=agent_b)
    presence_set(actor=agent_b, agent_user=agent_b, presence=presence, reason_code=reason)
    # When
    engine.dispatch_queue(support.pk)
    # Then
    assert fresh(new).target_agent is None
    assert pending_offer(new).agent in (colleague, agent.routing_profile)


def test_a_transfer_to_a_named_agent_who_is_busy_waits_for_them(handled, agent, agent_b, support, team_a):
    """Busy (or full) is temporary: the item keeps waiting for the named agent."""
    # Given
    RoutableAgentFactory(user=agent_b)
    RoutableAgentFactory(username="colleague", teams=[team_a])
    new = conversation_transfer(actor=agent, conversation=handled.conversation, to_agent=agent_b)
    presence_set(actor=agent_b, agent_user=agent_b, presence="busy")
    # When
    engine.dispatch_queue(support.pk)
    # Then
    assert (fresh(new).status, fresh(new).target_agent.user) == (WorkStatus.WAITING, agent_b)
    # When: they are back
    presence_set(actor=agent_b, agent_user=agent_b, presence="available")
    engine.dispatch_queue(support.pk)
    # Then
    assert pending_offer(new).agent.user == agent_b


def test_a_supervisor_may_transfer_a_conversation_of_their_team(handled, supervisor, team_b):
    """The handling agent's supervisor transfers it; the context names the supervisor."""
    # Given
    other = QueueFactory(name="other", team=team_b)
    # When
    new = conversation_transfer(actor=supervisor, conversation=handled.conversation, to_queue=other)
    # Then
    assert (new.queue, fresh(handled).status) == (other, WorkStatus.TRANSFERRED)


def test_transfers_that_make_no_sense_are_refused_and_change_nothing(handled, agent, agent_b, admin_user):
    """Neither or both targets, the same agent, an inactive agent, a closed queue, a long note: refused."""
    # Given
    closed = QueueFactory(name="closed", is_active=False)
    inactive = UserFactory(username="left")
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    cases = [
        ({}, ValidationFailed, "to"),
        ({"to_queue": QueueFactory(name="a"), "to_agent": agent_b}, ValidationFailed, "to"),
        ({"to_agent": agent}, ValidationFailed, "to_agent"),
        ({"to_agent": inactive}, ValidationFailed, "to_agent"),
        ({"to_queue": closed}, ValidationFailed, "to_queue"),
        ({"to_queue": QueueFactory(name="b"), "note": "x" * 2001}, ValidationFailed, "note"),
        ({"to_agent": admin_user}, PermissionDenied, None),
    ]
    for arguments, error, field in cases:
        # When
        with pytest.raises(error) as refused:
            conversation_transfer(actor=agent, conversation=handled.conversation, **arguments)
        # Then
        if field:
            assert list(refused.value.fields) == [field], arguments
    assert fresh(handled).status == WorkStatus.ASSIGNED
    assert WorkItem.objects.filter(conversation=handled.conversation).count() == 1


def test_only_the_handling_agent_or_a_supervisor_transfers(handled, agent_b):
    """Another agent may not transfer someone else's conversation."""
    # Given
    queue = QueueFactory(name="elsewhere")
    # When / Then
    with pytest.raises(PermissionDenied):
        conversation_transfer(actor=agent_b, conversation=handled.conversation, to_queue=queue)
    assert fresh(handled).status == WorkStatus.ASSIGNED


def test_only_an_active_conversation_is_transferred(support, supervisor):
    """A conversation still waiting has no agent to transfer from: ``Conflict`` (not_active)."""
    # Given
    item = waiting(support)
    # When / Then
    with pytest.raises(Conflict) as conflict:
        conversation_transfer(actor=supervisor, conversation=item.conversation, to_queue=QueueFactory(name="x"))
    assert conflict.value.code == "not_active"


def test_a_transferred_item_keeps_its_place_by_its_first_wait(handled, agent, support, team_a):
    """Ageing counts from the first wait: the transfer goes before a newer item of the same priority."""
    # Given: a new chat without a customer (lower priority) and one of the same priority, both newer
    newer = waiting(support, customer=make_customer(team_a, given_name="Newer"))
    new = conversation_transfer(actor=agent, conversation=handled.conversation, to_queue=support)
    presence_set(actor=agent, agent_user=agent, presence="offline")
    only = RoutableAgentFactory(username="only", teams=[team_a], capacity_units=1)
    # When
    engine.dispatch_queue(support.pk)
    # Then
    assert new.priority == fresh(newer).priority
    assert pending_offer(new).agent == only
    assert fresh(newer).status == WorkStatus.WAITING
    assert fresh(agent.routing_profile).presence == Presence.OFFLINE
    assert not fresh(new).offers.exclude(status=OfferStatus.PENDING).exists()
