"""The context store: read and write latency against raw Redis in the same run; a change's fan-out to desks.

    DATABASE_URL=… REDIS_URL=… SECRET_KEY=… .venv/bin/python bench/context.py [--calls 2000]
    DATABASE_URL=… REDIS_URL=… SECRET_KEY=… .venv/bin/python bench/context.py --fanout [--desks 200]
        [--writes 100] [--rounds 2] [--gap 0.1]

- read: ``context_read`` of a 10-key context vs a raw Redis GET of the same document;
- write: ``context_write`` of one key with an expected version (Lua check-and-set in Redis plus
  the durable log row in PostgreSQL) vs a raw Redis SET of the same document, and vs the Lua
  script alone (the hot half without the durable log).
Each is printed as p50/p99 per call in ms with its ratio to the floor.

``--fanout`` (issue 17): the ASGI app under uvicorn, started as ``make run`` starts it (one worker,
``--no-proxy-headers``, ``--ws-max-size``); --desks agents of one team, each signed in (a session
cookie) on its own ``ws/context/`` socket subscribed to one customer of that team. Timed, per desk:
from the start of a ``context_write`` to that customer's context (durable, in this process) until
the desk's socket has the ``context.changed`` frame of that version. Floors, same run: a bare
channel-layer ``group_send`` to a group of --desks channels of this process until each has
``receive``d it; and a raw ``group_send`` of the same ``context.changed`` event to the desks'
group (no write) until each socket has it. --gap seconds between two measures, so that access
re-checks (``CEA_WS_ACCESS_RECHECK_SECONDS``) fall inside the run as on a live desk. Blocks
alternate their order between rounds. Writes users, a team and a customer prefixed ``cbench``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PYTHON, Server, Timings, free_port, guard_database, machine, setup_django

PREFIX = "cbench"


def measure(call, calls: int, warmup: int = 50) -> Timings:
    for _ in range(warmup):
        call()
    timings = Timings()
    samples = []
    for _ in range(calls):
        started = time.perf_counter_ns()
        call()
        samples.append(time.perf_counter_ns() - started)
    timings.extend(samples)
    return timings


def row(label: str, measured: Timings, floor: Timings, floor_label: str) -> None:
    print(
        f"{label:<38} p50 {measured.p50_ms:7.3f} ms  p99 {measured.p99_ms:7.3f} ms   "
        f"{floor_label:<22} p50 {floor.p50_ms:7.3f} ms  p99 {floor.p99_ms:7.3f} ms   "
        f"ratio p50 {measured.p50_ms / floor.p50_ms:5.1f}x  p99 {measured.p99_ms / floor.p99_ms:5.1f}x"
    )


# --- A context change pushed to the desks ----------------------------------------------------


def prepare_desks(desks: int) -> tuple[int, list[str]]:
    """A team, a customer of it, and ``desks`` agents of the team, each signed in: (customer id, session keys)."""
    import logging

    from django.conf import settings
    from django.test import Client

    from cea.accounts.models import Team, User
    from records.customers.models import Customer

    logging.getLogger("axes").setLevel(logging.WARNING)  # its "successful login" lines, for force_login
    team, _ = Team.objects.get_or_create(name=f"{PREFIX}-team")
    customer = Customer.objects.filter(team=team).first() or Customer.objects.create(
        team=team, given_name="Fan", family_name="Out"
    )
    existing = {user.username: user for user in User.objects.filter(username__startswith=f"{PREFIX}-desk-")}
    sessions = []
    for number in range(desks):
        name = f"{PREFIX}-desk-{number}"
        user = existing.get(name) or User.objects.create(username=name, role="agent")
        user.teams.add(team)
        client = Client()
        client.force_login(user)
        sessions.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
    return customer.pk, sessions


def make_run_command(port: int) -> list[str]:
    """uvicorn as ``make run`` starts it (cea/runtime/__main__.py), on this port, one worker."""
    from django.conf import settings

    return [
        PYTHON, "-m", "uvicorn", "cea.asgi:application", "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1", "--no-access-log", "--no-proxy-headers", "--lifespan", "off",
        "--ws-max-size", str(settings.CEA_WS_MAX_BYTES), "--log-level", "warning",
    ]  # fmt: skip


class Desk:
    """One desk's ws/context/ socket: when each ``context.changed`` version arrived."""

    def __init__(self, connection, arrived: dict[int, list[int]], wanted: dict[int, asyncio.Future], desks: int):
        self.connection = connection
        self.arrived, self.wanted, self.desks = arrived, wanted, desks
        self.subscribed = asyncio.get_running_loop().create_future()
        self.errors: list[dict] = []
        self.reader = asyncio.get_running_loop().create_task(self.read())

    async def read(self) -> None:
        async for raw in self.connection:
            at = time.perf_counter_ns()
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "context.changed":
                version = frame["version"]
                times = self.arrived.setdefault(version, [])
                times.append(at)
                future = self.wanted.get(version)
                if future is not None and len(times) >= self.desks and not future.done():
                    future.set_result(None)
            elif kind in ("subscribed", "error", "unsubscribed"):
                if kind != "subscribed":
                    self.errors.append(frame)
                if not self.subscribed.done():
                    self.subscribed.set_result(frame)


