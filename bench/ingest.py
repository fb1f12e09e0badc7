"""Inbound messages/s through the channel adapters, against a raw INSERT of the same messages in the same run.

    DATABASE_URL=… REDIS_URL=… SECRET_KEY=… .venv/bin/python bench/ingest.py [--messages 500] [--rounds 3] [--force]

Each round sends --messages messages through each adapter, one call a message, in threads of ten
(the first message of a thread opens its conversation, which joins its queue; the other nine join
it), the way the adapters' APIs and sockets call them:
- chat: ``webchat_session_open`` and ``webchat_conversation_open`` once a thread (the widget's
  socket), then ``webchat_message_receive`` a message (what the chat consumer calls);
- email: ``email_ingest`` of an RFC 822 message (text/plain, ~300 bytes; the nine follow-ups
  answer the first with In-Reply-To/References), what the email API, IMAP and SMTP call;
- SMS: ``sms_ingest`` of a signed webhook's fields (what the SMS webhook calls after the signature).
The floor: one ``INSERT`` a message of the same rows (channel, external id, body, payload) into a
copy of the message table (its columns, defaults and indexes; ``LIKE … INCLUDING ALL``), one
autocommitted statement each on a psycopg2 connection (bench/records.py ``raw_connection``).
Adapters and floor alternate within each round, so that both see the same machine; each prints
messages/s and its time against the floor's (how many times the floor's time a message takes),
then the SQL statements each adapter sends per message (one more thread of ten, counted).

Outbound (``--sends``, after the inbound rounds): agents' SMS replies sent through the provider pipeline
to a loopback Twilio Messages API (an ``http.server`` on 127.0.0.1 answering 201 with the Message
resource): ``conversation_reply`` on an SMS conversation of a Twilio source, with Celery's tasks run
eagerly on commit, so each reply is recorded, queued (its ``ProviderSend`` row), POSTed by
``provider_send_deliver`` and marked sent — what a worker does. The floor: the same form POSTs to the
same server through one bare ``httpx.Client`` (pooled connection). Sends/s of both, and the ratio.

The database named by DATABASE_URL must contain "bench" unless --force; each run adds its messages
(ids of its own, so runs never collide). The web chat's per-address and per-site limits on new
conversations are lifted in this process (they would refuse a benchmark, not a bug).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl

if __package__ in (None, ""):
    # Run as a script: bench/ is sys.path[0], where bench/records.py would shadow the ``records`` app.
    _root = Path(__file__).resolve().parent.parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _root / "bench"]
    sys.path.insert(0, str(_root))

from bench.common import guard_database, machine, setup_django

THREAD = 10
FLOOR_TABLE = "bench_ingest_floor"
BODY = (
    "Hello, I was charged twice for order {order} this month and would like the second payment refunded. "
    "My card ends in the same digits as before. Could you check and let me know? Thanks."
)


def email_of(run: str, thread: int, number: int) -> bytes:
    first = f"<{run}-{thread}-0@mail.example.com>"
    answers = f"In-Reply-To: {first}\r\nReferences: {first}\r\n" if number else ""
    return (
        f"Message-ID: <{run}-{thread}-{number}@mail.example.com>\r\n{answers}"
        "Date: Fri, 14 Mar 2025 09:30:00 +0000\r\n"
        f"From: Customer {thread} <customer-{run}-{thread}@example.com>\r\n"
        "To: support@cea.example\r\n"
        f"Subject: {'Re: ' if number else ''}Charged twice\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"{BODY.format(order=10000 + thread)}\r\n"
    ).encode()


def phone_of(run_number: int, thread: int) -> str:
    return f"+4479{run_number % 100:02d}{thread:06d}"


def rate(count: int, work: Callable[[], None]) -> float:
    started = time.perf_counter()
    work()
    return count / (time.perf_counter() - started)


def chat_run(site, run: str, messages: int) -> None:
    from engagement.webchat.services import (
        webchat_conversation_open,
        webchat_message_receive,
        webchat_session_close,
        webchat_session_open,
    )

    origin = site.allowed_origins[0]
    for thread in range(messages // THREAD):
        session = webchat_session_open(
            site_key=site.key,
            origin=origin,
            ip=f"10.{thread // 250 % 250}.{thread % 250}.7",
            connection=f"{run}-{thread}",
        )
        conversation = webchat_conversation_open(session=session)
        for number in range(THREAD):
            webchat_message_receive(
                session=session,
                conversation_id=conversation.pk,
                client_id=f"{run}-{number}",
                body=BODY.format(order=10000 + thread),
            )
        webchat_session_close(session=session)


def email_run(run: str, messages: int) -> None:
    from engagement.adapters.email import email_ingest

    for thread in range(messages // THREAD):
        for number in range(THREAD):
            email_ingest(raw=email_of(run, thread, number))


def sms_run(source, run: str, run_number: int, messages: int) -> None:
    from engagement.adapters.webhooks import sms_ingest

    now = datetime.now(UTC)
    for thread in range(messages // THREAD):
        for number in range(THREAD):
            sms_ingest(
                source=source,
                message_id=f"{run}-{thread}-{number}",
                sender=phone_of(run_number, thread),
                to="+447700900000",
                text=BODY.format(order=10000 + thread),
                sent_at=now,
            )


def floor_run(raw, run: str, messages: int) -> None:
    """One autocommitted INSERT a message, of the row an adapter keeps, into the table's copy."""
    payload = '{"from": "+447700900123", "to": "+447700900000"}'
    with raw.cursor() as cursor:
        for index in range(messages):
            cursor.execute(
                f"INSERT INTO {FLOOR_TABLE} (conversation_id, channel, external_id, direction, author_kind,"
                " author_name, body, payload, internal, sent_at, created_at, sentiment_status, sentiment_language,"
                " sentiment_note) VALUES (%s, 'sms', %s, 'inbound', 'customer', '', %s, %s, false, now(), now(),"
                " '', '', '')",
                (1 + index // THREAD, f"{run}-{index}", BODY.format(order=10000 + index // THREAD), payload),
            )


def one_round(raw, site, source, messages: int) -> dict[str, float]:
    """Messages/s of the floor and of each adapter, one after the other, with ids of this round's own."""
    run = uuid.uuid4().hex[:10]
    run_number = int(run[:6], 16)
    return {
        "raw INSERT (floor)": rate(messages, lambda: floor_run(raw, run, messages)),
        "chat": rate(messages, lambda: chat_run(site, run, messages)),
        "email": rate(messages, lambda: email_run(run, messages)),
        "SMS": rate(messages, lambda: sms_run(source, run, run_number, messages)),
    }


def statements_per_message(work: Callable[[], None], count: int) -> float:
    """SQL statements Django sends per message while ``work`` keeps ``count`` messages."""
    from django.db import connection

    sent = 0

    def counted(execute, sql, params, many, context):
        nonlocal sent
        sent += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counted):
        work()
    return sent / count


