"""A card number and its security code sent through every channel are stored, logged and pushed nowhere in clear.

One customer types her card number (Luhn-valid, with spaces, with dashes and as bare digits)
and its security code after a cue word ("CVV 737", "security code: 737") into everything the
platform takes in: the web chat over its real websocket (her own words and her answer to a
self-service question), an RFC 822 email (subject, body and a text attachment), signed SMS,
social DM and voice webhooks, the IVR, the mobile app and web form APIs, a device event, a
branch check-in, the context API, the cases API (subject, description, note), the interactions
API (transcript and wrap-up notes), an agent's email reply, and a legacy system's nightly
extract (a good line and a bad one). Outbound webhooks are delivered to a receiver on loopback.

Then every text, varchar, json and jsonb column of every table (the audit trail's event tables
and the journey log included), every key of the test's Redis, every stored file, every log
record (DEBUG, all loggers), every group message sent to the channel layer, every frame the
widget and a supervisor's desk got, every email sent and every webhook received are
searched for the card's digits (with or without separators) and for the code after its cue.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from pathlib import Path

import pytest
import redis
from channels.db import database_sync_to_async
from channels_redis.core import RedisChannelLayer
from django.db import connection
from rest_framework.test import APIClient

from cea.common.pii import redact_text
from engagement.conversations.models import Conversation, Message
from engagement.selfservice.services import flow_save
from integration.sample_systems import customer_master
from integration.sync.models import SyncFailure
from integration.sync.services import connector_sync
from integration.webhooks.models import WebhookDelivery, WebhookEvent, WebhookRelayState
from integration.webhooks.services import webhook_relay, webhook_subscription_create
from records.holdings.models import Holding
from records.identities.services import identity_add
from records.journey.models import JourneyEvent
from tests.engagement.adapter_support import signed_post
from tests.engagement.factories import SiteKeyFactory, WebhookSourceFactory
from tests.engagement.websockets import accepted, desk, receive, run, session_cookie, widget
from tests.integration.flatfile_support import drop_extract, flatfile_connector
from tests.integration.hooks_loopback import WebhookReceiver
from tests.support import eager_celery, isolated_redis, make_customer, session_client, token_client

pytestmark = pytest.mark.django_db(transaction=True)

CARD_DIGITS = "4539148803436467"  # a Luhn-valid Visa number
CARD_SPACED = "4539 1488 0343 6467"
CARD_DASHED = "4539-1488-0343-6467"
CVV = "737"
# The card in clear, with any separators, in any text (JSON's escapes cannot split digits).
CARD_IN_CLEAR = re.compile(r"4539[ -]?1488[ -]?0343[ -]?6467")
# The security code after its cue word, as the customer wrote it.
CVV_IN_CLEAR = re.compile(r"(?i)(cvv|cvc|security code)\W{0,5}737")
SHOP = "https://shop.example"
SECRET = "whsec-card-test-0123456789"
WEBHOOK_SECRET = "hooks-card-test-0123456789"
STARTED, ENDED = "2026-11-23T10:00:00Z", "2026-11-23T10:12:00Z"


def in_clear(text: str) -> list[str]:
    """What of the card or its code ``text`` holds in clear (empty when nothing)."""
    return [match.group() for pattern in (CARD_IN_CLEAR, CVV_IN_CLEAR) for match in pattern.finditer(text)]


def the_redaction_of(text: str) -> str:
    """What the platform keeps instead (the engine's output): asserted present, so the path ran."""
    return redact_text(text)


# --- What is searched --------------------------------------------------------------------------


def text_columns() -> list[tuple[str, str]]:
    """Every (table, column) of the database that can hold text: text, varchar, char, json, jsonb and arrays."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns c"
            " JOIN information_schema.tables t USING (table_schema, table_name)"
            " WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'"
            " AND (c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY'))"
            " ORDER BY table_name, column_name"
        )
        return [(table, column) for table, column in cursor.fetchall()]


def rows_in_clear() -> dict[str, list[str]]:
    """``{"table.column": [values in clear]}`` over every text column of every table."""
    found: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        for table, column in text_columns():
            cursor.execute(
                f'SELECT "{column}"::text FROM "{table}"'  # noqa: S608 - names from information_schema
                f' WHERE "{column}"::text ~ %s OR "{column}"::text ~* %s',
                [CARD_IN_CLEAR.pattern, r"(cvv|cvc|security code)\W{0,5}737"],
            )
            values = [row[0] for row in cursor.fetchall()]
            if values:
                found[f"{table}.{column}"] = [value[:200] for value in values]
    return found


def rows_containing(fragment: str) -> set[str]:
    """The tables whose text holds ``fragment`` (to show the redacted form was kept, not nothing)."""
    tables = set()
    with connection.cursor() as cursor:
        for table, column in text_columns():
            cursor.execute(
                f'SELECT 1 FROM "{table}" WHERE strpos("{column}"::text, %s) > 0 LIMIT 1',  # noqa: S608
                [fragment],
            )
            if cursor.fetchone():
                tables.add(table)
    return tables


def redis_in_clear(settings) -> dict[str, list[str]]:
    """The test's Redis keys (context store, aliases, limits …) whose value or name holds the card in clear."""
    client = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    found = {}
    try:
        for key in client.scan_iter(f"{settings.REDIS_PREFIX}*"):
            kind = client.type(key)
            if kind == "string":
                text = client.get(key) or ""
            elif kind == "hash":
                text = json.dumps(client.hgetall(key))
            elif kind == "list":
                text = json.dumps(client.lrange(key, 0, -1))
            elif kind == "set":
                text = json.dumps(sorted(client.smembers(key)))
            elif kind == "zset":
                text = json.dumps(client.zrange(key, 0, -1))
            else:
                text = ""
            if in_clear(key + text):
                found[key] = in_clear(key + text)
    finally:
        client.close()
    return found


def files_in_clear(root: Path) -> dict[str, list[str]]:
    return {
        str(path.relative_to(root)): in_clear(str(path.relative_to(root)) + path.read_bytes().decode("latin-1"))
        for path in root.rglob("*")
        if path.is_file() and in_clear(str(path.relative_to(root)) + path.read_bytes().decode("latin-1"))
    }


class Everything(logging.Handler):
    """Every record of every logger, formatted with its arguments and traceback."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


# --- Fixtures ----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.CEA_WEBHOOK_ALLOW_PRIVATE_TARGETS = True  # the receiver listens on loopback
    yield from isolated_redis(settings)


@pytest.fixture
def _eager():
    yield from eager_celery()


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)
    handler = Everything()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler, caplog
    root.removeHandler(handler)


@pytest.fixture
def group_messages(monkeypatch) -> list[tuple[str, dict]]:
    """Every message sent to a channel layer group (all pushes go through ``group_send``), still sent."""
    sent: list[tuple[str, dict]] = []
    original = RedisChannelLayer.group_send

    async def recording(self, group, message):
        sent.append((group, message))
        return await original(self, group, message)

    monkeypatch.setattr(RedisChannelLayer, "group_send", recording)
    return sent


@pytest.fixture
def receiver():
    server = WebhookReceiver(secret=WEBHOOK_SECRET)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def alice(team_a):
    """The customer, known by her email, phone, social handle, device and app account."""
    customer = make_customer(team_a, email="alice.smith@example.com", phone="+447911123456")
    identity_add(actor=None, customer=customer, kind="device", value="THERM-00A4-7731")
    identity_add(actor=None, customer=customer, kind="social", value="twitter:alice_b")
    identity_add(actor=None, customer=customer, kind="account", value="AC10023344")
    return customer


@pytest.fixture
def card_flow(db):
    """Self-service asks which card a payment was made with, repeats the answer and hands over."""
    return flow_save(
        name="Payment problem",
        intent="payment_problem",
        menu_key="1",
        queue="billing",
        trigger_phrases="payment problem",
        steps=[
            {
                "key": "which-card",
                "kind": "ask",
                "prompt": "Which card did you pay with?",
                "options": {"variable": "card_used"},
                "next_step": "noted",
            },
            {"key": "noted", "kind": "say", "prompt": "Thanks, noted: {card_used}.", "next_step": "agent"},
            {"key": "agent", "kind": "handover", "prompt": "An agent will look at it."},
        ],
    )


# --- Each channel ------------------------------------------------------------------------------


def email_with_card() -> bytes:
    attachment = base64.b64encode(
        f"Statement line: VISA {CARD_SPACED} exp 12/29 CVV {CVV} amount 49.99\n".encode()
    ).decode()
    return f"""\
Message-ID: <card-test-1@mail.example.com>
Date: Mon, 23 Nov 2026 09:30:00 +0000
MIME-Version: 1.0
From: Alice Smith <alice.smith@example.com>
To: CEA Support <support@cea.example>
Subject: Refund to card {CARD_DASHED} please
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=UTF-8

Hello, I was charged twice on my card {CARD_SPACED} (security code: {CVV}).
Please refund it.

--b1
Content-Type: text/plain; name="card-{CARD_DIGITS}.txt"
Content-Disposition: attachment; filename="card-{CARD_DIGITS}.txt"
Content-Transfer-Encoding: base64

{attachment}
--b1--
""".replace("\n", "\r\n").encode()


def webchat_with_self_service(site) -> list[dict]:
    """The visitor chats over the widget's websocket: her words, then her answer to self-service.
    Once her conversation exists, a supervisor's desk (its websocket) follows its context and messages.
    Returns every frame both sockets got."""
    frames: list[dict] = []

    async def drain(communicator, seconds: float) -> None:
        """Keep what arrives until ``seconds`` pass in silence (a receive that times out would end the socket)."""
        while not await communicator.receive_nothing(timeout=seconds):
            frames.append(await communicator.receive_json_from())

    async def say(chat, client_id: str, text: str) -> None:
        await chat.send_json_to({"type": "message", "client_id": client_id, "body": text})
        # Her ack, her message's echo, then the bot's replies: until self-service has answered
        while True:
            frame = await chat.receive_json_from(timeout=5)
            frames.append(frame)
            if frame.get("type") == "message" and frame["message"]["author_kind"] == "bot":
                break
        await drain(chat, 1)

    async def scenario():
        chat = await accepted(widget(site.key, page=f"{SHOP}/checkout/{CARD_DIGITS}?card={CARD_DIGITS}"))
        frames.append(await receive(chat, "welcome"))
        await say(chat, "c-1", f"Hi, I have a payment problem with my card {CARD_SPACED}, CVV {CVV}")
        conversation = await database_sync_to_async(Conversation.objects.get)(channel="chat")
        page = await accepted(desk(await database_sync_to_async(session_cookie)(site.supervisor)))
        frames.append(await receive(page, "desk.state"))
        for subscription in (
            {"scope": "conversation", "id": conversation.pk},
            {"scope": "conversation_messages", "id": conversation.pk, "after": 0},
        ):
            await page.send_json_to({"action": "subscribe", **subscription})
            frames.append(await receive(page, "subscribed"))
        await say(chat, "c-2", f"The Visa {CARD_DASHED}, its security code is {CVV}")
        await chat.send_json_to({"type": "end"})
        await drain(chat, 1)
        await drain(page, 0.5)

    run(scenario)
    return frames


def every_channel(*, alice, team_a, agent, supervisor, integration_user, card_flow, tmp_path) -> dict:
    """Send the card through every channel; returns what came back to the senders."""
    back: dict = {}
    provider = APIClient()
    platform = token_client(integration_user, scopes=["conversations:write", "context:read", "context:write"])

    # Web chat (and self-service over it), followed on a supervisor's desk
    site = SiteKeyFactory(name="Northwind", allowed_origins=[SHOP], queue="web-chat", team=team_a)
    site.supervisor = supervisor
    back["webchat"] = webchat_with_self_service(site)

    # Email
    back["email"] = platform.generic(
        "POST", "/api/v1/engagement/email/inbound/", email_with_card(), content_type="message/rfc822"
    )
    # SMS and social DM through signed webhooks
    sms = WebhookSourceFactory(name="sms-gateway", channel="sms", secret=SECRET, team=team_a)
    back["sms"] = signed_post(
        provider,
        sms,
        {
            "message_id": "SM-card-1",
            "from": "+447911123456",
            "to": "+442079460123",
            "text": f"My card number is {CARD_DIGITS} and the CVV is {CVV}",
            "sent_at": "2026-11-23T09:12:31Z",
        },
    )
    social = WebhookSourceFactory(name="twitter-dm", channel="social", secret=SECRET, team=team_a)
    back["social"] = signed_post(
        provider,
        social,
        {
            "message_id": "m-card-1",
            "platform": "Twitter",
            "handle": "@Alice_B",
            "from": "1458842291",
            "to": "cea_support",
            "text": f"Card {CARD_SPACED} cvc {CVV} was charged twice",
            "sent_at": "2026-11-23T10:02:11+00:00",
        },
    )
    # Voice: the provider's call events, one carrying free text with the card
    voice = WebhookSourceFactory(name="telephony", channel="voice", secret=SECRET, queue="Inbound calls", team=team_a)
    call = {"call_id": "CA-card-1", "from": "+447911123456", "to": "+442079460123"}
    back["voice"] = [
        signed_post(provider, voice, {**call, "event_id": "EV-1", "event": "ringing", "timestamp": STARTED}),
        signed_post(
            provider,
            voice,
            {
                **call,
                "event_id": "EV-2",
                "event": "transferred",
                "timestamp": "2026-11-23T10:02:00Z",
                "transferred_to": f"card desk re {CARD_DASHED} cvv {CVV}",
            },
        ),
        signed_post(
            provider,
            voice,
            {
                **call,
                "event_id": "EV-3",
                "event": "ended",
                "timestamp": ENDED,
                "transcript_url": f"https://telephony.example/t/{CARD_DIGITS}.json",
            },
        ),
    ]
    # The IVR: the caller keys the card in and says the code
    for number, body in enumerate(
        [{"caller": "+447911123456"}, {"digits": "1"}, {"digits": CARD_DIGITS}, {"speech": f"security code {CVV}"}]
    ):
        back[f"ivr-{number}"] = platform.post(
            "/api/v1/engagement/ivr/IVR-card-1/input/", {**body, "input_id": f"in-{number}"}, format="json"
        )
    # Mobile app, web form, device event, branch check-in
    back["app"] = platform.post(
        "/api/v1/engagement/app/messages/",
        {
            "client_message_id": "app-card-1",
            "session_id": "ios-session-1",
            "text": f"Paid with {CARD_SPACED} (CVV {CVV}) but the app says failed",
            "identifier_kind": "account",
            "customer_identifier": "AC10023344",
        },
        format="json",
    )
    back["web_form"] = platform.post(
        "/api/v1/engagement/web-forms/submissions/",
        {
            "submission_id": "form-card-1",
            "form_id": "contact-us",
            "name": f"Alice {CARD_DIGITS}",
            "email": "alice.smith@example.com",
            "subject": f"Charge on {CARD_DASHED}",
            "message": f"My card {CARD_SPACED}, security code {CVV}, was charged twice.",
        },
        format="json",
    )
    back["iot"] = platform.post(
        "/api/v1/engagement/iot/events/",
        {
            "device_id": "THERM-00A4-7731",
            "event_id": "evt-card-1",
            "fault_code": "E41",
            "severity": "critical",
            "details": {"payment": f"auto-pay card {CARD_DIGITS} cvv {CVV} declined"},
        },
        format="json",
    )
    back["branch"] = session_client(agent).post(
        "/api/v1/engagement/branches/check-ins/",
        {
            "visit_id": "visit-card-1",
            "branch": "Leeds Briggate",
            "reason": f"Replace card {CARD_SPACED}, CVV {CVV} worn off",
            "identifier_kind": "phone",
            "customer_identifier": "07911 123456",
        },
        format="json",
    )
    # The context API
    back["context"] = platform.patch(
        f"/api/v1/engagement/contexts/customer/{alice.pk}/",
        {"values": {"last_payment": {"card": CARD_DASHED, "note": f"cvv {CVV} given"}}},
        format="json",
    )
    # Cases: created, noted, moved with a note
    desk_api = session_client(agent)
    back["case"] = desk_api.post(
        "/api/v1/cases/",
        {
            "customer": alice.pk,
            "subject": f"Double charge on {CARD_SPACED}",
            "description": f"Customer read out {CARD_DIGITS}, security code {CVV}.",
        },
        format="json",
    )
    reference = back["case"].json()["reference"]
    back["case_note"] = desk_api.post(
        f"/api/v1/cases/{reference}/notes/", {"body": f"Refund to {CARD_DASHED} (CVV {CVV})"}, format="json"
    )
    back["case_update"] = desk_api.patch(
        f"/api/v1/cases/{reference}/", {"description": f"Now about {CARD_DIGITS} only"}, format="json"
    )
    # An interaction recorded through the API, its transcript and notes
    back["interaction"] = desk_api.post(
        "/api/v1/interactions/",
        {
            "channel": "chat",
            "started_at": STARTED,
            "ended_at": ENDED,
            "customer": alice.pk,
            "team": team_a.pk,
            "agent": agent.pk,
            "external_id": "ext-chat-card-1",
            "transcript": [
                {"at": STARTED, "author": "customer", "author_name": "Alice", "body": f"It is {CARD_SPACED}"},
                {"at": ENDED, "author": "customer", "author_name": "Alice", "body": f"CVV {CVV}"},
            ],
            "wrap_up_notes": f"Customer gave card {CARD_DASHED} and security code {CVV}",
            "context_snapshot": {"card": CARD_DIGITS},
        },
        format="json",
    )
    # An agent's reply to the email, which goes out by email
    email_conversation = back["email"].json()["conversation"]
    back["reply"] = desk_api.post(
        f"/api/v1/engagement/conversations/{email_conversation}/reply/",
        {"body": f"We refunded your card {CARD_SPACED}; never send us the CVV {CVV} again."},
        format="json",
    )
    # A legacy system's extract: a customer whose surname field carries the card, and a bad line
    folder = tmp_path / "drop"
    folder.mkdir()
    extract = drop_extract(folder, 2)
    lines = extract.path.read_text(encoding="latin-1").splitlines()
    start, end = customer_master._AT["LAST-NAME"]
    lines[1] = lines[1][:start] + CARD_DIGITS.ljust(end - start) + lines[1][end:]
    balance_start, balance_end = customer_master._AT["BALANCE"]
    spoiled = lines[2][:start] + CARD_SPACED.ljust(end - start) + lines[2][end:]
    lines[2] = spoiled[:balance_start] + "NOTANUMBER!"[: balance_end - balance_start] + spoiled[balance_end:]
    extract.path.write_text("\n".join(lines) + "\n", encoding="latin-1")
    connector = flatfile_connector(folder)
    back["sync"] = connector_sync(connector_id=connector.pk)
    return back


# --- The test ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("_eager")
def test_a_card_number_sent_through_every_channel_is_nowhere_in_clear(
    settings,
    tmp_path,
    logs,
    group_messages,
    receiver,
    mailoutbox,
    alice,
    team_a,
    agent,
    supervisor,
    integration_user,
    card_flow,
    admin_user,
):
    # Given: a subscriber to every webhook event, relayed from now on
    webhook_subscription_create(
        actor=admin_user, name="CRM", url=receiver.url, events=list(WebhookEvent.values), secret=WEBHOOK_SECRET
    )
    last = JourneyEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    WebhookRelayState.objects.update_or_create(pk=1, defaults={"last_id": last, "gaps": {}})

    # When: the card goes in through every channel, and the webhooks go out
    back = every_channel(
        alice=alice,
        team_a=team_a,
        agent=agent,
        supervisor=supervisor,
        integration_user=integration_user,
        card_flow=card_flow,
        tmp_path=tmp_path,
    )
    settings.CEA_WEBHOOK_RELAY_GAP_SECONDS = 0
    webhook_relay(batch=10_000)
    handler, caplog = logs

    # Then every channel took it
    statuses = {
        name: response.status_code
        for name, response in back.items()
        if hasattr(response, "status_code") and not isinstance(response, list)
    }
    assert statuses == {
        "email": 201,
        "sms": 201,
        "social": 201,
        "ivr-0": 200,
        "ivr-1": 200,
        "ivr-2": 200,
        "ivr-3": 200,
        "app": 201,
        "web_form": 201,
        "iot": 201,
        "branch": 201,
        "context": 200,
        "case": 201,
        "case_note": 201,
        "case_update": 200,
        "interaction": 201,
        "reply": 201,
    }, {name: back[name].content for name in statuses}
    assert [response.status_code for response in back["voice"]] == [201, 201, 201]
    assert (back["sync"].status, back["sync"].created, back["sync"].failed) == ("partial", 1, 1)
    chat = Conversation.objects.get(channel="chat")
    assert chat.customer_id is None and chat.status == "ended"
    assert chat.interaction is not None
    assert Message.objects.filter(conversation=chat, author_kind="bot").count() >= 3  # the flow ran to hand-over
    assert WebhookDelivery.objects.filter(status="delivered").count() >= 5
    assert len(receiver.received) == WebhookDelivery.objects.count()
    assert len(mailoutbox) == 1
    assert SyncFailure.objects.count() == 1 and Holding.objects.filter(system="customer_master").count() == 1

    # ... and kept the redacted form instead (so each path ran through the redaction, not around it)
    masked = the_redaction_of(CARD_DIGITS)
    assert masked != CARD_DIGITS
    assert {
        "engagement_message",
        "engagement_conversation",
        "engagement_contextchange",
        "records_interaction",
        "records_case",
        "records_casenote",
        "records_customer",
        "integration_syncfailure",
        "engagement_attachment",
    } <= rows_containing(masked[:6] + "*")

    # ... and no table, Redis key, stored file, log record, push, frame, email or webhook holds it in clear
    assert rows_in_clear() == {}
    assert redis_in_clear(settings) == {}
    assert files_in_clear(Path(settings.MEDIA_ROOT)) == {}
    assert [line for line in handler.lines if in_clear(line)] == []
    assert in_clear(caplog.text) == []
    assert [(group, message) for group, message in group_messages if in_clear(json.dumps(message, default=str))] == []
    assert len(group_messages) > 20  # the pushes were seen
    assert [frame for frame in back["webchat"] if in_clear(json.dumps(frame))] == []
    assert any(frame.get("type") == "context.changed" for frame in back["webchat"])
    assert [mail.subject + mail.body for mail in mailoutbox if in_clear(mail.subject + mail.body)] == []
    assert [hook.body for hook in receiver.received if in_clear(hook.body.decode())] == []
    assert all(hook.signature_valid for hook in receiver.received)
