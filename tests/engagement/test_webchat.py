"""The web chat widget's websocket: chatting, live replies, duplicates, resume, refusals, errors, flooding."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from cea.common.channels import Direction
from engagement.context.services import context_read, context_resolve
from engagement.conversations.models import AuthorKind, Conversation, Message
from engagement.conversations.services import message_add
from engagement.orchestration import conversation_end, conversation_escalate
from engagement.selfservice.words import HANDOVER_SAY
from engagement.webchat.consumers import WebchatConsumer
from engagement.webchat.models import SiteKey
from engagement.webchat.services import visitor_from_token, visitor_token_issue
from tests.engagement.factories import SiteKeyFactory
from tests.engagement.websockets import QUIET, accepted, closed_with, isolated_redis, receive, run, widget

# The answer to each message (engagement.webchat.answer) runs at once, in the consumer's thread, as a
# worker would run it moments later (tests/engagement/test_webchat_answer.py: the task itself).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]

SHOP = "https://shop.example"


@pytest.fixture(autouse=True)
def _redis(settings):
    yield from isolated_redis(settings)


@pytest.fixture
def site(team_a) -> SiteKey:
    return SiteKeyFactory(name="Northwind", allowed_origins=[SHOP], queue="web-chat", team=team_a, greeting="Hi there!")


@pytest.fixture
def selfservice_calls(monkeypatch) -> list[tuple[int, int]]:
    """Self-service replaced by a recorder: these tests are about the widget's protocol."""
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(
        "engagement.webchat.services.selfservice_answer_pending",
        lambda *, conversation, up_to_message_id: calls.append((conversation.pk, up_to_message_id)) or [],
    )
    return calls


def agent_says(conversation_id: int, body: str, **fields) -> Message:
    conversation = Conversation.objects.get(pk=conversation_id)
    message, _ = message_add(
        conversation=conversation, direction=Direction.OUTBOUND, author_kind=AuthorKind.AGENT, body=body, **fields
    )
    return message


def shown(message: Message, **extra) -> dict:
    """A message as the widget must get it."""
    return {
        "id": message.pk,
        "author_kind": message.author_kind,
        "author_name": message.author_name,
        "body": message.body,
        "sent_at": message.sent_at.isoformat(),
        **extra,
    }


async def open_chat(site: SiteKey, **kwargs):
    communicator = await accepted(widget(site.key, **kwargs))
    welcome = await receive(communicator, "welcome")
    return communicator, welcome


async def say(communicator, client_id: str, body: str) -> dict:
    await communicator.send_json_to({"type": "message", "client_id": client_id, "body": body})
    return await receive(communicator)


# --- Chatting -------------------------------------------------------------------------------


def test_a_visitor_opens_a_chat_sends_a_message_and_gets_an_ack(site, selfservice_calls):
    async def scenario():
        # When
        communicator, welcome = await open_chat(
            site, page="https://shop.example/boots?size=9&ref=ann%40example.com#top"
        )
        ack = await say(communicator, "c-1", "  Where is my order?  ")
        echo = await receive(communicator, "message")
        # Then
        visitor = await database_sync_to_async(visitor_from_token)(site=site, token=welcome["visitor"])
        assert visitor is not None
        assert welcome == {
            "type": "welcome",
            "visitor": welcome["visitor"],
            "conversation": None,
            "status": None,
            "site": "Northwind",
            "greeting": "Hi there!",
            "max_body": 2000,
        }
        conversation = await database_sync_to_async(Conversation.objects.get)()
        message = await database_sync_to_async(Message.objects.get)()
        assert ack == {"type": "ack", "client_id": "c-1", "id": message.pk, "conversation": conversation.pk}
        assert echo == {"type": "message", "message": shown(message, client_id="c-1")}  # its own: its client id
        assert (conversation.channel, conversation.external_id, conversation.visitor) == (
            "chat",
            f"webchat:{visitor}:1",
            visitor,
        )
        assert (conversation.queue, conversation.team_id, conversation.status) == (
            "web-chat",
            site.team_id,
            "self_service",
        )
        assert (message.body, message.external_id, message.direction, message.author_kind) == (
            "Where is my order?",
            f"{visitor}:c-1",
            "inbound",
            "customer",
        )
        assert selfservice_calls == [(conversation.pk, message.pk)]
        context = await database_sync_to_async(context_read)(scope="conversation", context_id=conversation.pk)
        assert {k: context.values[k] for k in ("channel", "webchat_site", "webchat_origin", "webchat_page")} == {
            "channel": "chat",
            "webchat_site": "Northwind",
            "webchat_origin": SHOP,
            "webchat_page": "https://shop.example/boots",
        }
        assert await database_sync_to_async(context_resolve)(alias=f"webchat:{visitor}") == (
            "conversation",
            str(conversation.pk),
        )

    run(scenario)