def prepare():
    """The web chat site and the SMS source the runs use (made once), and the floor's table."""
    from django.db import connection

    from engagement.adapters.models import WebhookSource
    from engagement.webchat.models import SiteKey

    site, _ = SiteKey.objects.get_or_create(
        name="bench-ingest", defaults={"allowed_origins": ["https://shop.bench.example"], "queue": "Chat"}
    )
    source, _ = WebhookSource.objects.get_or_create(
        name="bench-ingest-sms", defaults={"channel": "sms", "secret": "bench-ingest-secret-0123456789"}
    )
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {FLOOR_TABLE} (LIKE engagement_message INCLUDING ALL)")
    return site, source


# --- Outbound: replies through the provider pipeline to a loopback Twilio ---------------------------

TWILIO_SID = "AC" + "b2" * 16
OUTBOUND_SOURCE = "bench-ingest-twilio"


class LoopbackTwilio:
    """Twilio's Messages endpoint on 127.0.0.1: 201 with a Message resource for each POST; counts them."""

    def __init__(self) -> None:
        self.received = 0
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as Twilio's API allows

            def setup(self) -> None:
                super().setup()
                # Headers and body leave in two writes: without TCP_NODELAY, Nagle's algorithm and the
                # client's delayed ACK hold every answer ~40 ms (the floor would measure that, not HTTP).
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:
                form = dict(parse_qsl(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()))
                with lock:
                    outer.received += 1
                sid = "SM" + uuid.uuid4().hex
                body = json.dumps({"sid": sid, "status": "queued", "to": form.get("To"), "body": form.get("Body")})
                payload = body.encode()
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def outbound_prepare(provider: LoopbackTwilio):
    """A Twilio SMS source pointed at the loopback server, an agent, and one SMS conversation to reply in."""
    from django.conf import settings

    from cea.accounts.models import User
    from cea.common.roles import Role
    from engagement.adapters.models import Provider, WebhookSource
    from engagement.adapters.webhooks import sms_ingest

    settings.CEA_TWILIO_API_URL = provider.url
    os.environ[f"CEA_SOURCE_{OUTBOUND_SOURCE.upper().replace('-', '_')}_ACCOUNT_SID"] = TWILIO_SID
    os.environ[f"CEA_SOURCE_{OUTBOUND_SOURCE.upper().replace('-', '_')}_AUTH_TOKEN"] = "bench-twilio-token"
    source, _ = WebhookSource.objects.update_or_create(
        name=OUTBOUND_SOURCE,
        defaults={
            "channel": "sms",
            "provider": Provider.TWILIO,
            "sender_id": "+447700900001",
            "secret": "bench-ingest-secret-0123456789",
        },
    )
    agent, _ = User.objects.get_or_create(username="bench.ingest.agent", defaults={"role": Role.AGENT})
    run = uuid.uuid4().hex[:10]
    sender = f"+4477009{int(run[:5], 16) % 100000:05d}"
    ingested = sms_ingest(
        source=source,
        message_id=f"in-{run}",
        sender=sender,
        to="+447700900001",
        text="Hello",
        sent_at=datetime.now(UTC),
    )
    return agent, ingested.conversation


