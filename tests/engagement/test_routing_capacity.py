"""Capacity: a call takes 4 units, a chat 1; no agent passes their capacity; every ending gives it back."""

from __future__ import annotations

import pytest

from cea.common.channels import Channel
from engagement.orchestration import conversation_end, conversation_transfer, conversation_wrap_up
from engagement.routing import engine
from engagement.routing.models import ChannelLoad, Offer, OfferStatus, WorkItem, WorkStatus
from engagement.routing.offers import offer_accept, offer_expire, offer_reject
from engagement.routing.presence import presence_set
from tests.engagement.factories import QueueFactory, RoutableAgentFactory
from tests.engagement.routing_support import fresh, loaded_units, pending_offer, waiting

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routing_env")]


@pytest.fixture
def queue():
    return QueueFactory(name="support")


def test_a_call_takes_4_units_and_a_chat_or_an_email_1():
    """The default channel loads (migration 0003): voice 4, every other channel 1."""
    # Given
    queue = QueueFactory(name="any")
    # When
    units = {channel: waiting(queue, channel=channel).units for channel in (Channel.VOICE, Channel.CHAT, "email")}
    # Then
    assert units == {Channel.VOICE: 4, Channel.CHAT: 1, "email": 1}
    assert dict(ChannelLoad.objects.filter(channel__in=["voice", "chat"]).values_list("channel", "units")) == {
        "voice": 4,
        "chat": 1,
    }


def test_an_agent_with_capacity_4_gets_4_chats_and_no_more(queue, team_a):
    """Six chats wait, one agent: four are offered, two wait, and asking again offers nothing."""
    # Given
    agent = RoutableAgentFactory(username="solo", teams=[team_a], capacity_units=4)
    items = [waiting(queue, age_seconds=10 - n) for n in range(6)]
    # When
    offers = engine.dispatch_queue(queue.pk)
    # Then
    assert offers == 4
    assert fresh(agent).load_units == 4 == loaded_units(agent)
    assert [fresh(item).status for item in items] == ["offered"] * 4 + ["waiting"] * 2
    assert engine.route_agent(agent.pk) is None
    assert engine.dispatch_queue(queue.pk) == 0


def test_a_call_is_never_offered_to_an_agent_with_a_chat_until_the_chat_is_done(queue, team_a):
    """Capacity 4 with one chat leaves 3 units: a call (4) waits until the chat is wrapped up."""
    # Given: the agent has accepted a chat
    agent = RoutableAgentFactory(username="solo", teams=[team_a], capacity_units=4)
    chat = waiting(queue, age_seconds=5)
    engine.dispatch_queue(queue.pk)
    offer_accept(actor=agent.user, offer_id=pending_offer(chat).pk)
    call = waiting(queue, channel=Channel.VOICE, age_seconds=1)
    # When
    assert engine.dispatch_queue(queue.pk) == 0
    assert engine.route_agent(agent.pk) is None
    # Then
    assert (fresh(call).status, fresh(agent).load_units) == (WorkStatus.WAITING, 1)
    # When: the chat is done
    conversation_wrap_up(actor=agent.user, conversation=chat.conversation, wrap_up_code="resolved")
    offer = engine.route_agent(agent.pk)
    # Then: the call fills the agent, and a new chat has to wait
    assert offer.work_item_id == call.pk
    assert fresh(agent).load_units == 4 == loaded_units(agent)
    another = waiting(queue)
    assert engine.dispatch_queue(queue.pk) == 0
    assert fresh(another).status == WorkStatus.WAITING


def test_a_call_goes_to_the_agent_with_room_for_it(queue, team_a):
    """Of two agents, the one idle longer has a chat: the call goes to the other, who has 4 units free."""
    # Given
    busy = RoutableAgentFactory(username="busy", teams=[team_a], idle_minutes=60)
    free = RoutableAgentFactory(username="free", teams=[team_a], idle_minutes=1)
    chat = waiting(queue, age_seconds=5)
    engine.dispatch_queue(queue.pk)
    assert pending_offer(chat).agent == busy
    call = waiting(queue, channel=Channel.VOICE)
    # When
    engine.dispatch_queue(queue.pk)
    # Then
    assert pending_offer(call).agent == free
    assert (fresh(busy).load_units, fresh(free).load_units) == (1, 4)


def test_agents_take_only_their_channels(queue, team_a):
    """An agent for chat only is never offered a call, and one for calls only never a chat."""
    # Given
    chatter = RoutableAgentFactory(username="chatter", teams=[team_a], channels=(Channel.CHAT,), idle_minutes=60)
    caller = RoutableAgentFactory(username="caller", teams=[team_a], channels=(Channel.VOICE,), idle_minutes=1)
    call = waiting(queue, channel=Channel.VOICE, age_seconds=2)
    chat = waiting(queue, age_seconds=1)
    # When
    engine.dispatch_queue(queue.pk)
    # Then
    assert (pending_offer(call).agent, pending_offer(chat).agent) == (caller, chatter)
    # And an agent of other channels asking for work gets none
    emailer = RoutableAgentFactory(username="emailer", teams=[team_a], channels=("email",))
    waiting(queue)
    assert engine.route_agent(emailer.pk) is None


