"""The context store: read and write latency against raw Redis in the same run.

    DATABASE_URL=… REDIS_URL=… SECRET_KEY=… .venv/bin/python bench/context.py [--calls 2000]

- read: ``context_read`` of a 10-key context vs a raw Redis GET of the same document;
- write: ``context_write`` of one key with an expected version (Lua check-and-set in Redis plus
  the durable log row in PostgreSQL) vs a raw Redis SET of the same document, and vs the Lua
  script alone (the hot half without the durable log).
Each is printed as p50/p99 per call in ms with its ratio to the floor.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Timings, guard_database, setup_django


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    setup_django()
    guard_database(force=args.force)

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

    print(f"context store, {args.calls} calls each, document {len(document)} bytes")
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
    for key in raw.scan_iter(f"{settings.REDIS_PREFIX}:*"):
        raw.delete(key)
    print(json.dumps({"read_p50_ms": read.p50_ms, "write_p50_ms": full.p50_ms, "raw_insert_p50_ms": insert.p50_ms}))


if __name__ == "__main__":
    main()