def outbound_pipeline_run(agent, conversation, sends: int) -> None:
    from engagement.conversations.replies import conversation_reply

    for index in range(sends):
        conversation_reply(actor=agent, conversation=conversation, body=f"Your refund is on its way ({index}).")


def outbound_floor_run(provider: LoopbackTwilio, sends: int) -> None:
    import httpx

    url = f"{provider.url}/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
    with httpx.Client(timeout=10, auth=(TWILIO_SID, "bench-twilio-token")) as client:
        for index in range(sends):
            client.post(url, data={"To": "+447700900123", "From": "+447700900001", "Body": f"Floor ({index})."})


def outbound(sends: int, rounds: int) -> None:
    from celery import current_app

    from engagement.adapters.models import ProviderSend

    provider = LoopbackTwilio()
    for noisy in ("httpx", "celery.app.trace"):  # a line a send would dwarf the figures
        logging.getLogger(noisy).setLevel(logging.WARNING)
    conf = current_app.conf
    conf.task_always_eager, conf.task_eager_propagates = True, True
    try:
        agent, conversation = outbound_prepare(provider)
        rates: dict[str, list[float]] = {"bare httpx POST (floor)": [], "reply through the outbox": []}
        for round_number in range(rounds):
            before = provider.received
            rates["bare httpx POST (floor)"].append(rate(sends, lambda: outbound_floor_run(provider, sends)))
            rates["reply through the outbox"].append(
                rate(sends, lambda: outbound_pipeline_run(agent, conversation, sends))
            )
            assert provider.received - before == 2 * sends, "every send reached the loopback provider"
            print(f"outbound round {round_number + 1}: " + ", ".join(f"{k} {v[-1]:,.0f}/s" for k, v in rates.items()))
        sent = ProviderSend.objects.filter(message__conversation=conversation, status="sent").count()
        assert sent == sends * rounds, f"{sent} of {sends * rounds} replies marked sent"
        floor = statistics.median(rates["bare httpx POST (floor)"])
        print()
        print(f"{'sends/s (median of rounds)':<32} {'rate':>8} {'rate / floor':>13} {'x the time':>11}")
        for name, values in rates.items():
            median = statistics.median(values)
            print(f"{name:<32} {median:>8,.0f} {median / floor:>12.3f}  {floor / median:>10.1f}")
    finally:
        provider.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=500, help="messages per adapter per round (threads of ten)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--force", action="store_true", help="write into a database without 'bench' in its name")
    parser.add_argument("--sends", type=int, default=300, help="outbound replies per round (0: skip outbound)")
    args = parser.parse_args()
    if args.messages < THREAD:
        parser.error(f"--messages is at least {THREAD}")
    messages = args.messages - args.messages % THREAD
    setup_django()
    from django.conf import settings

    from bench.records import raw_connection

    database = guard_database(force=args.force)
    settings.CEA_WEBCHAT_CONVERSATIONS_PER_IP_PER_MINUTE = 10**9
    settings.CEA_WEBCHAT_CONVERSATIONS_PER_SITE_PER_MINUTE = 10**9
    site, source = prepare()
    raw = raw_connection()
    print(f"database {database}; {messages} messages per adapter per round, threads of {THREAD}; {machine()}")
    rates: dict[str, list[float]] = {"raw INSERT (floor)": [], "chat": [], "email": [], "SMS": []}
    for round_number in range(args.rounds):
        for name, value in one_round(raw, site, source, messages).items():
            rates[name].append(value)
        floor = rates["raw INSERT (floor)"][-1]
        print(
            f"round {round_number + 1}: "
            + ", ".join(f"{name} {values[-1]:,.0f}/s" for name, values in rates.items())
            + f" (floor {floor:,.0f}/s)"
        )
    floor = statistics.median(rates["raw INSERT (floor)"])
    print()
    print(f"{'messages/s (median of rounds)':<32} {'rate':>8} {'rate / floor':>13} {'x the time':>11}")
    for name, values in rates.items():
        median = statistics.median(values)
        print(f"{name:<32} {median:>8,.0f} {median / floor:>12.3f}  {floor / median:>10.1f}")
    run = uuid.uuid4().hex[:10]
    counted = {
        "chat": statements_per_message(lambda: chat_run(site, run, THREAD), THREAD),
        "email": statements_per_message(lambda: email_run(run, THREAD), THREAD),
        "SMS": statements_per_message(lambda: sms_run(source, run, int(run[:6], 16), THREAD), THREAD),
    }
    print("SQL statements per message (one thread of ten): " + ", ".join(f"{k} {v:.1f}" for k, v in counted.items()))
    raw.close()
    if args.sends > 0:
        print()
        print(f"outbound: {args.sends} SMS replies per round through a loopback Twilio; {machine()}")
        outbound(args.sends, args.rounds)
    print(f"at the end: {machine()}")


if __name__ == "__main__":
    main()
