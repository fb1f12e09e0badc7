"""An offer's life: accepted, rejected, timed out, rescinded when the customer leaves; conflicts and permissions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cea.common.errors import Conflict, NotFound, PermissionDenied
from engagement.access import access_conversation
from engagement.context.models import ContextScope
from engagement.context.services import context_read
from engagement.conversations.models import ConversationStatus
from engagement.conversations.services import conversation_start
from engagement.orchestration import conversation_end, conversation_escalate, conversation_wrap_up
from engagement.routing import engine
from engagement.routing.models import (
    AgentProfile,
    Offer,
    OfferStatus,
    Presence,
    PresenceChange,
    WorkItem,
    WorkStatus,
)
from engagement.routing.offers import offer_accept, offer_expire, offer_reject, offers_expire_due
from engagement.routing.presence import presence_set
from engagement.routing.sweep import routing_sweep
from tests.engagement.factories import QueueFactory, RoutableAgentFactory
from tests.engagement.routing_support import fresh, pending_offer, waiting
from tests.support import make_customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routing_env")]


@pytest.fixture
def queue():
    return QueueFactory(name="support")


@pytest.fixture
def first(team_a):
    """The agent idle longest: offered first."""
    return RoutableAgentFactory(username="first", teams=[team_a], idle_minutes=30)


@pytest.fixture
def second(team_a):
    return RoutableAgentFactory(username="second", teams=[team_a], idle_minutes=10)


@pytest.fixture
def offered(queue, first):
    """A chat that waited 12 s, offered to ``first``."""
    item = waiting(queue, age_seconds=12)
    engine.dispatch_queue(queue.pk)
    offer = pending_offer(item)
    assert offer.agent == first
    return offer


# --- Accept -----------------------------------------------------------------------------------


def test_accepting_makes_the_conversation_the_agent_s_and_tells_the_customer(
    offered, first, django_capture_on_commit_callbacks
):
    """The item is assigned with its wait, the conversation is active with the agent, a system message
    says they joined and the context records agent, queue and wait."""
    # Given: the offer
    # When
    with django_capture_on_commit_callbacks(execute=True):
        conversation = offer_accept(actor=first.user, offer_id=offered.pk)
    # Then
    item = fresh(offered.work_item)
    assert (fresh(offered).status, item.status, item.agent) == (OfferStatus.ACCEPTED, WorkStatus.ASSIGNED, first)
    assert 12 <= item.wait_seconds < 20
    conversation.refresh_from_db()
    assert (conversation.status, conversation.agent, conversation.queue) == ("active", first.user, "support")
    assert conversation.answered_at == item.assigned_at
    joined = conversation.messages.get(payload__event="agent_joined")
    assert joined.author_kind == "system" and "has joined the conversation" in joined.body
    values = context_read(scope=ContextScope.CONVERSATION, context_id=conversation.pk).values
    assert values["agent"]["id"] == first.user.pk
    assert values["queue"] == "support"
    assert values["wait_seconds"] == round(item.wait_seconds, 1)
    # The capacity reserved by the offer stays with the accepted work.
    assert fresh(first).load_units == 1


def test_accepting_by_the_string_id_a_client_sends_works(offered, first):
    """API clients pass ids as text: ``"42"`` is the offer 42."""
    # Given / When
    offer_accept(actor=first.user, offer_id=str(offered.pk))
    # Then
    assert fresh(offered).status == OfferStatus.ACCEPTED


# --- Reject -----------------------------------------------------------------------------------


def test_a_rejected_offer_goes_to_the_next_agent_and_never_back(offered, queue, first, second):
    """The item waits again, the next dispatch offers it to ``second``; ``first`` is never offered it again."""
    # Given: the offer to first
    # When
    offer_reject(actor=first.user, offer_id=offered.pk, reason="on a call")
    # Then
    item = fresh(offered.work_item)
    assert (fresh(offered).status, fresh(offered).reason, item.status, item.agent) == (
        OfferStatus.REJECTED,
        "on a call",
        WorkStatus.WAITING,
        None,
    )
    assert fresh(first).load_units == 0
    # When
    engine.dispatch_queue(queue.pk)
    # Then
    again = pending_offer(item)
    assert again.agent == second
    # When: second rejects too, leaving no one who has not declined
    offer_reject(actor=second.user, offer_id=again.pk)
    # Then: neither direction of routing brings it back to either of them
    assert engine.dispatch_queue(queue.pk) == 0
    assert engine.route_agent(first.pk) is None
    assert engine.route_agent(second.pk) is None
    assert Offer.objects.filter(work_item=item).count() == 2
    assert fresh(item).status == WorkStatus.WAITING
    assert fresh(again).reason == "rejected"


@pytest.mark.django_db(transaction=True)
def test_a_rejection_triggers_routing_to_the_next_agent_after_commit(eager_tasks, routing_defaults, team_a):
    """Through the Celery trigger (eager here): rejecting is enough for the next agent to get the offer."""
    # Given
    queue = QueueFactory(name="support")
    first = RoutableAgentFactory(username="first", teams=[team_a], idle_minutes=30)
    second = RoutableAgentFactory(username="second", teams=[team_a], idle_minutes=10)
    item = waiting(queue)  # escalating kicked the router: first has the offer
    offer = pending_offer(item)
    assert offer.agent == first
    # When
    offer_reject(actor=first.user, offer_id=offer.pk)
    # Then
    assert pending_offer(item).agent == second


# --- Time-out ---------------------------------------------------------------------------------


def test_an_offer_nobody_answers_times_out_and_sets_the_agent_away_for_a_missed_offer(offered, queue, first, second):
    """Past ``offer_timeout_seconds`` the offer times out; the queue sets the agent away (missed offer)."""
    # Given
    expiry = offered.expires_at
    assert expiry - offered.offered_at == timedelta(seconds=queue.offer_timeout_seconds)
    # When: the sweep runs a moment before, then just after the expiry
    before = offers_expire_due(now=expiry - timedelta(seconds=1))
    after = offers_expire_due(now=expiry + timedelta(seconds=1))
    # Then
    assert (before, after) == (0, 1)
    offer = fresh(offered)
    assert (offer.status, offer.reason) == (OfferStatus.TIMED_OUT, "no answer")
    profile = fresh(first)
    assert (profile.presence, profile.reason.code, profile.load_units) == (Presence.AWAY, "missed_offer", 0)
    change = PresenceChange.objects.filter(agent=first).first()
    assert (change.presence, change.cause, change.ended_at) == (Presence.AWAY, "missed_offer", None)
    assert fresh(offered.work_item).status == WorkStatus.WAITING
    # When: the agent comes back; the item still never goes back to them
    engine.dispatch_queue(queue.pk)
    # Then
    assert pending_offer(offered.work_item).agent == second


def test_a_queue_may_leave_the_agent_available_after_a_missed_offer(first, second):
    """``unavailable_on_timeout`` off: the offer times out but the agent stays available."""
    # Given
    relaxed = QueueFactory(name="relaxed", unavailable_on_timeout=False)
    item = waiting(relaxed)
    engine.dispatch_queue(relaxed.pk)
    offer = pending_offer(item)
    # When
    expired = offer_expire(offer_id=offer.pk, now=offer.expires_at)
    # Then
    assert expired is True
    profile = fresh(offer.agent)
    assert (profile.presence, profile.load_units) == (Presence.AVAILABLE, 0)
    assert fresh(offer).status == OfferStatus.TIMED_OUT
    # When: the same time-out again does nothing
    assert offer_expire(offer_id=offer.pk, now=offer.expires_at) is False


def test_a_missed_offer_also_returns_the_agent_s_other_pending_offers(queue, first, second):
    """Going away for a missed offer rescinds the agent's other pending offers: their items wait again."""
    # Given: first has two offers (capacity 4), one of them expiring
    one, other = waiting(queue, age_seconds=2), waiting(queue, age_seconds=1)
    AgentProfile.objects.filter(pk=second.pk).update(presence=Presence.OFFLINE)
    engine.dispatch_queue(queue.pk)
    expiring, kept = pending_offer(one), pending_offer(other)
    assert expiring.agent == kept.agent == first
    # When
    offer_expire(offer_id=expiring.pk, now=expiring.expires_at + timedelta(seconds=1))
    # Then
    assert (fresh(expiring).status, fresh(kept).status) == (OfferStatus.TIMED_OUT, OfferStatus.RESCINDED)
    assert fresh(kept).reason == "agent went away"
    assert (fresh(one).status, fresh(other).status, fresh(first).load_units) == ("waiting", "waiting", 0)