def test_an_edited_channel_load_is_what_new_work_takes(queue, team_a):
    """Emails made to take 2 units: an agent of capacity 3 takes one email and one chat, not two emails."""
    # Given
    ChannelLoad.objects.filter(channel="email").update(units=2)
    agent = RoutableAgentFactory(username="solo", teams=[team_a], capacity_units=3)
    emails = [waiting(queue, channel="email", age_seconds=9 - n) for n in range(2)]
    chat = waiting(queue, age_seconds=1)
    # When
    engine.dispatch_queue(queue.pk)
    # Then
    assert [fresh(email).status for email in emails] == ["offered", "waiting"]
    assert fresh(chat).status == "offered"
    assert fresh(agent).load_units == 3 == loaded_units(agent)


# --- Every ending gives the capacity back -----------------------------------------------------


def _reject(agent, item, offer):
    offer_reject(actor=agent.user, offer_id=offer.pk)


def _time_out(agent, item, offer):
    offer_expire(offer_id=offer.pk, now=offer.expires_at)


def _go_away(agent, item, offer):
    presence_set(actor=agent.user, agent_user=agent.user, presence="away", reason_code="lunch")


def _go_offline(agent, item, offer):
    presence_set(actor=agent.user, agent_user=agent.user, presence="offline")


def _customer_leaves(agent, item, offer):
    conversation_end(actor=None, conversation=item.conversation)


def _wrap_up(agent, item, offer):
    offer_accept(actor=agent.user, offer_id=offer.pk)
    conversation_wrap_up(actor=agent.user, conversation=item.conversation, wrap_up_code="resolved")


def _customer_leaves_then_wrap_up(agent, item, offer):
    offer_accept(actor=agent.user, offer_id=offer.pk)
    conversation_end(actor=None, conversation=item.conversation)
    assert fresh(agent).load_units == item.units  # held through wrap-up
    conversation_wrap_up(actor=agent.user, conversation=item.conversation, wrap_up_code="resolved")


def _transfer(agent, item, offer):
    offer_accept(actor=agent.user, offer_id=offer.pk)
    conversation_transfer(
        actor=agent.user, conversation=fresh(item.conversation), to_queue=QueueFactory(name="elsewhere")
    )


@pytest.mark.parametrize(
    "ending",
    [_reject, _time_out, _go_away, _go_offline, _customer_leaves, _wrap_up, _customer_leaves_then_wrap_up, _transfer],
)
@pytest.mark.parametrize("channel", [Channel.CHAT, Channel.VOICE])
def test_every_ending_of_an_offer_or_of_work_returns_the_load_to_0(queue, team_a, ending, channel):
    """Reject, time-out, going away or offline, the customer leaving, wrap-up, transfer: load back to 0."""
    # Given: an agent with one offer
    agent = RoutableAgentFactory(username="solo", teams=[team_a])
    item = waiting(queue, channel=channel)
    engine.dispatch_queue(queue.pk)
    offer = pending_offer(item)
    assert fresh(agent).load_units == item.units == (4 if channel == Channel.VOICE else 1)
    # When
    ending(agent, item, offer)
    # Then
    assert fresh(agent).load_units == 0 == loaded_units(agent)
    assert not Offer.objects.filter(agent=agent, status=OfferStatus.PENDING).exists()
    assert WorkItem.objects.get(pk=item.pk).agent_id in (None, agent.pk)


def test_work_nobody_can_take_does_not_hold_up_work_someone_can(queue, team_a, django_assert_max_num_queries):
    """Calls first in line that the only agent has no room for are passed over, cheaply, and the chats
    behind them are offered: one dispatch looks at each kind of requirement once, not at every item."""
    # Given: the agent has a chat (3 units left); 30 older calls wait before 2 chats
    agent = RoutableAgentFactory(username="solo", teams=[team_a])
    first_chat = waiting(queue, age_seconds=900)
    engine.dispatch_queue(queue.pk)
    offer_accept(actor=agent.user, offer_id=pending_offer(first_chat).pk)
    calls = [waiting(queue, channel=Channel.VOICE, age_seconds=600 - n) for n in range(30)]
    chats = [waiting(queue, age_seconds=10 - n) for n in range(2)]
    # When
    with django_assert_max_num_queries(40):
        offers = engine.dispatch_queue(queue.pk)
    # Then
    assert offers == 2
    assert [fresh(chat).status for chat in chats] == ["offered", "offered"]
    assert {fresh(call).status for call in calls} == {"waiting"}
    assert fresh(agent).load_units == 3 == loaded_units(agent)