def test_an_agent_reply_arrives_live_but_internal_notes_and_system_events_do_not(site, selfservice_calls):
    async def scenario():
        # Given
        communicator, _ = await open_chat(site)
        ack = await say(communicator, "c-1", "Hello")
        await receive(communicator, "message")
        # When
        await database_sync_to_async(agent_says)(ack["conversation"], "Note: VIP", payload={"internal": True})
        await database_sync_to_async(message_add)(
            conversation=await database_sync_to_async(Conversation.objects.get)(pk=ack["conversation"]),
            direction=Direction.INBOUND,
            author_kind=AuthorKind.SYSTEM,
            body="Routed to web-chat",
        )
        reply = await database_sync_to_async(agent_says)(ack["conversation"], "Hi, I'm Sam.", author_name="Sam")
        # Then
        assert await receive(communicator) == {"type": "message", "message": shown(reply)}
        assert shown(reply)["author_name"] == "Sam"
        assert await communicator.receive_nothing(timeout=QUIET)

    run(scenario)


def test_the_same_client_id_sent_twice_makes_one_message(site, selfservice_calls):
    async def scenario():
        # Given
        communicator, _ = await open_chat(site)
        first = await say(communicator, "c-1", "Hello")
        await receive(communicator, "message")
        # When: the widget resends it (it never saw the ack)
        again = await say(communicator, "c-1", "Hello")
        # Then
        assert again == first
        assert await communicator.receive_nothing(timeout=QUIET)
        assert await database_sync_to_async(Message.objects.count)() == 1

    run(scenario)


def test_a_reconnecting_widget_gets_exactly_the_messages_it_missed(site, selfservice_calls):
    async def scenario():
        # Given: a chat, then the network drops
        communicator, welcome = await open_chat(site)
        ack = await say(communicator, "c-1", "Is the jacket waterproof?")
        await receive(communicator, "message")
        await communicator.disconnect()
        conversation_id = ack["conversation"]
        # While offline: two replies and an internal note
        first = await database_sync_to_async(agent_says)(conversation_id, "Yes, fully.", author_name="Sam")
        await database_sync_to_async(agent_says)(conversation_id, "Gold customer", payload={"internal": True})
        second = await database_sync_to_async(agent_says)(conversation_id, "Anything else?", author_name="Sam")
        # When: the widget comes back with its token and the last id it saw
        communicator, again = await open_chat(site, token=welcome["visitor"])
        await communicator.send_json_to({"type": "resume", "after": ack["id"]})
        history = await receive(communicator, "history")
        # Then
        assert (again["visitor"], again["conversation"], again["status"]) == (
            welcome["visitor"],
            conversation_id,
            "self_service",
        )
        assert history == {
            "type": "history",
            "conversation": conversation_id,
            "after": ack["id"],
            "messages": [shown(first), shown(second)],
            "more": False,
        }
        # And: a reload asks for everything; its own message carries its client id
        await communicator.send_json_to({"type": "resume", "after": 0})
        everything = await receive(communicator, "history")
        own = await database_sync_to_async(Message.objects.get)(pk=ack["id"])
        assert everything["messages"] == [shown(own, client_id="c-1"), shown(first), shown(second)]
        # And: a message still unacknowledged is resent and stored once
        resent = await say(communicator, "c-2", "Thanks")
        assert resent["conversation"] == conversation_id
        await receive(communicator, "message")
        assert await say(communicator, "c-2", "Thanks") == resent
        assert await database_sync_to_async(Message.objects.filter(author_kind="customer").count)() == 2

    run(scenario)


