"""Chat under concurrency (issue 17): many visitors start chats on the demo shop at once.

    DATABASE_URL=… REDIS_URL=… SECRET_KEY=… .venv/bin/python bench/chat_load.py [--visitors 200]
        [--agents 50] [--burst 8] [--runs 1] [--baseline-dir DIR] [--force]

The platform's processes are started as ``make run`` starts them by default (cea/runtime): one
uvicorn web process (``WEB_CONCURRENCY`` 1, the same flags), a Celery worker of concurrency 2 and
beat, against this database and Redis. The demo shop's web chat site key is set up as
``make run`` does (``ensure_demo_site``; the demo's queues and flows must be loaded once:
``--setup`` runs the demo steps of cea/runtime). The web chat limits per client address are
raised for the web process (every visitor of this bench comes from 127.0.0.1).

- ``--agents`` agents (capacity 4, the ``orders`` skill the web-chat queue asks for first) sign in
  on ``ws/desktop/``, go available and accept every offer they get.
- Scenario (the issue's): ``--visitors`` visitors connect to ``ws/webchat/``; then all at once each
  sends a first message (which opens the conversation) and, 2.5 s later, a second. Ack latency:
  from sending a frame to its ``ack`` on the visitor's socket (the message is stored), p50/p99.
- Throughput: the same visitors each send ``--burst`` more messages, one after another (the next
  when the last is acked): chat messages acked per second per web process over the wall time.
- The bot's answer: from sending a visitor's first message to the first bot message on their socket
  (self-service; on the Celery workers since ecce734, in the web process before), p50/p99, waited
  for up to 60 s after the burst; visitors without one are counted.
- Floor, same run: a ``ping``/``pong`` frame on each visitor's socket at once (the server
  without the database), p50/p99 — the latency the process's event loop alone adds at this load.

``--baseline-dir DIR`` first runs the same against the code in DIR (e.g. a worktree of the commit
before a change: the processes are started there), then against this checkout, and prints both
with the ratio. Printed: the load average before and after, the process count, errors.

Writes rows: refuses a database whose name lacks "bench" unless --force. Between runs the
bench's open chat work is closed with SQL (the agents start empty).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.common import PYTHON, ROOT, Timings, free_port, guard_database, machine, setup_django

PREFIX = "clbench"
ORIGIN = "http://chat-load.invalid"
GAP_SECONDS = 2.5
DEMO_STEPS = ("load_demo_data", "ensure_demo_logins", "load_demo_flows", "load_demo_routing")
# Every visitor here comes from 127.0.0.1: the per-address limits would refuse all but 20.
SERVER_ENV = {
    "CEA_WEBCHAT_CONNECTIONS_PER_IP": "100000",
    "CEA_WEBCHAT_CONVERSATIONS_PER_IP_PER_MINUTE": "100000",
    "CEA_WEBCHAT_CONVERSATIONS_PER_SITE_PER_MINUTE": "100000",
    "CEA_ALLOW_CONSOLE_SENDERS": "1",
    # make run's default: the embedded mode's settings (plain HTTP on loopback, no HTTPS redirect).
    "CEA_EMBEDDED": "1",
}


def web_command(port: int) -> list[str]:
    """cea/runtime's web process (``_run``), on this port; WEB_CONCURRENCY as there (default 1)."""
    return [
        PYTHON, "-m", "uvicorn", "cea.asgi:application", "--host", "127.0.0.1", "--port", str(port),
        "--workers", os.environ.get("WEB_CONCURRENCY", "1"), "--no-access-log", "--no-proxy-headers",
        "--lifespan", "off", "--ws-max-size", str(64 * 1024), "--log-level", "warning",
    ]  # fmt: skip


WORKER_COMMAND = [PYTHON, "-m", "celery", "-A", "cea", "worker", "--loglevel", "WARNING", "--concurrency", "2",
                  "--hostname", f"{PREFIX}-worker@%h"]  # fmt: skip
BEAT_COMMAND = [PYTHON, "-m", "celery", "-A", "cea", "beat", "--loglevel", "WARNING", "--scheduler",
                "django_celery_beat.schedulers:DatabaseScheduler", "--pidfile", ""]  # fmt: skip


# --- Data ------------------------------------------------------------------------------------


