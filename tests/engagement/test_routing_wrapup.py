"""Wrap-up: the agent records the outcome, their capacity is freed, after-contact work if they ask for it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cea.common.errors import PermissionDenied, ValidationFailed
from engagement.conversations.models import ConversationStatus
from engagement.orchestration import conversation_end, conversation_transfer, conversation_wrap_up
from engagement.routing import engine
from engagement.routing.models import AgentProfile, Presence, PresenceChange, WorkItem, WorkStatus, WrapUpCode
from engagement.routing.offers import offer_accept
from engagement.routing.presence import presence_sweep
from tests.engagement.factories import QueueFactory, RoutableAgentFactory
from tests.engagement.routing_support import fresh, pending_offer, waiting

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routing_env")]


@pytest.fixture
def queue():
    return QueueFactory(name="support", after_contact_seconds=90)


@pytest.fixture
def handled(queue, agent):
    """A chat ``agent`` accepted."""
    RoutableAgentFactory(user=agent)
    item = waiting(queue)
    engine.dispatch_queue(queue.pk)
    offer_accept(actor=agent, offer_id=pending_offer(item).pk)
    return fresh(item)


def test_wrapping_up_ends_the_conversation_records_the_outcome_and_frees_the_agent(handled, agent, queue):
    """The interaction carries code, disposition and notes; the item is done; the agent can take work at once."""
    # Given
    next_item = waiting(queue)
    # When
    interaction = conversation_wrap_up(
        actor=agent, conversation=handled.conversation, wrap_up_code="resolved", disposition="refund", notes="Done."
    )
    # Then
    assert (interaction.wrap_up_code, interaction.disposition, interaction.wrap_up_notes) == (
        "resolved",
        "refund",
        "Done.",
    )
    assert (interaction.agent, interaction.queue) == (agent, "support")
    item = fresh(handled)
    assert (item.status, item.ended_at is not None) == (WorkStatus.DONE, True)
    assert fresh(handled.conversation).status == ConversationStatus.ENDED
    profile = fresh(agent.routing_profile)
    assert (profile.load_units, profile.presence) == (0, Presence.AVAILABLE)
    assert engine.route_agent(profile.pk).work_item_id == next_item.pk


def test_a_conversation_the_customer_ended_is_wrapped_up_on_its_interaction(handled, agent):
    """The customer hung up first: the work waits in wrap-up holding capacity; wrapping up fills in the
    interaction already recorded and frees the agent."""
    # Given
    recorded = conversation_end(actor=None, conversation=handled.conversation)
    assert (fresh(handled).status, fresh(agent.routing_profile).load_units) == (WorkStatus.WRAP_UP, 1)
    # When
    interaction = conversation_wrap_up(
        actor=agent, conversation=handled.conversation, wrap_up_code="follow_up", notes="Call back Monday."
    )
    # Then
    assert interaction.pk == recorded.pk
    interaction.refresh_from_db()
    assert (interaction.wrap_up_code, interaction.wrap_up_notes) == ("follow_up", "Call back Monday.")
    assert (fresh(handled).status, fresh(agent.routing_profile).load_units) == (WorkStatus.DONE, 0)


def test_after_contact_work_follows_a_wrap_up_for_the_queue_s_time_then_ends_by_timer(handled, agent, queue):
    """``after_contact``: no new work for the queue's 90 s, then the sweep makes the agent available."""
    # Given
    waiting(queue)
    # When
    conversation_wrap_up(actor=agent, conversation=handled.conversation, wrap_up_code="resolved", after_contact=True)
    # Then
    profile = fresh(agent.routing_profile)
    assert profile.presence == Presence.AFTER_CONTACT
    assert profile.after_contact_until == profile.presence_since + timedelta(seconds=90)
    assert PresenceChange.objects.filter(agent=profile).first().cause == "wrap_up"
    assert engine.dispatch_queue(queue.pk) == 0
    # When
    presence_sweep(now=profile.after_contact_until)
    # Then
    assert fresh(profile).presence == Presence.AVAILABLE
    assert engine.dispatch_queue(queue.pk) == 1


def test_a_wrap_up_needs_a_known_active_code_and_short_notes(handled, agent):
    """No code, an unknown one, an inactive one or notes over 10,000 characters: refused, nothing changes."""
    # Given
    WrapUpCode.objects.filter(code="complaint").update(is_active=False)
    cases = [
        ({"wrap_up_code": ""}, "wrap_up_code", "Required."),
        ({"wrap_up_code": "nope"}, "wrap_up_code", "Unknown wrap-up code."),
        ({"wrap_up_code": "complaint"}, "wrap_up_code", "Unknown wrap-up code."),
        ({"wrap_up_code": "resolved", "notes": "x" * 10_001}, "notes", "Too long."),
    ]
    for arguments, field, message in cases:
        # When
        with pytest.raises(ValidationFailed) as refused:
            conversation_wrap_up(actor=agent, conversation=handled.conversation, **arguments)
        # Then
        assert refused.value.fields == {field: [message]}
    assert fresh(handled).status == WorkStatus.ASSIGNED


def test_only_the_handling_agent_or_a_supervisor_wraps_up(handled, agent_b, supervisor):
    """Another agent is refused; a supervisor may wrap up for the agent."""
    # Given / When / Then
    with pytest.raises(PermissionDenied):
        conversation_wrap_up(actor=agent_b, conversation=handled.conversation, wrap_up_code="resolved")
    conversation_wrap_up(actor=supervisor, conversation=handled.conversation, wrap_up_code="no_action")
    assert fresh(handled).status == WorkStatus.DONE


def test_an_agent_free_again_counts_as_idle_from_the_end_of_their_last_contact(team_a):
    """Longest idle: an agent who just finished a long call goes after one who has been free for 10 minutes."""
    # Given: "long" got a call 30 minutes ago and has just finished it; "free" has been idle 10 minutes
    queue = QueueFactory(name="calls")
    long = RoutableAgentFactory(username="long", teams=[team_a], idle_minutes=40)
    call = waiting(queue, channel="voice")
    engine.dispatch_queue(queue.pk)
    offer_accept(actor=long.user, offer_id=pending_offer(call).pk)
    free = RoutableAgentFactory(username="free", teams=[team_a], idle_minutes=10)
    AgentProfile.objects.filter(pk=long.pk).update(idle_since=fresh(free).idle_since - timedelta(minutes=20))
    conversation_wrap_up(actor=long.user, conversation=call.conversation, wrap_up_code="resolved")
    # When
    next_call = waiting(queue, channel="voice")
    engine.dispatch_queue(queue.pk)
    # Then
    assert pending_offer(next_call).agent == free
    assert WorkItem.objects.get(pk=call.pk).status == WorkStatus.DONE


def test_a_wrap_up_from_a_stale_page_after_a_transfer_is_refused(handled, agent, supervisor):
    """The agent's page still shows the conversation as theirs, but a supervisor has transferred it: the
    wrap-up is refused and the customer keeps waiting in the queue (not ended as abandoned)."""
    # Given: the agent's copy, taken before the transfer
    stale = fresh(handled.conversation)
    conversation_transfer(actor=supervisor, conversation=stale, to_queue=QueueFactory(name="elsewhere"))
    assert stale.agent_id == agent.pk  # the copy has not changed
    # When / Then
    with pytest.raises(PermissionDenied):
        conversation_wrap_up(actor=agent, conversation=stale, wrap_up_code="resolved")
    assert fresh(stale).status == ConversationStatus.QUEUED
    assert WorkItem.objects.get(conversation=stale, status=WorkStatus.WAITING).queue.name == "elsewhere"