def test_a_forged_or_foreign_token_gets_a_new_visitor(site, selfservice_calls, team_a):
    other = SiteKeyFactory(name="Other", allowed_origins=[SHOP])
    _, foreign = visitor_token_issue(site=other)

    async def scenario():
        for token in ("abc:forged", foreign):
            # When
            communicator, welcome = await open_chat(site, token=token)
            # Then
            assert welcome["visitor"] != token
            assert welcome["conversation"] is None
            assert await database_sync_to_async(visitor_from_token)(site=site, token=welcome["visitor"])
            await communicator.disconnect()

    run(scenario)


def test_two_visitors_never_see_each_others_messages(site, selfservice_calls):
    async def scenario():
        # Given
        alice, _ = await open_chat(site)
        bob, _ = await open_chat(site)
        alice_ack = await say(alice, "a-1", "Alice here")
        await receive(alice, "message")
        # When
        bob_ack = await say(bob, "b-1", "Bob here")
        await database_sync_to_async(agent_says)(alice_ack["conversation"], "Hello Alice")
        # Then
        assert bob_ack["conversation"] != alice_ack["conversation"]
        assert (await receive(bob, "message"))["message"]["body"] == "Bob here"
        assert await bob.receive_nothing(timeout=QUIET)
        assert (await receive(alice, "message"))["message"]["body"] == "Hello Alice"

    run(scenario)


# --- Refusals -------------------------------------------------------------------------------


REFUSED = [
    ("https://evil.example", "site", "origin_not_allowed"),
    ("http://shop.example", "site", "origin_not_allowed"),
    ("https://shop.example:8443", "site", "origin_not_allowed"),
    ("https://www.shop.example", "site", "origin_not_allowed"),
    ("null", "site", "origin_not_allowed"),
    ("", "site", "origin_not_allowed"),
    (SHOP, "site_unknown", "unknown_site_key"),
    (SHOP, "inactive", "unknown_site_key"),
]


def test_a_connection_from_another_origin_or_with_an_unknown_or_inactive_key_is_refused(site, caplog):
    inactive = SiteKeyFactory(name="Old shop", allowed_origins=[SHOP], is_active=False)

    async def scenario():
        outcomes = []
        for origin, key, _ in REFUSED:
            # When
            communicator = widget({"site": site.key, "inactive": inactive.key}.get(key, key), origin=origin)
            with caplog.at_level(logging.WARNING, logger="engagement.webchat"):
                await communicator.connect(timeout=5)
                error = await receive(communicator, "error")
                outcomes.append((origin, key, error["code"], await closed_with(communicator)))
        # Then
        assert outcomes == [(origin, key, code, 4403) for origin, key, code in REFUSED]
        assert caplog.text.count("Web chat connection refused") == len(REFUSED)
        assert await database_sync_to_async(Conversation.objects.count)() == 0

    run(scenario)


def test_an_origin_with_the_default_port_written_out_matches(site, selfservice_calls):
    async def scenario():
        # When
        _, welcome = await open_chat(site, origin="https://SHOP.example:443")
        # Then
        assert welcome["type"] == "welcome"

    run(scenario)


# --- Errors ---------------------------------------------------------------------------------


BAD_FRAMES = [
    ("{not json", "bad_json"),
    ("[1, 2]", "bad_frame"),
    ('{"type": "dance"}', "unknown_type"),
    ('{"type": ["message"]}', "unknown_type"),
    ('{"type": "message", "client_id": "c-1", "body": "   "}', "empty_body"),
    ('{"type": "message", "client_id": "c-1", "body": "' + "x" * 2001 + '"}', "body_too_long"),
    ('{"type": "message", "client_id": "c-1", "body": 42}', "invalid_body"),
    ('{"type": "message", "client_id": "c-1", "body": "a\\u0000b"}', "invalid_body"),
    ('{"type": "message", "client_id": "no spaces", "body": "hi"}', "invalid_client_id"),
    ('{"type": "message", "body": "hi"}', "invalid_client_id"),
    ('{"type": "resume", "after": "ten"}', "invalid_after"),
    ('{"type": "resume", "after": -1}', "invalid_after"),
    ('{"type": "end"}', "no_conversation"),
    ("x" * 16_001, "frame_too_large"),
]


