"""Consumers' database calls run concurrently across connections, in order within one (cea/common/consumer_db.py).

A real PostgreSQL row lock, held by the test, blocks one visitor's message where it is stored
(``message_add`` locks the conversation row): meanwhile another visitor's message is acknowledged
and stored, and the blocked visitor's next frames wait their turn behind the first.
"""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from channels.db import database_sync_to_async
from django.db import connection

from engagement.conversations.models import Message
from engagement.webchat.models import SiteKey
from tests.engagement.factories import SiteKeyFactory
from tests.engagement.websockets import TIMEOUT, accepted, isolated_redis, receive, run, widget

pytestmark = pytest.mark.django_db(transaction=True)

SHOP = "https://shop.example"


@pytest.fixture(autouse=True)
def _redis(settings):
    yield from isolated_redis(settings)


@pytest.fixture
def site(team_a) -> SiteKey:
    return SiteKeyFactory.create(name="Northwind", allowed_origins=[SHOP], queue="web-chat", team=team_a)


@pytest.fixture(autouse=True)
def _no_selfservice(monkeypatch):
    """Self-service answers nothing here: these tests are about when messages are stored."""
    monkeypatch.setattr(
        "engagement.webchat.services.selfservice_answer_pending", lambda *, conversation, up_to_message_id: []
    )


def conninfo() -> str:
    """The test database, for connections of the test's own (not Django's)."""
    settings = connection.settings_dict
    return psycopg.conninfo.make_conninfo(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
    )


async def chatting(site: SiteKey, client_id: str):
    """A visitor with a conversation: their first message sent, acknowledged and echoed."""
    communicator = await accepted(widget(site.key, origin=SHOP))
    await receive(communicator, "welcome")
    await communicator.send_json_to({"type": "message", "client_id": client_id, "body": "Hello"})
    ack = await receive(communicator, "ack")
    await receive(communicator, "message")
    return communicator, ack["conversation"]


async def acks_until(communicator, client_ids: set[str]) -> list[dict]:
    """The frames up to the acks of all ``client_ids`` (echoes of the messages come in between)."""
    frames: list[dict] = []
    while client_ids - {frame.get("client_id") for frame in frames if frame["type"] == "ack"}:
        frames.append(await receive(communicator))
    return frames


async def blocked_by(locker: psycopg.AsyncConnection, watcher: psycopg.AsyncConnection) -> None:
    """Until some backend waits for a lock ``locker`` holds (a consumer's call is blocked on it)."""
    locker_pid = locker.info.backend_pid
    for _ in range(int(TIMEOUT / 0.02)):
        cursor = await watcher.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", [locker_pid]
        )
        row = await cursor.fetchone()
        if row is not None and row[0]:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("no consumer call came to wait for the test's lock")


def stored(conversation_id: int) -> list[str]:
    return list(
        Message.objects.filter(conversation_id=conversation_id).order_by("id").values_list("external_id", flat=True)
    )


def test_one_visitors_blocked_database_call_does_not_hold_another_visitors_ack_and_order_is_kept(site):
    async def scenario():
        # Given two visitors chatting
        anna, anna_chat = await chatting(site, "a-1")
        ben, ben_chat = await chatting(site, "b-1")
        locker = await psycopg.AsyncConnection.connect(conninfo())
        watcher = await psycopg.AsyncConnection.connect(conninfo(), autocommit=True)
        try:
            # and the test holding Anna's conversation row locked (as a long transaction would)
            await locker.execute("SELECT id FROM engagement_conversation WHERE id = %s FOR UPDATE", [anna_chat])
            # When Anna sends two messages, the first of which blocks on the lock where it is stored
            await anna.send_json_to({"type": "message", "client_id": "a-2", "body": "First"})
            await anna.send_json_to({"type": "message", "client_id": "a-3", "body": "Second"})
            await blocked_by(locker, watcher)
            # and Ben sends one meanwhile
            await ben.send_json_to({"type": "message", "client_id": "b-2", "body": "Still there?"})
            ben_frames = await acks_until(ben, {"b-2"})
            # Then Ben's message is acknowledged and stored while Anna's call is still blocked
            ben_ack = next(frame for frame in ben_frames if frame["type"] == "ack")
            assert ben_ack["conversation"] == ben_chat
            ben_stored = await database_sync_to_async(stored)(ben_chat)
            assert [external_id.rsplit(":", 1)[1] for external_id in ben_stored] == ["b-1", "b-2"]
            # and neither of Anna's messages is stored yet: her second waits behind her first
            anna_stored = await database_sync_to_async(stored)(anna_chat)
            assert [external_id.rsplit(":", 1)[1] for external_id in anna_stored] == ["a-1"]
            # When the lock is released
            await locker.rollback()
            anna_frames = await acks_until(anna, {"a-2", "a-3"})
        finally:
            await locker.close()
            await watcher.close()
        # Then Anna's messages are acknowledged and stored in the order she sent them
        anna_acks = [frame for frame in anna_frames if frame["type"] == "ack"]
        assert [ack["client_id"] for ack in anna_acks] == ["a-2", "a-3"]
        assert anna_acks[0]["id"] < anna_acks[1]["id"]
        anna_stored = await database_sync_to_async(stored)(anna_chat)
        assert [external_id.rsplit(":", 1)[1] for external_id in anna_stored] == ["a-1", "a-2", "a-3"]

    run(scenario)


def test_a_visitors_messages_sent_without_waiting_are_stored_in_the_order_sent(site):
    async def scenario():
        # Given a visitor chatting
        anna, anna_chat = await chatting(site, "a-0")
        # When they send five messages at once, without waiting for acks
        client_ids = [f"a-{number}" for number in range(1, 6)]
        for client_id in client_ids:
            await anna.send_json_to({"type": "message", "client_id": client_id, "body": f"Line {client_id}"})
        frames = await acks_until(anna, set(client_ids))
        # Then the acks come in that order, with growing ids, and the messages are stored in it
        acks = [frame for frame in frames if frame["type"] == "ack"]
        assert [ack["client_id"] for ack in acks] == client_ids
        assert [ack["id"] for ack in acks] == sorted(ack["id"] for ack in acks)
        anna_stored = await database_sync_to_async(stored)(anna_chat)
        assert [external_id.rsplit(":", 1)[1] for external_id in anna_stored] == ["a-0", *client_ids]

    run(scenario)


@pytest.mark.usefixtures("eager_tasks")
def test_the_customer_message_hooks_run_once_after_the_ack(site, monkeypatch):
    # Given a recorder as the only customer-message hook (insights' sentiment in the platform), run
    # by the answer task that the ack sends (here at once, in the consumer's thread)
    heard: list[int] = []
    monkeypatch.setattr("engagement.hooks._customer_message_hooks", [heard.append])

    async def scenario():
        anna, _chat = await chatting(site, "a-1")
        # When Anna sends a message again (the widget resends after a drop) and then a ping
        await anna.send_json_to({"type": "message", "client_id": "a-1", "body": "Hello"})
        again = await receive(anna, "ack")
        await anna.send_json_to({"type": "ping"})
        while (await receive(anna))["type"] != "pong":
            pass  # a frame is handled only after the one before it, the (eager) task included
        # Then the hooks heard the message once, after it was stored
        assert heard == [again["id"]]

    run(scenario)