async def fanout_part(
    port: int, *, customer_id: int, sessions: list[str], args: argparse.Namespace
) -> tuple[dict[str, list[int]], list[dict]]:
    from channels.layers import get_channel_layer
    from django.conf import settings
    from websockets.asyncio.client import connect

    from engagement.context.services import context_read, context_write, live_group

    desks = len(sessions)
    arrived: dict[int, list[int]] = {}
    wanted: dict[int, asyncio.Future] = {}
    sockets: list[Desk] = []
    for session in sessions:
        connection = await connect(
            f"ws://127.0.0.1:{port}/ws/context/",
            origin=f"http://127.0.0.1:{port}",
            additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"},
            max_queue=None,
        )
        desk = Desk(connection, arrived, wanted, desks)
        await connection.send(json.dumps({"action": "subscribe", "scope": "customer", "id": customer_id}))
        frame = await asyncio.wait_for(desk.subscribed, 30)
        if frame.get("type") != "subscribed":
            raise RuntimeError(f"a desk could not subscribe: {frame}")
        sockets.append(desk)

    loop = asyncio.get_running_loop()
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-writer")
    current = await loop.run_in_executor(writer, lambda: context_read(scope="customer", context_id=customer_id))
    version = [current.version]
    layer = get_channel_layer()
    group = live_group(scope="customer", context_id=customer_id)
    floor_group = f"{PREFIX}.floor.{time.time_ns()}"
    channels = [await layer.new_channel() for _ in range(desks)]
    for channel in channels:
        await layer.group_add(floor_group, channel)
    raw_version = [1_000_000_000]
    names = ("write", "write_last", "raw", "raw_last", "layer", "layer_last")
    found: dict[str, list[int]] = {name: [] for name in names}

    def write() -> None:
        context = context_write(
            actor=None,
            scope="customer",
            context_id=customer_id,
            customer_id=customer_id,
            values={"step": version[0], "note": "fan-out"},
            source="bench",
        )
        version[0] = context.version

    async def until_all(number: int, before: int, kind: str, start) -> None:
        done = wanted[number] = loop.create_future()
        await start()
        await asyncio.wait_for(done, 30)
        times = [at - before for at in arrived.pop(number)]
        found[kind].extend(times)
        found[f"{kind}_last"].append(max(times))
        wanted.pop(number, None)

    async def timed_write() -> None:
        number = version[0] + 1
        before = time.perf_counter_ns()
        await until_all(number, before, "write", lambda: loop.run_in_executor(writer, write))

    async def timed_raw() -> None:
        raw_version[0] += 1
        number = raw_version[0]
        event = {
            "type": "context.changed", "scope": "customer", "id": str(customer_id), "version": number,
            "values": {"step": number, "note": "fan-out"}, "changed": ["note", "step"],
        }  # fmt: skip
        before = time.perf_counter_ns()
        await until_all(number, before, "raw", lambda: layer.group_send(group, event))

    async def timed_layer_each() -> None:
        before = time.perf_counter_ns()
        times: list[int] = []

        async def one(channel: str) -> None:
            await layer.receive(channel)
            times.append(time.perf_counter_ns() - before)

        waiting = [loop.create_task(one(channel)) for channel in channels]
        await layer.group_send(floor_group, {"type": "bench.ping"})
        await asyncio.wait_for(asyncio.gather(*waiting), 30)
        found["layer"].extend(times)
        found["layer_last"].append(max(times))

    for _ in range(5):  # warm-up: connections, query plans
        await timed_write()
        await timed_raw()
        await timed_layer_each()
    for name in found:
        found[name].clear()
    blocks = [("write", timed_write), ("raw", timed_raw), ("layer", timed_layer_each)]
    for number in range(args.rounds):
        for _name, measure in blocks if number % 2 == 0 else list(reversed(blocks)):
            for _ in range(args.writes):
                await measure()
                await asyncio.sleep(args.gap)
    errors = [error for desk in sockets for error in desk.errors]
    for desk in sockets:
        desk.reader.cancel()
        await desk.connection.close()
    for channel in channels:
        await layer.group_discard(floor_group, channel)
    writer.shutdown()
    return found, errors