def prepare(*, agents: int, setup: bool) -> tuple[str, list[str]]:
    """The demo site key (allowing this bench's origin) and the agents' session cookies."""
    import logging

    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    logging.getLogger("axes").setLevel(logging.WARNING)
    from cea.accounts.models import User
    from engagement.routing.models import AgentProfile, AgentSkill, Skill
    from engagement.webchat.models import SiteKey
    from engagement.webchat.services import DEMO_SITE_KEY

    if setup or not SiteKey.objects.filter(key=DEMO_SITE_KEY).exists():
        for step in DEMO_STEPS:
            call_command(step)
    call_command("ensure_demo_site", "--port", "8000", "--origin", ORIGIN)
    orders = Skill.objects.get(name="orders")
    sessions = []
    for number in range(agents):
        user, _ = User.objects.get_or_create(username=f"{PREFIX}-agent-{number}", defaults={"role": "agent"})
        profile, _ = AgentProfile.objects.get_or_create(user=user, defaults={"channels": ["chat"], "capacity_units": 4})
        AgentSkill.objects.get_or_create(agent=profile, skill=orders, defaults={"proficiency": 3})
        client = Client()
        client.force_login(user)
        sessions.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
    return DEMO_SITE_KEY, sessions


def reset() -> None:
    """Close every open chat and its work (this bench's earlier runs), and empty the agents."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("UPDATE engagement_offer SET status = 'rescinded' WHERE status = 'pending'")
        cursor.execute(
            "UPDATE engagement_workitem SET status = 'abandoned'"
            " WHERE status IN ('waiting', 'offered', 'assigned', 'wrap_up')"
        )
        cursor.execute("UPDATE engagement_agentprofile SET load_units = 0, connections = 0")
        cursor.execute(
            "UPDATE engagement_conversation SET status = 'ended' WHERE channel = 'chat' AND status <> 'ended'"
        )
    connection.close()


# --- Clients ---------------------------------------------------------------------------------


class Socket(common.Socket):
    accepted = 0  # offers a desk accepted (its on_frame counts them)


def visitor_key(frame: dict) -> str | None:
    kind = frame.get("type")
    if kind in ("ack", "error") and frame.get("client_id"):
        return f"ack:{frame['client_id']}"
    if kind in ("welcome", "pong"):
        return kind
    if kind == "message" and (frame.get("message") or {}).get("author_kind") == "bot":
        return "bot"
    return None


def desk_key(frame: dict) -> str | None:
    kind = frame.get("type")
    return kind if kind in ("desk.state", "presence.set") else None


async def accept_offers(socket: Socket, frame: dict) -> None:
    if frame.get("type") == "offer.new":
        socket.accepted += 1
        await socket.send({"action": "accept", "offer": frame["offer"]["id"]})


async def scenario(port: int, *, site_key: str, sessions: list[str], visitors: int, burst: int) -> dict:
    from django.conf import settings
    from websockets.asyncio.client import connect
    from websockets.typing import Origin

    base = f"ws://127.0.0.1:{port}"
    desks: list[Socket] = []
    for session in sessions:
        socket = Socket(
            await connect(
                f"{base}/ws/desktop/",
                origin=Origin(f"http://127.0.0.1:{port}"),
                ping_interval=None,  # a loaded machine must not close sockets for a late pong
                additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"},
            ),
            desk_key,
            accept_offers,
        )
        state = socket.expect("desk.state")
        await asyncio.wait_for(state, 30)
        available = socket.expect("presence.set")
        await socket.send({"action": "presence", "presence": "available"})
        await asyncio.wait_for(available, 30)
        desks.append(socket)

    async def open_visitor() -> Socket:
        uri = f"{base}/ws/webchat/?site_key={site_key}&page={quote(ORIGIN + '/shop/', safe='')}"
        socket = Socket(await connect(uri, origin=Origin(ORIGIN), open_timeout=60, ping_interval=None), visitor_key)
        await asyncio.wait_for(socket.expect("welcome"), 60)
        return socket

    sockets = list(await asyncio.gather(*(open_visitor() for _ in range(visitors))))
    found: dict[str, Any] = {"ack1": [], "ack2": [], "ping": [], "burst": [], "failed": []}

    async def send(socket: Socket, client_id: str, body: str) -> int | None:
        acked = socket.expect(f"ack:{client_id}")
        before = time.perf_counter_ns()
        try:
            await socket.send({"type": "message", "client_id": client_id, "body": body})
            arrived, frame = await asyncio.wait_for(acked, 60)
        except (TimeoutError, Exception) as error:
            found["failed"].append(f"{client_id}: {error!r}")
            return None
        if frame.get("type") != "ack":
            found["failed"].append(f"{client_id}: {frame}")
            return None
        return arrived - before

    async def ping(socket: Socket) -> None:
        pong = socket.expect("pong")
        before = time.perf_counter_ns()
        await socket.send({"type": "ping"})
        arrived, _ = await asyncio.wait_for(pong, 60)
        found["ping"].append(arrived - before)

    # Floor: every visitor pings at once (the event loop and the sockets, no database).
    await asyncio.gather(*(ping(socket) for socket in sockets))

    answers: list[tuple[int, asyncio.Future]] = []  # (first message sent, ns; the bot's first answer)

    async def visitor(number: int, socket: Socket) -> None:
        started = time.perf_counter()
        answers.append((time.perf_counter_ns(), socket.expect("bot")))
        first = await send(socket, f"v{number}-1", f"Hello, this is visitor {number}: where is my order?")
        if first is not None:
            found["ack1"].append(first)
        await asyncio.sleep(max(0.0, GAP_SECONDS - (time.perf_counter() - started)))
        second = await send(socket, f"v{number}-2", f"Visitor {number} again: it is order {40000 + number}.")
        if second is not None:
            found["ack2"].append(second)

    started = time.perf_counter()
    await asyncio.gather(*(visitor(number, socket) for number, socket in enumerate(sockets)))
    found["scenario_seconds"] = time.perf_counter() - started

    async def burster(number: int, socket: Socket) -> int:
        done = 0
        for turn in range(burst):
            if await send(socket, f"v{number}-b{turn}", f"Visitor {number}, line {turn}.") is not None:
                done += 1
        return done

    started = time.perf_counter()
    found["burst_acked"] = sum(await asyncio.gather(*(burster(n, s) for n, s in enumerate(sockets))))
    found["burst_seconds"] = time.perf_counter() - started
    # The bot's answer to each visitor's first message (self-service, on the workers since ecce734):
    # from sending it to the first bot message on the visitor's socket; waited for up to 60 s more.
    await asyncio.wait([future for _, future in answers], timeout=60)
    found["answer"] = [
        future.result()[0] - sent for sent, future in answers if future.done() and not future.exception()
    ]
    found["unanswered"] = sum(1 for _, future in answers if not future.done() or future.exception())
    found["accepted"] = sum(desk.accepted for desk in desks)
    found["errors"] = [error for socket in sockets + desks for error in socket.errors]
    for socket in sockets + desks:
        await socket.close()
    return found


# --- Processes -------------------------------------------------------------------------------


def process_count(*groups: int) -> int:
    """The processes of these process groups (the web server and its workers, Celery's, beat)."""
    count = 0
    for group in groups:
        command = ["/bin/ps", "-o", "pid=", "-g", str(group)]
        listing = subprocess.run(command, capture_output=True, text=True, check=False)
        count += len(listing.stdout.split())
    return count


def wait_healthy(port: int, processes: list[subprocess.Popen]) -> None:
    """Until GET /health/ answers 200 (PostgreSQL, Redis and a Celery worker answer), as make run waits."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if any(process.poll() is not None for process in processes):
            raise RuntimeError("a process of the platform exited while starting")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=5) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise RuntimeError("the platform did not answer /health/ within 120 s")


def one_run(code_dir: Path, args: argparse.Namespace, site_key: str, sessions: list[str]) -> dict:
    """Start web, worker and beat from ``code_dir`` (each in its own process group), run, stop them."""
    reset()
    env = {**os.environ, **SERVER_ENV}
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="cea-chat-load-", suffix=".log", delete=False)  # noqa: SIM115
    processes = [
        subprocess.Popen(command, cwd=code_dir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        for command in (web_command(port), WORKER_COMMAND, BEAT_COMMAND)
    ]
    try:
        wait_healthy(port, processes)
        count = process_count(*(process.pid for process in processes))
        load_before = os.getloadavg()
        found = asyncio.run(
            scenario(port, site_key=site_key, sessions=sessions, visitors=args.visitors, burst=args.burst)
        )
        found["load"] = (load_before, os.getloadavg())
        found["processes"] = count
        return found
    except Exception:
        log.flush()
        print(Path(log.name).read_text(errors="replace")[-4000:], file=sys.stderr)
        raise
    finally:
        # Our own children and what they forked (their process groups), by id.
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        Path(log.name).unlink(missing_ok=True)


def summary(found: dict, web_processes: int) -> dict:
    acks = Timings(found["ack1"] + found["ack2"])
    first = Timings(found["ack1"])
    ping = Timings(found["ping"])
    answer = Timings(found["answer"]) if found["answer"] else None
    return {
        "ack_p50_ms": acks.p50_ms,
        "ack_p99_ms": acks.p99_ms,
        "first_ack_p50_ms": first.p50_ms,
        "first_ack_p99_ms": first.p99_ms,
        "ping_p50_ms": ping.p50_ms,
        "ping_p99_ms": ping.p99_ms,
        "messages_per_s_per_web": found["burst_acked"] / found["burst_seconds"] / web_processes,
        "answer_p50_ms": answer.p50_ms if answer else None,
        "answer_p99_ms": answer.p99_ms if answer else None,
        "unanswered": found["unanswered"],
        "acked": len(found["ack1"]) + len(found["ack2"]) + found["burst_acked"],
        "failed": len(found["failed"]),
        "error_frames": len(found["errors"]),
        "accepted_offers": found["accepted"],
        "processes": found["processes"],
        "load_before": found["load"][0][0],
        "load_after": found["load"][1][0],
    }


def print_summary(label: str, figures: dict, found: dict) -> None:
    print(
        f"{label:<10} acks p50 {figures['ack_p50_ms']:8.1f} ms  p99 {figures['ack_p99_ms']:8.1f} ms"
        f"  (first message p50 {figures['first_ack_p50_ms']:.1f} / p99 {figures['first_ack_p99_ms']:.1f})"
        f" | floor ping→pong p50 {figures['ping_p50_ms']:.1f} / p99 {figures['ping_p99_ms']:.1f} ms"
        f" | {figures['messages_per_s_per_web']:7.1f} messages/s per web process"
        f" | bot's first answer p50 {figures['answer_p50_ms'] or 0:.0f} / p99 {figures['answer_p99_ms'] or 0:.0f} ms,"
        f" {figures['unanswered']} unanswered"
        f" | acked {figures['acked']}, failed {figures['failed']}, error frames {figures['error_frames']},"
        f" offers accepted {figures['accepted_offers']} | processes {figures['processes']}"
        f" | load {figures['load_before']:.2f} → {figures['load_after']:.2f}"
    )
    for problem in found["failed"][:2] + [str(error) for error in found["errors"][:2]]:
        print(f"    e.g. {problem}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--visitors", type=int, default=200)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--burst", type=int, default=3, help="messages each visitor sends back to back after")
    parser.add_argument("--runs", type=int, default=1, help="runs of each code (alternating with the baseline)")
    parser.add_argument("--baseline-dir", type=Path, help="a checkout of the code before the change")
    parser.add_argument("--setup", action="store_true", help="load the demo data first (make run's steps)")
    parser.add_argument("--force", action="store_true", help="allow a database whose name lacks 'bench'")
    args = parser.parse_args()
    setup_django()
    database = guard_database(force=args.force)
    from bench.records import commit

    web_processes = int(os.environ.get("WEB_CONCURRENCY", "1"))
    print(f"CEA chat load — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit()}, database {database}")
    print(f"Machine: {machine()}; Python {sys.version.split()[0]}")
    print(
        f"{args.visitors} visitors start chats at once (two messages {GAP_SECONDS} s apart), then {args.burst} more"
        f" each back to back; {args.agents} agents on desks accepting; web processes {web_processes}"
    )
    site_key, sessions = prepare(agents=args.agents, setup=args.setup)
    codes = [("baseline", args.baseline_dir.resolve())] if args.baseline_dir else []
    codes.append(("this", ROOT))
    results: dict[str, list[dict]] = {label: [] for label, _ in codes}
    for run in range(args.runs):
        for label, code_dir in codes if run % 2 == 0 else list(reversed(codes)):
            found = one_run(code_dir, args, site_key, sessions)
            figures = summary(found, web_processes)
            results[label].append(figures)
            print_summary(f"{label} #{run + 1}", figures, found)
    best = {label: min(runs, key=lambda figures: figures["ack_p99_ms"]) for label, runs in results.items()}
    this = best["this"]
    target = this["ack_p99_ms"] < 1000
    verdict = "PASS" if target else "MISS"
    print(f"target acks p99 < 1 s at {args.visitors} visitors: {verdict} ({this['ack_p99_ms']:.0f} ms)")
    if "baseline" in best:
        base = best["baseline"]
        ratio = this["messages_per_s_per_web"] / base["messages_per_s_per_web"]
        print(
            f"messages/s per web process: {this['messages_per_s_per_web']:.1f} vs baseline"
            f" {base['messages_per_s_per_web']:.1f} = {ratio:.1f}x (target ≥ 5x: {'PASS' if ratio >= 5 else 'MISS'});"
            f" acks p99 {this['ack_p99_ms']:.0f} vs {base['ack_p99_ms']:.0f} ms"
        )
    print(f"Machine after: {machine()}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
