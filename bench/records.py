"""Benchmark of the System of Record's hot reads, each against a floor measured in the same run.

    .venv/bin/python bench/records.py [--identities 1000000] [--events 1000] [--requests 2000] [--force]

(a) ``customer_lookup`` of random existing phone/email/account identifiers among >= --identities;
(b) ``journey_timeline`` of a customer with --events events: the first page, the second and the
    last full page (keyset cursor);
    both per call, p50/p99 in ms, against the very statements the selector sends (captured through
    ``connection.execute_wrapper``) replayed with plain psycopg2 on a second connection with the
    same parameters: the ratio is what the ORM and the selector add over the database round trip;
(c) GET /api/v1/customers/<id>/ (the 360 view) in requests/s over a real uvicorn process, with an
    API token, against GET /api/v1/sla-policies/ (same token, authentication, middleware and
    DRF, almost no work) measured the same way in the same run, and both against a bare ASGI app
    under the same uvicorn (bench/bare_asgi.py), the floor of the HTTP figures.

The data is prepared in the database named by DATABASE_URL, which must contain "bench" in its
name unless --force: customers with identities from the demo generator (``load_demo_data``), one
customer with --events journey events written through ``journey_record``, and a pool of
customers given cases and interactions by the demo generator for the API. A later run reuses it.
Targets (issue 2): look-up and timeline within 2x of raw SQL; look-up p99 under 5 ms at 1M.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: bench/ is sys.path[0], where this file would shadow the ``records`` app.
    _root = Path(__file__).resolve().parent.parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _root / "bench"]
    sys.path.insert(0, str(_root))

from bench.common import (
    BARE_ASGI,
    PROXY_HEADERS,
    ROOT,
    SERVER_ENV,
    LoadResult,
    Server,
    Timings,
    bare_asgi_command,
    free_port,
    guard_database,
    load,
    machine,
    server_commands,
    setup_django,
    verdict,
)

LOOKUP_KINDS = ("phone", "email", "account")
IDENTITIES_PER_CUSTOMER = 2.95  # the demo generator gives 3.05 on average; aim a little over the target
API_POOL = 500
TIMELINE_PAGE = 50
TIMELINE_KINDS = [
    ("interaction.recorded", "voice", "Voice inbound conversation (resolved)"),
    ("interaction.recorded", "chat", "Web chat inbound conversation (resolved)"),
    ("interaction.recorded", "email", "Email inbound conversation (follow-up)"),
    ("case.created", "", "Case opened: billing question"),
    ("case.resolved", "", "Case open → resolved"),
    ("customer.updated", "", "Contact details changed"),
    ("consent.changed", "sms", "SMS service consent granted"),
    ("identity.added", "", "Identifier added"),
]


# --- Data ------------------------------------------------------------------------------------


def prepare_identities(target: int) -> tuple[int, int]:
    """At least ``target`` identities, from the demo generator; (identities, customers)."""
    from records.customers.models import Customer
    from records.demo.generator import DemoSize, load_demo_data
    from records.identities.models import Identity

    identities = Identity.objects.count()
    if identities >= target:
        return identities, Customer.objects.count()
    if Customer.objects.exists():
        sys.exit(
            f"The database holds {identities:,} identities, fewer than --identities {target:,}, and already has "
            "customers; the demo generator loads into an empty database only. Use a fresh bench database "
            "or a smaller --identities."
        )
    customers = math.ceil(target / IDENTITIES_PER_CUSTOMER)
    print(f"Loading {customers:,} demo customers (cases and interactions: 0) for ≥ {target:,} identities …")
    started = time.monotonic()

    def report(line: str) -> None:  # headings, and batches every 50,000 rows
        done = line.rpartition(":")[2].partition("/")[0].strip().replace(",", "")
        if "/" not in line or (done.isdigit() and int(done) % 50_000 == 0):
            print(line, flush=True)

    load_demo_data(size=DemoSize(customers=customers, cases=0, interactions=0), report=report)
    print(f"  loaded in {time.monotonic() - started:.0f}s")
    identities = Identity.objects.count()
    if identities < target:
        sys.exit(f"The demo generator gave {identities:,} identities, fewer than {target:,}.")
    return identities, Customer.objects.count()


def prepare_timeline(events: int) -> int:
    """The id of a customer with at least ``events`` journey events, written through ``journey_record``."""
    from django.db import transaction
    from django.db.models import Count

    from records.audit.context import audited
    from records.customers.models import Customer
    from records.journey.models import JourneyEvent
    from records.journey.services import journey_record

    busiest = (
        JourneyEvent.objects.values("customer_id").annotate(events=Count("id")).order_by("-events", "customer_id")
    ).first()
    if busiest and busiest["events"] >= events:
        return busiest["customer_id"]
    customer = Customer.objects.order_by("id").first()
    missing = events - JourneyEvent.objects.filter(customer=customer).count()
    print(f"Writing {missing:,} journey events for customer {customer.pk} …")
    rng = random.Random(events)
    now = datetime.now(UTC)
    with transaction.atomic(), audited(None, job="bench"):
        for number in range(missing):
            kind, channel, summary = rng.choice(TIMELINE_KINDS)
            journey_record(
                customer=customer,
                kind=kind,
                channel=channel,
                summary=summary,
                payload={"bench": number},
                occurred_at=now - timedelta(seconds=rng.uniform(0, 2 * 365 * 86400)),
            )
    return customer.pk


def prepare_api_pool(size: int) -> list[int]:
    """Ids of customers with cases and interactions (the demo generator's, as in ``make run``)."""
    from django.db import transaction

    from records.audit.context import audited
    from records.customers.models import Customer
    from records.demo.generator import BATCH, DemoBuilder, DemoSize
    from records.interactions.models import Interaction
    from records.journey.models import JourneyEvent

    with_history = list(
        Interaction.objects.filter(customer__isnull=False)
        .order_by("customer_id")
        .values_list("customer_id", flat=True)
        .distinct()[:size]
    )
    if len(with_history) >= min(size // 2, 50):  # loaded by an earlier run (or the full demo data set)
        return with_history
    step = max(1, Customer.objects.count() // size)
    ids = list(Customer.objects.order_by("id").values_list("id", flat=True)[1 : size * step : step])
    pool = list(Customer.objects.filter(pk__in=ids).select_related("team"))
    # The demo's proportions: 2.5 cases and 10 interactions per customer.
    builder = DemoBuilder(
        size=DemoSize(customers=0, cases=len(pool) * 5 // 2, interactions=len(pool) * 10),
        seed=size,
        now=None,
        report=lambda line: None,
    )
    print(f"Giving {len(pool)} customers the demo's cases and interactions for the API …")
    with transaction.atomic(), audited(None, job="bench"):
        _teams, agents = builder.teams_and_agents()
        policies = builder.sla_policies()
        cases = builder.cases(pool, agents, policies)
        builder.interactions(pool, agents, cases)
        JourneyEvent.objects.bulk_create(builder.events, batch_size=BATCH)
    return sorted(customer.pk for customer in pool)


def analyze_tables() -> None:
    """Fresh planner statistics, as autovacuum would give after a load this size."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE records_identity, records_customer, records_journeyevent, records_case, records_interaction"
        )


def lookup_sample(count: int, seed: int) -> list[tuple[str, str]]:
    """``count`` random existing (kind, value) identifiers of the kinds people type: phone, email, account."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'records_identity'")
        rows = max(cursor.fetchone()[0], 1)
        percent = min(100.0, 100.0 * count * 3 / rows)
        cursor.execute(
            f"SELECT kind, value FROM records_identity TABLESAMPLE BERNOULLI ({percent:.6f}) REPEATABLE (%s) "
            "WHERE kind = ANY(%s) ORDER BY id",
            [seed, list(LOOKUP_KINDS)],
        )
        sample = cursor.fetchall()
    random.Random(seed).shuffle(sample)
    return sample[:count]


# --- Measuring a selector against its own SQL -------------------------------------------------


class Recorder:
    """``connection.execute_wrapper`` that keeps each statement and its parameters as sent to the driver."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, tuple]] = []

    def __call__(self, execute, sql, params, many, context):
        self.statements.append((sql, tuple(params) if params is not None else None))
        return execute(sql, params, many, context)


def captured(call) -> tuple[object, list[tuple[str, tuple]]]:
    from django.db import connection

    recorder = Recorder()
    with connection.execute_wrapper(recorder):
        result = call()
    return result, recorder.statements


def raw_connection():
    """A psycopg connection with Django's own connection parameters and session settings."""
    import psycopg
    from django.db import connection

    params = connection.get_connection_params()
    # psycopg's client-side binding cursor, as Django's (plain tuples: the floor builds no models)
    params["cursor_factory"] = psycopg.ClientCursor
    raw = psycopg.connect(**params)
    raw.autocommit = True  # as Django runs outside atomic blocks
    with raw.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'UTC'")
    return raw


def compare(calls, statements, *, rounds: int, per_round: int) -> tuple[Timings, Timings]:
    """Time each ORM call and the replay of its captured statements, alternating blocks.

    ``calls[i]`` and ``statements[i]`` are the same look-up; both sides walk the same inputs in the
    same order, in blocks of ``per_round``, swapping which goes first each round so that a noisy
    neighbour hurts both alike.
    """
    raw = raw_connection()
    cursor = raw.cursor()
    orm, floor = Timings(), Timings()
    clock = time.perf_counter_ns
    position = 0

    def orm_block(block):
        for call in block:
            started = clock()
            call()
            orm.samples.append(clock() - started)

    def raw_block(block):
        for sqls in block:
            started = clock()
            for sql, params in sqls:
                cursor.execute(sql, params)
                cursor.fetchall()
            floor.samples.append(clock() - started)

    for warm in range(min(len(calls), 200)):  # warm both connections and both code paths
        calls[warm]()
        for sql, params in statements[warm]:
            cursor.execute(sql, params)
            cursor.fetchall()
    for number in range(rounds):
        indexes = [(position + offset) % len(calls) for offset in range(per_round)]
        position += per_round
        blocks = (
            lambda indexes=indexes: orm_block([calls[i] for i in indexes]),
            lambda indexes=indexes: raw_block([statements[i] for i in indexes]),
        )
        for run in blocks if number % 2 == 0 else reversed(blocks):
            run()
    cursor.close()
    raw.close()
    return orm, floor


def bench_lookup(sample: list[tuple[str, str]], *, calls: int) -> tuple[Timings, Timings, int]:
    from records.identities.selectors import customer_lookup

    closures, statements, queries = [], [], set()
    for kind, value in sample:
        customer, sent = captured(lambda kind=kind, value=value: customer_lookup(kind=kind, value=value))
        if customer is None:
            sys.exit(f"customer_lookup found nobody for the existing identity {kind} {value!r}.")
        queries.add(len(sent))
        closures.append(lambda kind=kind, value=value: customer_lookup(kind=kind, value=value))
        statements.append(sent)
    per_round = 500
    orm, floor = compare(closures, statements, rounds=max(2, calls // per_round), per_round=per_round)
    return orm, floor, max(queries)


def bench_timeline(customer_id: int, *, calls: int) -> dict[str, tuple[Timings, Timings, int]]:
    from records.journey.models import JourneyEvent
    from records.journey.selectors import journey_timeline

    keys = list(
        JourneyEvent.objects.filter(customer_id=customer_id)
        .order_by("-occurred_at", "-id")
        .values_list("occurred_at", "id")
    )
    pages = [
        ("first page", None),
        ("page 2 (cursor)", keys[TIMELINE_PAGE - 1]),
        # The cursor whose next page is the last full one.
        (f"page {len(keys) // TIMELINE_PAGE} (cursor)", keys[len(keys) - TIMELINE_PAGE - 1]),
    ]
    results = {}
    for label, before in pages:

        def call(before=before):
            return journey_timeline(customer_id=customer_id, before=before, limit=TIMELINE_PAGE)

        page, sent = captured(call)
        if len(page) != TIMELINE_PAGE:
            sys.exit(f"journey_timeline gave {len(page)} events for {label}, expected {TIMELINE_PAGE}.")
        per_round = 250
        orm, floor = compare([call], [sent], rounds=max(2, calls // per_round), per_round=per_round)
        results[label] = (orm, floor, len(sent))
    return results


# --- The API -----------------------------------------------------------------------------------


def api_token() -> tuple[object, str]:
    from cea.accounts.models import User
    from cea.accounts.services import api_token_create, user_create
    from cea.common.roles import Role

    user = User.objects.filter(username="bench-integration").first() or user_create(
        username="bench-integration", role=Role.INTEGRATION
    )
    return api_token_create(user=user, name=f"bench {datetime.now(UTC):%Y-%m-%d %H:%M}", scopes=READ_SCOPES)


READ_SCOPES = ["customers:read", "cases:read"]
FLOOR_PATH = "/api/v1/sla-policies/"


def queries_per_request(path: str, token: str) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    # secure: as behind the TLS proxy of production (stack mode redirects plain HTTP)
    client.get(path, secure=True, HTTP_AUTHORIZATION=f"Bearer {token}")  # first request: warm caches
    with CaptureQueriesContext(connection) as context:
        response = client.get(path, secure=True, HTTP_AUTHORIZATION=f"Bearer {token}")
    if response.status_code != 200:
        sys.exit(f"GET {path} answered {response.status_code}: {response.content[:300]!r}")
    return len(context.captured_queries)


def database_sessions() -> int:
    """Sessions PostgreSQL has started in this database (pg_stat_database.sessions, PostgreSQL 14+)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def bench_api(
    pool: list[int], token: str, *, requests: int, concurrency: int, rounds: int = 2
) -> tuple[LoadResult, LoadResult, LoadResult, int]:
    """(360, trivial endpoint, bare ASGI app, PostgreSQL sessions opened per 1,000 requests)."""
    headers = {"Authorization": f"Bearer {token}", **PROXY_HEADERS}
    endpoints = {"floor": [FLOOR_PATH], "360": [f"/api/v1/customers/{pk}/" for pk in pool]}
    results = {name: LoadResult() for name in [*endpoints, "bare"]}
    name = "uvicorn (1 worker)"
    port, bare_port = free_port(), free_port()
    with (
        Server(name, server_commands(port)[name], port, FLOOR_PATH, headers, env=SERVER_ENV),
        Server(BARE_ASGI, bare_asgi_command(bare_port), bare_port, "/", {}),
    ):
        sessions_before, measured = database_sessions(), 0
        for number in range(rounds):
            order = [*endpoints, "bare"] if number % 2 == 0 else ["bare", *reversed(endpoints)]
            for endpoint in order:
                outcome = load(
                    port=bare_port if endpoint == "bare" else port,
                    paths=endpoints.get(endpoint, [FLOOR_PATH]),
                    headers=headers,
                    concurrency=concurrency,
                    requests=requests // rounds,
                    warmup=100,
                )
                results[endpoint].add(outcome)
                if endpoint != "bare":
                    measured += outcome["requests"] + 100
        time.sleep(1.0)  # session counts are flushed when backends exit
        opened = database_sessions() - sessions_before
    return results["360"], results["floor"], results["bare"], round(opened / measured * 1000)


# --- Report -------------------------------------------------------------------------------------


def ratio(value: float, floor: float) -> float:
    return value / floor if floor else math.inf


def print_selector_row(label: str, orm: Timings, floor: Timings, targets: list[str]) -> None:
    print(
        f"{label:<34} {len(orm.samples):>6} {orm.p50_ms:>7.3f} {orm.p99_ms:>7.3f} {floor.p50_ms:>7.3f} "
        f"{floor.p99_ms:>7.3f} {ratio(orm.p50_ms, floor.p50_ms):>6.2f}x {ratio(orm.p99_ms, floor.p99_ms):>6.2f}x  "
        + "; ".join(targets)
    )


def commit() -> str:
    """The code measured: ``git describe`` of the checkout, or CEA_BENCH_COMMIT for an exported copy."""
    if os.environ.get("CEA_BENCH_COMMIT"):
        return os.environ["CEA_BENCH_COMMIT"]
    try:
        described = subprocess.run(
            ["git", "describe", "--always", "--dirty"],  # noqa: S607 - git from PATH, fixed arguments
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return described.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description="CEA System of Record benchmark (see docs/performance.md)")
    parser.add_argument("--identities", type=int, default=1_000_000, help="at least this many identities")
    parser.add_argument("--events", type=int, default=1000, help="journey events of the timeline customer")
    parser.add_argument("--requests", type=int, default=2000, help="HTTP requests per endpoint")
    parser.add_argument("--lookups", type=int, default=20000, help="timed look-ups (and as many raw SQL)")
    parser.add_argument("--timeline-calls", type=int, default=5000, help="timed calls per timeline page")
    parser.add_argument("--concurrency", type=int, default=8, help="HTTP connections kept busy")
    parser.add_argument("--skip-api", action="store_true", help="no HTTP part")
    parser.add_argument("--force", action="store_true", help="allow a database whose name lacks 'bench'")
    args = parser.parse_args()
    if args.events < 2 * TIMELINE_PAGE:
        parser.error(f"--events must be at least {2 * TIMELINE_PAGE}.")

    setup_django()
    database = guard_database(force=args.force)
    identities, customers = prepare_identities(args.identities)
    timeline_customer = prepare_timeline(args.events)
    pool = [] if args.skip_api else prepare_api_pool(API_POOL)
    analyze_tables()

    print()
    print(f"CEA records bench — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit()}, database {database}")
    print(f"Machine: {machine()}; Python {sys.version.split()[0]}")
    print(
        f"Data: {identities:,} identities over {customers:,} customers; timeline customer {timeline_customer} "
        f"with ≥{args.events:,} events; API pool of {len(pool)} customers with cases and interactions"
    )
    print()
    print("Per call, ms. Floor: the same statements replayed with psycopg2 (plain, not prepared), same server.")
    print("Targets: ratio ≤ 2x (judged on p50 and on p99); look-up p99 < 5 ms.")
    print(
        f"{'measure':<34} {'calls':>6} {'p50':>7} {'p99':>7} {'raw p50':>7} {'raw p99':>7} "
        f"{'p50 x':>7} {'p99 x':>7}  targets"
    )

    sample = lookup_sample(min(5000, args.lookups), seed=20261123)
    orm, floor, queries = bench_lookup(sample, calls=args.lookups)
    print_selector_row(
        f"customer_lookup ({queries} query)",
        orm,
        floor,
        [
            f"p50 ≤2x {verdict(ratio(orm.p50_ms, floor.p50_ms) <= 2)}",
            f"p99 ≤2x {verdict(ratio(orm.p99_ms, floor.p99_ms) <= 2)}",
            f"p99 <5ms {verdict(orm.p99_ms < 5)}",
        ],
    )
    for label, (orm, floor, _queries) in bench_timeline(timeline_customer, calls=args.timeline_calls).items():
        print_selector_row(
            f"journey_timeline {label}",
            orm,
            floor,
            [
                f"p50 ≤2x {verdict(ratio(orm.p50_ms, floor.p50_ms) <= 2)}",
                f"p99 ≤2x {verdict(ratio(orm.p99_ms, floor.p99_ms) <= 2)}",
            ],
        )

    if args.skip_api:
        print(f"Load average at the end: {', '.join(f'{value:.2f}' for value in os.getloadavg())}")
        return
    token, plaintext = api_token()
    try:
        detail_queries = queries_per_request(f"/api/v1/customers/{pool[0]}/", plaintext)
        floor_queries = queries_per_request(FLOOR_PATH, plaintext)
        detail, floor_api, bare, sessions = bench_api(
            pool, plaintext, requests=args.requests, concurrency=args.concurrency
        )
    finally:
        from cea.accounts.services import api_token_revoke

        api_token_revoke(token=token)
    print()
    print(
        f"API over uvicorn (1 worker, access log off), {args.concurrency} keep-alive connections, "
        f"{args.requests:,} requests per endpoint in 2 alternating rounds, client in its own process."
    )
    print(f"{'endpoint':<44} {'queries':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}  vs trivial  vs bare ASGI")
    for label, result, queries in (
        (f"{BARE_ASGI} (floor)", bare, 0),
        (f"GET {FLOOR_PATH} (trivial)", floor_api, floor_queries),
        ("GET /api/v1/customers/<id>/ (360)", detail, detail_queries),
    ):
        print(
            f"{label:<44} {queries:>7} {result.rps:>8.0f} {result.latencies.p50_ms:>8.2f} "
            f"{result.latencies.p99_ms:>8.2f}  {ratio(result.rps, floor_api.rps):>9.2f}x "
            f"{ratio(result.rps, bare.rps):>10.2f}x{result.problems()}"
        )
    print(f"PostgreSQL sessions opened per 1,000 requests during the API run: {sessions}")
    print(f"Load average at the end: {', '.join(f'{value:.2f}' for value in os.getloadavg())}")


if __name__ == "__main__":
    main()