def fanout(args: argparse.Namespace) -> None:
    from django.db import connection

    from bench.records import FLOOR_PATH, api_token, commit
    from cea.accounts.services import api_token_revoke

    print(f"context fan-out to desks — commit {commit()}; machine: {machine()}")
    customer_id, sessions = prepare_desks(args.desks)
    token, plaintext = api_token()  # only to see that the server answers
    connection.close()
    port = free_port()
    env = {"CEA_SSL_REDIRECT": "0"}
    try:
        with Server("uvicorn (make run)", make_run_command(port), port, FLOOR_PATH,
                    {"Authorization": f"Bearer {plaintext}"}, env=env) as server:  # fmt: skip
            try:
                found, errors = asyncio.run(fanout_part(port, customer_id=customer_id, sessions=sessions, args=args))
            except Exception:
                print(server.output(), file=sys.stderr)
                raise
    finally:
        api_token_revoke(token=token)
    floor = Timings()
    floor.extend(found["layer"])
    print(
        f"\nA context change pushed to {args.desks} desks (uvicorn as make run, 1 worker); {args.rounds} rounds of"
        f" {args.writes} each, {args.gap} s apart; ms from the write (or the group_send) to each desk's frame"
    )
    print(f"{'measure':<58} {'n':>6} {'p50':>8} {'p99':>8} {'p50 ratio':>9} {'p99 ratio':>9}")
    for key, label in (
        ("write", "context_write → context.changed on each desk"),
        ("write_last", "  the same, the last desk of each write"),
        ("raw", "raw group_send of the event → each desk's socket"),
        ("raw_last", "  the same, the last desk"),
        ("layer", f"bare channel layer: group_send → {args.desks} receives (floor)"),
        ("layer_last", "  the same, the last receive"),
    ):
        measured = Timings()
        measured.extend(found[key])
        print(
            f"{label:<58} {len(found[key]):>6} {measured.p50_ms:>8.2f} {measured.p99_ms:>8.2f}"
            f" {measured.p50_ms / floor.p50_ms:>8.1f}x {measured.p99_ms / floor.p99_ms:>8.1f}x"
        )
    write = Timings()
    write.extend(found["write"])
    print(f"target: p99 under 50 ms → {'PASS' if write.p99_ms < 50 else 'MISS'}")
    if errors:
        print(f"  !! {len(errors)} error frames, e.g. {errors[0]}")
    print(f"machine after: {machine()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--fanout", action="store_true", help="a context change pushed to --desks desks")
    parser.add_argument("--desks", type=int, default=200)
    parser.add_argument("--writes", type=int, default=100, help="timed writes (and floors) a round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--gap", type=float, default=0.1, help="seconds between two measures")
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    setup_django()
    guard_database(force=args.force)
    if args.fanout:
        fanout(args)
        return

    from django.conf import settings

    from engagement.context import store
    from engagement.context.services import context_read, context_write

    settings.REDIS_PREFIX = f"bench-ctx-{time.time_ns()}"
    raw = store.client()
    values = {f"key{i}": {"n": i, "text": "x" * 40} for i in range(10)}
    context = context_write(actor=None, scope="conversation", context_id="bench", values=values)
    document = raw.get(store.key_of("conversation", "bench"))
    raw_key = f"{settings.REDIS_PREFIX}:raw"
    raw.set(raw_key, document)

    print(f"context store, {args.calls} calls each, document {len(document)} bytes; machine: {machine()}")
    read = measure(lambda: context_read(scope="conversation", context_id="bench"), args.calls)
    raw_get = measure(lambda: raw.get(raw_key), args.calls)
    row("context_read (10 keys)", read, raw_get, "raw GET")

    version = [context.version]

    def write() -> None:
        written = context_write(
            actor=None,
            scope="conversation",
            context_id="bench",
            values={"step": version[0]},
            expected_version=version[0],
        )
        version[0] = written.version

    def hot_only() -> None:
        written = store.write(
            "conversation",
            "bench",
            changes={"step": store.Entry(value=version[0], expires_at=None)},
            expected_version=version[0],
        )
        version[0] = written.version

    raw_set = measure(lambda: raw.set(raw_key, document, ex=7200), args.calls)
    lua = measure(hot_only, args.calls)
    row("Lua check-and-set alone", lua, raw_set, "raw SET")
    full = measure(write, args.calls)
    row("context_write (+ durable log row)", full, raw_set, "raw SET")

    # The floor of a durable write: the same log row inserted with raw SQL and committed.
    from django.db import connection

    change = json.dumps({"step": {"value": 1, "expires_at": None}})

    def raw_insert() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO engagement_contextchange (scope, context_id, version, changes, source, changed_at)"
                " VALUES ('conversation', 'bench-raw', 1, %s, 'bench', now())",
                [change],
            )

    insert = measure(raw_insert, args.calls)
    floor = Timings()
    floor.extend([a + b for a, b in zip(sorted(raw_set.samples), sorted(insert.samples), strict=True)])
    row("context_write (+ durable log row)", full, floor, "raw SET + INSERT")

    # The same, interleaved: each context_write next to one raw SET + INSERT (alternating which
    # goes first), so that both see the same neighbours on a shared machine.
    def floor_call() -> None:
        raw.set(raw_key, document, ex=7200)
        raw_insert()

    paired: dict[str, list[int]] = {"write": [], "floor": [], "customer": []}
    customer = _bench_customer()
    customer_version = [context_read(scope="customer", context_id=customer).version]

    def customer_write() -> None:
        written = context_write(
            actor=None,
            scope="customer",
            context_id=customer,
            customer_id=customer,
            values={"step": customer_version[0]},
            expected_version=customer_version[0],
        )
        customer_version[0] = written.version

    for number in range(args.calls):
        calls = [("write", write), ("floor", floor_call), ("customer", customer_write)]
        for name, call in calls if number % 2 == 0 else reversed(calls):
            started = time.perf_counter_ns()
            call()
            paired[name].append(time.perf_counter_ns() - started)
    interleaved = {name: Timings(samples) for name, samples in paired.items()}
    print("interleaved, one of each per step:")
    row("context_write (+ durable log row)", interleaved["write"], interleaved["floor"], "raw SET + INSERT")
    row("  customer's (+ journey row, 2 rows)", interleaved["customer"], interleaved["floor"], "raw SET + INSERT")
    for key in raw.scan_iter(f"{settings.REDIS_PREFIX}:*"):
        raw.delete(key)
    print(
        json.dumps(
            {
                "read_p50_ms": read.p50_ms,
                "write_p50_ms": interleaved["write"].p50_ms,
                "write_p99_ms": interleaved["write"].p99_ms,
                "floor_p50_ms": interleaved["floor"].p50_ms,
                "floor_p99_ms": interleaved["floor"].p99_ms,
            }
        )
    )
    print(f"machine after: {machine()}")


def _bench_customer() -> int:
    from cea.accounts.models import Team
    from records.customers.models import Customer

    team, _ = Team.objects.get_or_create(name=f"{PREFIX}-team")
    customer = Customer.objects.filter(team=team).first() or Customer.objects.create(
        team=team, given_name="Fan", family_name="Out"
    )
    return customer.pk


if __name__ == "__main__":
    main()