def test_bad_frames_get_error_frames_and_the_chat_goes_on(site, selfservice_calls):
    async def scenario():
        # Given
        communicator, _ = await open_chat(site)
        codes = []
        for frame, _ in BAD_FRAMES:
            # When
            await communicator.send_to(text_data=frame)
            error = await receive(communicator, "error")
            assert isinstance(error["message"], str) and error["message"]
            codes.append(error["code"])
        # Then
        assert codes == [code for _, code in BAD_FRAMES]
        await communicator.send_json_to({"type": "ping"})
        assert await receive(communicator) == {"type": "pong"}
        assert await database_sync_to_async(Message.objects.count)() == 0
        assert await database_sync_to_async(Conversation.objects.count)() == 0

    run(scenario)


def test_a_binary_frame_gets_an_error_frame(site, selfservice_calls):
    async def scenario():
        communicator, _ = await open_chat(site)
        # When
        await communicator.send_to(bytes_data=b"\x00\x01")
        # Then
        assert (await receive(communicator, "error"))["code"] == "bad_frame"

    run(scenario)


def test_a_message_to_an_ended_conversation_is_refused(site, selfservice_calls):
    async def scenario():
        # Given: the agent ends the chat
        communicator, _ = await open_chat(site)
        ack = await say(communicator, "c-1", "Thanks, bye")
        await receive(communicator, "message")
        conversation = await database_sync_to_async(Conversation.objects.get)(pk=ack["conversation"])
        await database_sync_to_async(conversation_end)(actor=None, conversation=conversation)
        assert await receive(communicator) == {"type": "status", "conversation": conversation.pk, "status": "ended"}
        # When
        error = await say(communicator, "c-2", "One more thing")
        # Then
        assert (error["type"], error["code"], error["client_id"]) == ("error", "conversation_ended", "c-2")
        assert await database_sync_to_async(Message.objects.count)() == 1

    run(scenario)


def test_the_visitor_ends_the_chat_and_starts_a_new_one(site, selfservice_calls):
    async def scenario():
        # Given
        communicator, welcome = await open_chat(site)
        first = await say(communicator, "c-1", "Hello")
        await receive(communicator, "message")
        # When: ending, then restarting
        await communicator.send_json_to({"type": "restart"})
        refused = await receive(communicator, "error")
        await communicator.send_json_to({"type": "end"})
        status = await receive(communicator, "status")
        await communicator.send_json_to({"type": "restart"})
        restarted = await receive(communicator)
        second = await say(communicator, "c-2", "Hello again")
        # Then
        visitor = await database_sync_to_async(visitor_from_token)(site=site, token=welcome["visitor"])
        assert refused["code"] == "conversation_open"
        assert status == {"type": "status", "conversation": first["conversation"], "status": "ended"}
        assert restarted == {"type": "restarted"}
        assert second["conversation"] != first["conversation"]
        ended = await database_sync_to_async(Conversation.objects.get)(pk=first["conversation"])
        new = await database_sync_to_async(Conversation.objects.get)(pk=second["conversation"])
        assert (ended.status, ended.interaction_id is not None) == ("ended", True)
        assert (new.external_id, new.status) == (f"webchat:{visitor}:2", "self_service")

    run(scenario)


def test_flooding_is_rate_limited(site, selfservice_calls, monkeypatch):
    # Given: three messages at once, none refilled during the test
    monkeypatch.setattr(WebchatConsumer, "message_burst", 3)
    monkeypatch.setattr(WebchatConsumer, "messages_per_second", 0)

    async def scenario():
        communicator, _ = await open_chat(site)
        # When
        frames = []
        for number in range(1, 5):
            frames.append(await say(communicator, f"c-{number}", f"Message {number}"))
            if frames[-1]["type"] == "ack":
                await receive(communicator, "message")
        # Then
        assert [frame["type"] for frame in frames] == ["ack", "ack", "ack", "error"]
        assert (frames[3]["code"], frames[3]["client_id"]) == ("rate_limited", "c-4")
        assert await database_sync_to_async(Message.objects.count)() == 3

    run(scenario)


