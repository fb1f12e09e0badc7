"""Live context over ws/context/: authentication, origin, per-object permissions, pushes after commit."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.db import transaction

from cea.common.channels import Direction
from engagement.context.services import context_write, context_write_on_commit
from engagement.conversations.models import AuthorKind, Conversation
from engagement.conversations.services import conversation_start, message_add, message_json
from engagement.orchestration import conversation_escalate
from tests.engagement.desktop_support import customer_says, customer_says_unpushed
from tests.engagement.websockets import (
    QUIET,
    closed_with,
    desktop,
    isolated_redis,
    receive,
    run,
    session_cookie,
    signed_in,
)
from tests.records.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _redis(settings):
    yield from isolated_redis(settings)


@pytest.fixture
def customers(team_a, team_b):
    return CustomerFactory(team=team_a), CustomerFactory(team=team_b)


def write(scope: str, context_id, values: dict, customer_id=None):
    return context_write(actor=None, scope=scope, context_id=context_id, values=values, customer_id=customer_id)


async def subscribe(communicator, scope: str, object_id, **extra) -> dict:
    await communicator.send_json_to({"action": "subscribe", "scope": scope, "id": object_id, **extra})
    return await receive(communicator)


# --- Connecting -----------------------------------------------------------------------------


def test_an_unauthenticated_connection_is_refused_with_4401():
    async def scenario():
        # When
        communicator = desktop()
        await communicator.connect(timeout=5)
        error = await receive(communicator, "error")
        # Then
        assert error["code"] == "not_authenticated"
        assert await closed_with(communicator) == 4401

    run(scenario)


def test_a_connection_from_another_site_is_refused(agent):
    async def scenario():
        # When
        communicator = desktop(await database_sync_to_async(session_cookie)(agent), origin="https://evil.example")
        connected, _ = await communicator.connect(timeout=5)
        # Then
        assert connected is False

    run(scenario)


# --- Subscribing ----------------------------------------------------------------------------


def test_subscribing_to_a_customer_of_ones_team_returns_the_current_context(agent, customers):
    customer_a, _ = customers
    write("customer", customer_a.pk, {"churn_risk": 0.72, "nba": "offer-upgrade"}, customer_id=customer_a.pk)

    async def scenario():
        communicator = await signed_in(agent)
        # When
        reply = await subscribe(communicator, "customer", customer_a.pk)
        # Then
        context = reply.pop("context")
        assert reply == {"type": "subscribed", "scope": "customer", "id": str(customer_a.pk)}
        assert (context["version"], context["values"], context["customer_id"]) == (
            1,
            {"churn_risk": 0.72, "nba": "offer-upgrade"},
            customer_a.pk,
        )
        assert sorted(context["expires_at"]) == ["churn_risk", "nba"]

    run(scenario)


def test_subscribing_to_another_teams_customer_is_refused_and_nothing_is_delivered(agent, customers):
    _, customer_b = customers

    async def scenario():
        communicator = await signed_in(agent)
        # When
        reply = await subscribe(communicator, "customer", customer_b.pk)
        await database_sync_to_async(write)("customer", customer_b.pk, {"secret": "x"}, customer_b.pk)
        # Then
        assert (reply["type"], reply["code"], reply["scope"], reply["id"]) == (
            "error",
            "forbidden",
            "customer",
            str(customer_b.pk),
        )
        assert await communicator.receive_nothing(timeout=QUIET)

    run(scenario)


BAD_SUBSCRIPTIONS = [
    ({"action": "subscribe", "scope": "customer", "id": 999999}, "not_found"),
    ({"action": "subscribe", "scope": "conversation", "id": 999999}, "not_found"),
    ({"action": "subscribe", "scope": "conversation_messages", "id": 999999}, "not_found"),
    ({"action": "subscribe", "scope": "orders", "id": 1}, "invalid_scope"),
    ({"action": "subscribe", "scope": "customer", "id": "1; drop"}, "invalid_id"),
    ({"action": "subscribe", "scope": "customer", "id": True}, "invalid_id"),
    ({"action": "subscribe", "scope": "customer", "id": 1, "after": "x"}, "invalid_after"),
    ({"action": "dance"}, "unknown_action"),
]


def test_bad_subscriptions_get_error_frames_and_the_socket_goes_on(agent):
    async def scenario():
        communicator = await signed_in(agent)
        codes = []
        for frame, _ in BAD_SUBSCRIPTIONS:
            # When
            await communicator.send_json_to(frame)
            codes.append((await receive(communicator, "error"))["code"])
        # Then
        assert codes == [code for _, code in BAD_SUBSCRIPTIONS]
        await communicator.send_json_to({"action": "ping"})
        assert await receive(communicator) == {"type": "pong"}

    run(scenario)


def test_an_admin_may_subscribe_to_any_team(admin_user, customers):
    _, customer_b = customers

    async def scenario():
        communicator = await signed_in(admin_user)
        # When
        reply = await subscribe(communicator, "customer", customer_b.pk)
        # Then
        assert (reply["type"], reply["context"]["version"]) == ("subscribed", 0)

    run(scenario)


# --- Pushes ---------------------------------------------------------------------------------


def test_a_context_change_arrives_after_commit_and_a_rolled_back_one_never(agent, customers):
    customer_a, _ = customers

    def rolled_back() -> None:
        with transaction.atomic():
            context_write_on_commit(
                actor=None, scope="customer", context_id=customer_a.pk, values={"mood": "angry"}, customer_id=None
            )
            transaction.set_rollback(True)

    def committed() -> None:
        with transaction.atomic():
            context_write_on_commit(
                actor=None,
                scope="customer",
                context_id=customer_a.pk,
                values={"mood": "happy"},
                customer_id=customer_a.pk,
            )

    async def scenario():
        communicator = await signed_in(agent)
        await subscribe(communicator, "customer", customer_a.pk)
        # When
        await database_sync_to_async(rolled_back)()
        await database_sync_to_async(committed)()
        # Then
        assert await receive(communicator) == {
            "type": "context.changed",
            "scope": "customer",
            "id": str(customer_a.pk),
            "version": 1,
            "values": {"mood": "happy"},
            "changed": ["mood"],
        }
        assert await communicator.receive_nothing(timeout=QUIET)

    run(scenario)


def test_a_customers_subscriber_also_gets_the_changes_of_that_customers_conversations(agent, customers):
    customer_a, customer_b = customers
    conversation_a, _ = conversation_start(channel="chat", customer=customer_a)
    conversation_b, _ = conversation_start(channel="chat", customer=customer_b)

    async def scenario():
        communicator = await signed_in(agent)
        await subscribe(communicator, "customer", customer_a.pk)
        # When
        await database_sync_to_async(write)("conversation", conversation_b.pk, {"intent": "b"}, customer_b.pk)
        changed = await database_sync_to_async(write)(
            "conversation", conversation_a.pk, {"intent": "billing"}, customer_a.pk
        )
        # Then
        frame = await receive(communicator, "context.changed")
        assert (frame["scope"], frame["id"], frame["version"], frame["changed"]) == (
            "conversation",
            str(conversation_a.pk),
            changed.version,
            ["intent"],
        )
        assert frame["values"]["intent"] == "billing"
        assert await communicator.receive_nothing(timeout=QUIET)

    run(scenario)


def test_after_unsubscribing_nothing_more_arrives(agent, customers):
    customer_a, _ = customers

    async def scenario():
        communicator = await signed_in(agent)
        await subscribe(communicator, "customer", customer_a.pk)
        # When
        await communicator.send_json_to({"action": "unsubscribe", "scope": "customer", "id": customer_a.pk})
        reply = await receive(communicator)
        await database_sync_to_async(write)("customer", customer_a.pk, {"mood": "calm"}, customer_a.pk)
        # Then
        assert reply == {"type": "unsubscribed", "scope": "customer", "id": str(customer_a.pk)}
        assert await communicator.receive_nothing(timeout=QUIET)

    run(scenario)


# --- Following a conversation's messages ----------------------------------------------------


def test_an_agent_follows_a_conversations_messages_and_status(agent, customers):
    customer_a, _ = customers
    conversation, _ = conversation_start(channel="chat", customer=customer_a)
    earlier, _ = message_add(
        conversation=conversation, direction=Direction.INBOUND, author_kind=AuthorKind.CUSTOMER, body="Hi"
    )

    def customer_writes() -> dict:
        message, _ = message_add(
            conversation=Conversation.objects.get(pk=conversation.pk),
            direction=Direction.INBOUND,
            author_kind=AuthorKind.CUSTOMER,
            body="My router is down",
        )
        return message_json(message=message)

    async def scenario():
        communicator = await signed_in(agent)
        # When
        reply = await subscribe(communicator, "conversation_messages", conversation.pk, after=0)
        sent = await database_sync_to_async(customer_writes)()
        pushed = await receive(communicator)
        await database_sync_to_async(conversation_escalate)(conversation=conversation)
        status = await receive(communicator)
        # Then
        assert reply == {
            "type": "subscribed",
            "scope": "conversation_messages",
            "id": str(conversation.pk),
            "messages": [message_json(message=earlier)],
            "more": False,
        }
        assert pushed == {"type": "conversation.message", "message": sent, "previous": earlier.pk}
        assert status == {"type": "conversation.status", "conversation": conversation.pk, "status": "queued"}

    run(scenario)


def test_following_another_teams_conversation_is_refused(agent, customers):
    _, customer_b = customers
    conversation, _ = conversation_start(channel="chat", customer=customer_b)

    async def scenario():
        communicator = await signed_in(agent)
        # When
        reply = await subscribe(communicator, "conversation_messages", conversation.pk)
        await database_sync_to_async(message_add)(
            conversation=conversation, direction=Direction.INBOUND, author_kind=AuthorKind.CUSTOMER, body="Hi"
        )
        # Then
        assert (reply["type"], reply["code"]) == ("error", "forbidden")
        assert await communicator.receive_nothing(timeout=QUIET)

    run(scenario)


def test_a_message_whose_push_was_lost_is_named_at_the_heartbeat_and_fetched_after_the_last_one_seen(
    agent, customers, settings
):
    # Given: an agent following a conversation of their team, and one of another team they may not follow
    settings.CEA_WS_ACCESS_RECHECK_SECONDS = 0
    customer_a, customer_b = customers
    conversation, _ = conversation_start(channel="chat", customer=customer_a)
    earlier, _ = message_add(
        conversation=conversation, direction=Direction.INBOUND, author_kind=AuthorKind.CUSTOMER, body="Hi"
    )
    foreign, _ = conversation_start(channel="chat", customer=customer_b)
    message_add(conversation=foreign, direction=Direction.INBOUND, author_kind=AuthorKind.CUSTOMER, body="Secret")

    async def scenario():
        communicator = await signed_in(agent)
        await subscribe(communicator, "conversation_messages", conversation.pk, after=0)
        await subscribe(communicator, "conversation_messages", foreign.pk)  # refused: another team's
        missed = await database_sync_to_async(customer_says_unpushed)(conversation, "Are you there?")
        assert await communicator.receive_nothing(timeout=QUIET)
        # When: the desk's heartbeat
        await communicator.send_json_to({"action": "ping"})
        pong = await receive(communicator, "pong")
        # And: the client, showing less than the latest, follows again from the last message it has
        fetched = await subscribe(communicator, "conversation_messages", conversation.pk, after=earlier.pk)
        # Then: the heartbeat named the followed conversation's latest message, and nothing of the other team's
        assert pong == {"type": "pong", "latest": {str(conversation.pk): missed.pk}}
        assert [message["id"] for message in fetched["messages"]] == [missed.pk]

    run(scenario)


def test_a_pushed_message_names_the_one_before_it_so_a_lost_push_shows_before_the_heartbeat(agent, customers):
    # Given: an agent following a new conversation of their team
    customer_a, _ = customers
    conversation, _ = conversation_start(channel="chat", customer=customer_a)

    async def scenario():
        communicator = await signed_in(agent)
        await subscribe(communicator, "conversation_messages", conversation.pk, after=0)
        # When: the first message is pushed, the next one's push is lost, and a third is pushed
        await database_sync_to_async(customer_says)(conversation, "Hi")
        first = await receive(communicator)
        missed = await database_sync_to_async(customer_says_unpushed)(conversation, "Are you there?")
        await database_sync_to_async(customer_says)(conversation, "Hello?")
        third = await receive(communicator)
        # Then: the first names no message before it, and the third names the one the client never got
        assert (first["message"]["body"], first["previous"]) == ("Hi", None)
        assert (third["message"]["body"], third["previous"]) == ("Hello?", missed.pk)

    run(scenario)


def test_the_heartbeat_names_no_conversation_the_user_may_no_longer_see(agent, customers, settings, team_b):
    # Given: an agent following a conversation whose customer then moves to another team
    settings.CEA_WS_ACCESS_RECHECK_SECONDS = 0
    customer_a, _ = customers
    conversation, _ = conversation_start(channel="chat", customer=customer_a)
    message_add(conversation=conversation, direction=Direction.INBOUND, author_kind=AuthorKind.CUSTOMER, body="Hi")

    def moved() -> None:
        Conversation.objects.filter(pk=conversation.pk).update(team=team_b)
        customer_a.team = team_b
        customer_a.save(update_fields=["team"])

    async def scenario():
        communicator = await signed_in(agent)
        await subscribe(communicator, "conversation_messages", conversation.pk, after=0)
        await database_sync_to_async(moved)()
        # When
        await communicator.send_json_to({"action": "ping"})
        # Then: the subscription is dropped, and the answer names nothing
        unsubscribed = await receive(communicator, "unsubscribed")
        assert (unsubscribed["id"], unsubscribed["code"]) == (str(conversation.pk), "forbidden")
        assert await receive(communicator, "pong") == {"type": "pong"}

    run(scenario)