def test_the_routing_sweep_times_out_due_offers_and_offers_the_work_again(offered, second):
    """The periodic sweep expires the offer and, in the same pass, offers the item to the next agent."""
    # Given: the offer's time is up
    Offer.objects.filter(pk=offered.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    # When
    done = routing_sweep()
    # Then
    assert (done["offers_expired"], done["offers"]) == (1, 1)
    assert fresh(offered).status == OfferStatus.TIMED_OUT
    assert pending_offer(offered.work_item).agent == second


# --- The customer leaves ----------------------------------------------------------------------


def test_a_customer_who_leaves_while_waiting_is_abandoned(queue):
    """``conversation_end`` by nobody while the item waits: abandoned, with the wait, disposition "abandoned"."""
    # Given
    item = waiting(queue, age_seconds=42)
    # When
    interaction = conversation_end(actor=None, conversation=item.conversation)
    # Then
    item = fresh(item)
    assert item.status == WorkStatus.ABANDONED
    assert 42 <= item.wait_seconds < 50
    assert item.ended_at == interaction.ended_at
    assert interaction.disposition == "abandoned"
    assert interaction.context_snapshot["abandoned"] is True
    assert fresh(item.conversation).status == ConversationStatus.ENDED


def test_a_customer_who_leaves_while_offered_rescinds_the_offer(offered, first):
    """The pending offer is rescinded ("customer left"), the agent's capacity returns, the item is abandoned."""
    # Given: the offer to first
    # When
    interaction = conversation_end(actor=None, conversation=offered.work_item.conversation)
    # Then
    offer = fresh(offered)
    assert (offer.status, offer.reason) == (OfferStatus.RESCINDED, "customer left")
    assert fresh(offered.work_item).status == WorkStatus.ABANDONED
    assert fresh(first).load_units == 0
    assert interaction.disposition == "abandoned"
    # And the agent can no longer take it
    with pytest.raises(Conflict) as conflict:
        offer_accept(actor=first.user, offer_id=offered.pk)
    assert conflict.value.code == "offer_rescinded"


def test_a_conversation_ended_with_an_agent_is_not_abandoned(offered, first):
    """Once answered, ending the conversation puts the work into wrap-up, capacity still held."""
    # Given
    offer_accept(actor=first.user, offer_id=offered.pk)
    # When
    interaction = conversation_end(actor=None, conversation=offered.work_item.conversation)
    # Then
    assert fresh(offered.work_item).status == WorkStatus.WRAP_UP
    assert interaction.disposition == ""
    assert fresh(first).load_units == 1


# --- Conflicts and permissions ----------------------------------------------------------------


def test_accepting_a_timed_out_offer_is_a_409_conflict(offered, first):
    """An offer that timed out cannot be accepted: ``Conflict`` (409), code ``offer_timed_out``, nothing changes."""
    # Given
    offer_expire(offer_id=offered.pk, now=offered.expires_at)
    # When
    with pytest.raises(Conflict) as conflict:
        offer_accept(actor=first.user, offer_id=offered.pk)
    # Then
    assert (conflict.value.status_code, conflict.value.code) == (409, "offer_timed_out")
    assert fresh(offered.work_item).status == WorkStatus.WAITING
    assert fresh(offered.work_item.conversation).agent is None


def test_an_offer_past_its_expiry_cannot_be_accepted_even_before_the_sweep_records_it(offered, first):
    """The desktop's countdown reached zero: the late click is a conflict, and the sweep still times it out."""
    # Given: the expiry has passed, the sweep has not run
    Offer.objects.filter(pk=offered.pk).update(expires_at=timezone.now() - timedelta(milliseconds=1))
    # When
    with pytest.raises(Conflict) as conflict:
        offer_accept(actor=first.user, offer_id=offered.pk)
    # Then
    assert conflict.value.code == "offer_timed_out"
    assert (fresh(offered).status, fresh(offered.work_item).status) == (OfferStatus.PENDING, WorkStatus.OFFERED)
    assert offers_expire_due() == 1
    assert fresh(offered).status == OfferStatus.TIMED_OUT


@pytest.mark.parametrize(
    ("first_answer", "second_answer", "code"),
    [
        ("accept", "accept", "offer_accepted"),
        ("accept", "reject", "offer_accepted"),
        ("reject", "accept", "offer_rejected"),
        ("reject", "reject", "offer_rejected"),
    ],
)
def test_an_offer_is_answered_once(offered, first, first_answer, second_answer, code):
    """A second answer (a double click, a second tab) is a conflict naming how the offer ended."""
    # Given
    answer = {"accept": offer_accept, "reject": offer_reject}
    answer[first_answer](actor=first.user, offer_id=offered.pk)
    load = fresh(first).load_units
    # When
    with pytest.raises(Conflict) as conflict:
        answer[second_answer](actor=first.user, offer_id=offered.pk)
    # Then
    assert conflict.value.code == code
    assert fresh(first).load_units == load


def test_another_agent_s_offer_cannot_be_answered(offered, second):
    """Accepting or rejecting an offer made to someone else is ``PermissionDenied``; it stays pending."""
    # Given: the offer to first
    for answer in (offer_accept, offer_reject):
        # When
        with pytest.raises(PermissionDenied):
            answer(actor=second.user, offer_id=offered.pk)
    # Then
    assert fresh(offered).status == OfferStatus.PENDING


@pytest.mark.parametrize("offer_id", [10**9, "abc", "-1", "١٢"])
def test_an_unknown_offer_is_not_found(first, offer_id):
    """Unknown or malformed ids are ``NotFound``."""
    # Given / When / Then
    with pytest.raises(NotFound):
        offer_accept(actor=first.user, offer_id=offer_id)


def test_the_offered_agent_may_see_the_conversation_even_outside_its_team(queue, team_b, agent_b):
    """A queue without a team may offer a team A customer to a team B agent: the offer lets them see it."""
    # Given
    RoutableAgentFactory(user=agent_b)
    conversation_customer = make_customer(team=None)
    item = waiting(queue, customer=conversation_customer)
    assert item.conversation.team is None
    # When
    engine.dispatch_queue(queue.pk)
    offer = pending_offer(item)
    # Then
    assert offer.agent.user == agent_b
    assert access_conversation(agent_b, item.conversation.pk) == item.conversation
    # When: the offer ends, so does the access
    offer_reject(actor=agent_b, offer_id=offer.pk)
    # Then
    with pytest.raises(PermissionDenied):
        access_conversation(agent_b, item.conversation.pk)


def test_work_items_of_one_conversation_are_one_at_a_time(queue):
    """Escalating a waiting conversation again keeps its item (a second would break the one-open rule)."""
    # Given
    item = waiting(queue)
    # When
    again = engine.work_enqueue(conversation=item.conversation, queue_name="support")
    # Then
    assert again.pk == item.pk
    assert WorkItem.objects.filter(conversation=item.conversation).count() == 1


def test_a_customer_who_left_before_the_recorded_queueing_waited_0_seconds(queue):
    """A channel may report an end time earlier than the item's queueing: the wait is 0, never negative."""
    # Given
    item = waiting(queue)
    # When
    conversation_end(actor=None, conversation=item.conversation, ended_at=item.enqueued_at - timedelta(seconds=5))
    # Then
    assert (fresh(item).status, fresh(item).wait_seconds) == (WorkStatus.ABANDONED, 0.0)


@pytest.mark.django_db(transaction=True)
def test_an_agent_left_available_after_a_time_out_is_asked_for_other_work(eager_tasks, routing_defaults, team_a):
    """The capacity a time-out gives back is used at once, for work of any of the agent's queues."""
    # Given: an agent with room for one chat, offered one from a lenient queue, while another queue's
    # chat waits
    lenient = QueueFactory(name="lenient", unavailable_on_timeout=False)
    other = QueueFactory(name="other")
    agent = RoutableAgentFactory(username="solo", teams=[team_a], capacity_units=1)
    offered = waiting(lenient)
    offer = pending_offer(offered)
    other_chat = waiting(other)
    assert fresh(other_chat).status == WorkStatus.WAITING
    # When
    offer_expire(offer_id=offer.pk, now=offer.expires_at)
    # Then
    assert pending_offer(other_chat).agent == agent


@pytest.mark.django_db(transaction=True)
def test_from_escalation_to_wrap_up_through_the_triggers(eager_tasks, routing_defaults, agent):
    """End to end with Celery (eager_tasks): escalating offers the chat to the available agent, who accepts and
    wraps up; the wrap-up frees them and the next waiting chat is offered to them at once."""
    # Given
    presence_set(actor=agent, agent_user=agent, presence="available")
    AgentProfile.objects.filter(user=agent).update(capacity_units=1)
    conversation, _ = conversation_start(channel="chat", visitor="v1")
    later, _ = conversation_start(channel="chat", visitor="v2")
    # When
    conversation_escalate(conversation=conversation)
    conversation_escalate(conversation=later)
    offer = Offer.objects.get(status=OfferStatus.PENDING)
    offer_accept(actor=agent, offer_id=offer.pk)
    interaction = conversation_wrap_up(actor=agent, conversation=conversation, wrap_up_code="resolved")
    # Then
    assert (offer.work_item.conversation_id, interaction.wrap_up_code) == (conversation.pk, "resolved")
    assert WorkItem.objects.get(conversation=conversation).status == WorkStatus.DONE
    next_offer = Offer.objects.get(status=OfferStatus.PENDING)
    assert (next_offer.work_item.conversation_id, next_offer.agent.user) == (later.pk, agent)
    assert AgentProfile.objects.get(user=agent).load_units == 1