def test_frames_beyond_the_connection_budget_are_refused_then_the_socket_is_closed(site, monkeypatch):
    # Given: two frames at once, none refilled, and closing after two refusals in a row
    monkeypatch.setattr(WebchatConsumer, "frame_burst", 2)
    monkeypatch.setattr(WebchatConsumer, "frames_per_second", 0)
    monkeypatch.setattr(WebchatConsumer, "max_refused_in_a_row", 2)

    async def scenario():
        communicator, _ = await open_chat(site)
        # When
        replies = []
        for _ in range(4):
            await communicator.send_json_to({"type": "ping"})
            replies.append(await receive(communicator))
        await communicator.send_json_to({"type": "ping"})
        # Then
        assert [reply.get("code", reply["type"]) for reply in replies] == [
            "pong",
            "pong",
            "rate_limited",
            "rate_limited",
        ]
        assert await closed_with(communicator) == 4429

    run(scenario)


# --- With self-service ----------------------------------------------------------------------


def test_self_service_answers_the_visitor_live_and_hands_over(site):
    async def scenario():
        # Given
        communicator, _ = await open_chat(site)
        # When
        ack = await say(communicator, "c-1", "I want to talk to an agent")
        echo = await receive(communicator, "message")
        bot = await receive(communicator, "message")
        status = await receive(communicator, "status")
        # Then
        assert (ack["type"], echo["message"]["id"]) == ("ack", ack["id"])
        assert (bot["message"]["author_kind"], bot["message"]["body"]) == ("bot", HANDOVER_SAY)
        assert status == {"type": "status", "conversation": ack["conversation"], "status": "queued"}
        conversation = await database_sync_to_async(Conversation.objects.get)(pk=ack["conversation"])
        assert (conversation.status, conversation.queue) == ("queued", "web-chat")

    run(scenario)


def test_self_service_failing_hands_the_chat_to_an_agent(site, monkeypatch, caplog):
    def broken(*, conversation, up_to_message_id):
        raise RuntimeError("flow engine down")

    monkeypatch.setattr("engagement.webchat.services.selfservice_answer_pending", broken)

    async def scenario():
        communicator, _ = await open_chat(site)
        # When
        with caplog.at_level(logging.ERROR, logger="engagement.webchat"):
            ack = await say(communicator, "c-1", "Hello")
            await receive(communicator, "message")
            status = await receive(communicator, "status")
        # Then
        assert status == {"type": "status", "conversation": ack["conversation"], "status": "queued"}
        assert "Self-service failed on conversation" in caplog.text

    run(scenario)


def test_an_escalation_reaches_the_widget_as_a_status(site, selfservice_calls):
    async def scenario():
        communicator, _ = await open_chat(site)
        ack = await say(communicator, "c-1", "Hello")
        await receive(communicator, "message")
        conversation = await database_sync_to_async(Conversation.objects.get)(pk=ack["conversation"])
        # When
        await database_sync_to_async(conversation_escalate)(conversation=conversation)
        # Then
        assert await receive(communicator) == {"type": "status", "conversation": conversation.pk, "status": "queued"}

    run(scenario)


def test_a_chat_that_ended_over_an_hour_ago_is_not_resumed(site, selfservice_calls):
    async def scenario():
        # Given
        communicator, welcome = await open_chat(site)
        ack = await say(communicator, "c-1", "Hello")
        await communicator.disconnect()
        conversation = await database_sync_to_async(Conversation.objects.get)(pk=ack["conversation"])
        await database_sync_to_async(conversation_end)(
            actor=None, conversation=conversation, ended_at=timezone.now() - timedelta(hours=2)
        )
        # When
        communicator, again = await open_chat(site, token=welcome["visitor"])
        # Then
        assert (again["visitor"], again["conversation"], again["status"]) == (welcome["visitor"], None, None)

    run(scenario)
