"""Benchmark of journey stage assignment, against a floor measured in the same run.

    .venv/bin/python bench/journeys.py [--events 1000000] [--customers 100000] [--reuse] [--force]
    .venv/bin/python bench/journeys.py --all [--training-customers 100000] [--strategy-events 2000] …

``--all`` runs the issue's three figures in one go — stage assignment (first; its rows are removed
after it), model training (bench/scoring.py's ``model_training``) and strategy evaluation per
incoming event (bench/strategies.py's ``strategy_evaluation``) — and prints one summary: each
figure's floor, the figure, the ratio, the load average, the date and the commit. Use a fresh
bench database for it (training reads every customer in the database).

(``CEA_BENCH_JOURNEY_EVENTS`` sets the default size; the issue's size is 1 million.)

Stage assignment (``stages_rebuild``: every journey event read past a zero watermark, matched to
the default stage rules, lapses found in the gaps, visits inserted, the current stages written
back to the customers through records' ``customers_set_journey_stages`` with their
``stage.entered`` events) over N journey events of M customers spread over 365 days, in events/s,
as a ratio to one raw SQL pass over the same rows (per customer: events, first and last
occurrence, kinds seen, written to a table) timed in the same run.

The data is written into the database named by DATABASE_URL, which must contain "bench" in its
name unless --force. Customers and events are inserted by ``INSERT … SELECT generate_series``
with triggers off (replica mode: the bench measures the assignment, not the audit trail of the
load; journey events are append-only, so earlier bench rows are removed the same way).
``--reuse`` keeps the bench rows already loaded when there are exactly N events.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

if __package__ in (None, ""):
    _root = Path(__file__).resolve().parent.parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _root / "bench"]
    sys.path.insert(0, str(_root))

from bench.common import guard_database, machine, setup_django

# The journey's event kinds by weight (what records, engagement and integration record today, and
# orders and quotes from back-ends), one in ten on no rule at all (consent changes).
KINDS = (
    ("customer.created", "", 1),
    ("quote.requested", "web", 1),
    ("order.placed", "web", 2),
    ("case.created", "", 1),
    ("case.resolved", "", 1),
    ("interaction.recorded", "phone", 1),
    ("interaction.recorded", "chat", 1),
    ("conversation.started", "chat", 1),
    ("consent.changed", "email", 1),
)

LOAD_CUSTOMERS = """
INSERT INTO records_customer (created_at, updated_at, given_name, family_name, search_name, email, phone,
    address_line1, address_line2, city, postcode, country, language, preferred_channel, preferences, segment,
    persona, value_tier, custom_attributes, scores, status, journey_stage, persona_reasons)
SELECT now(), now(), 'Bench', 'Customer ' || n, 'bench customer ' || n, '', '', '', '', '', '', '', 'en', '',
    '{}', 'bench-journeys', (ARRAY['digital-native', 'traditionalist', ''])[1 + n %% 3], 'standard', '{}', '{}',
    'active', '', '[]'
FROM generate_series(1, %s) AS n
"""

# Event n goes to customer (n × 7919) mod M; its kind shifts with n / M, so each customer's events
# have different kinds, at times spread over the year.
LOAD_EVENTS = """
INSERT INTO records_journeyevent (customer_id, occurred_at, recorded_at, source_system, channel, kind, summary, payload)
SELECT c.ids[1 + (n * 7919) %% cardinality(c.ids)],
    %s::timestamptz + make_interval(secs => (n * 104729 %% (365 * 86400))),
    %s::timestamptz, 'bench', k.channels[1 + (n + n / cardinality(c.ids)) %% cardinality(k.kinds)],
    k.kinds[1 + (n + n / cardinality(c.ids)) %% cardinality(k.kinds)],
    'bench event', '{}'
FROM generate_series(1::bigint, %s::bigint) AS n,
    (SELECT array_agg(id ORDER BY id) AS ids FROM records_customer WHERE segment = 'bench-journeys') AS c,
    (SELECT %s::text[] AS kinds, %s::text[] AS channels) AS k
"""

RAW_PASS = """
CREATE TABLE bench_journeys_floor AS
SELECT customer_id, count(*) AS events, min(occurred_at) AS first_at, max(occurred_at) AS last_at,
    array_agg(DISTINCT kind) AS kinds
FROM records_journeyevent WHERE source_system = 'bench' AND kind NOT LIKE 'stage.%'
GROUP BY customer_id
"""


def _load(*, events: int, customers: int) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    began = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM records_journeyevent")
        cursor.execute("DELETE FROM records_customer WHERE segment = 'bench-journeys'")
        cursor.execute(LOAD_CUSTOMERS, [customers])
        kinds = [kind for kind, _, weight in KINDS for _ in range(weight)]
        channels = [channel for _, channel, weight in KINDS for _ in range(weight)]
        now = timezone.now()
        # Recorded long ago: every event is past the assignment's lag.
        cursor.execute(LOAD_EVENTS, [now - timedelta(days=365), now - timedelta(days=1), events, kinds, channels])
        cursor.execute("SET LOCAL session_replication_role = origin")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE records_journeyevent")
        cursor.execute("ANALYZE records_customer")
    print(f"  loaded {customers:,} customers and {events:,} journey events in {time.perf_counter() - began:.1f} s")


def _floor() -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_journeys_floor")
        began = time.perf_counter()
        cursor.execute(RAW_PASS)
        seconds = time.perf_counter() - began
        cursor.execute("DROP TABLE bench_journeys_floor")
    return seconds


def _as_replica(*statements: str) -> None:
    """Run ``statements`` in one transaction with triggers off (the bench's own rows: no audit trail)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        for statement in statements:
            cursor.execute(statement)


def _forget_stages() -> None:
    """Every bench customer without a stage, so that each run writes every stage back."""
    _as_replica(
        "UPDATE records_customer SET journey_stage = '', journey_stage_since = NULL WHERE segment = 'bench-journeys'"
    )


def stage_assignment(*, events: int, customers: int | None = None, reuse: bool = False) -> dict[str, float]:
    """Load (or reuse), measure and print stage assignment against its floor; its figures for a summary."""
    from django.utils import timezone

    from insights.journeys.assignment import stages_rebuild
    from insights.journeys.models import StageVisit
    from records.journey.models import JourneyEvent

    customers = customers or max(1, events // 10)
    print(f"Journey stage assignment: {events:,} events, {customers:,} customers")
    print(f"  {machine()}")
    loaded = JourneyEvent.objects.filter(source_system="bench").count()
    if not (reuse and loaded == events):
        _load(events=events, customers=customers)

    _forget_stages()
    floor = _floor()
    began = time.perf_counter()
    run = stages_rebuild(now=timezone.now())
    assignment = time.perf_counter() - began
    print(
        f"stage assignment: {assignment:.1f} s, {events / assignment:,.0f} events/s ({run.facts:,} facts,"
        f" {StageVisit.objects.count():,} visits, {run.changed:,} customers' stage written back);"
        f" raw SQL pass {floor:.1f} s, {events / floor:,.0f} events/s; ratio {assignment / floor:.1f}x"
    )
    print(f"  load average after: {machine()}")
    return {"events": float(events), "seconds": assignment, "floor_seconds": floor}


def _summary(*, commit: str, assignment: dict, evaluation: dict, training: dict) -> None:
    """One screen: each benchmark's floor, its figure, the ratio; the machine's load; the date and commit."""
    print(f"\nSummary ({date.today():%Y-%m-%d}, commit {commit}; {machine()})")
    print(f"{'benchmark':<52}{'floor':>14}{'measured':>14}{'ratio':>9}")
    rows = [
        (
            f"stage assignment, {assignment['events']:,.0f} journey events",
            f"{assignment['floor_seconds']:.1f} s",
            f"{assignment['seconds']:.1f} s",
            assignment["seconds"] / assignment["floor_seconds"],
        ),
        (
            "strategy evaluation per event, 100 strategies, p50",
            f"{evaluation['floor_p50_ms']:.2f} ms",
            f"{evaluation['p50_ms']:.2f} ms",
            evaluation["p50_ms"] / evaluation["floor_p50_ms"],
        ),
        (
            "strategy evaluation per event, p99 (target < 20 ms)",
            f"{evaluation['floor_p99_ms']:.2f} ms",
            f"{evaluation['p99_ms']:.2f} ms",
            evaluation["p99_ms"] / evaluation["floor_p99_ms"],
        ),
    ]
    for kind in ("churn_risk", "propensity"):
        rows.append(
            (
                f"{kind} training, {training['customers']:,.0f} customers",
                f"{training['feature_seconds']:.2f} s",
                f"{training[f'{kind}_seconds']:.2f} s",
                training[f"{kind}_seconds"] / training["feature_seconds"],
            )
        )
    for name, floor, measured, ratio in rows:
        print(f"{name:<52}{floor:>14}{measured:>14}{ratio:>8.1f}x")
    print("floors: one raw SQL pass over the events; one customer-row select; records' feature statement")


def _unload() -> None:
    """Remove the bench's customers, their events and the stage visits (--all: training reads every customer)."""
    _as_replica(
        "DELETE FROM records_journeyevent WHERE source_system = 'bench'"
        " OR customer_id IN (SELECT id FROM records_customer WHERE segment = 'bench-journeys')",
        "TRUNCATE insights_stagevisit",
        "DELETE FROM records_customer WHERE segment = 'bench-journeys'",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=int(os.environ.get("CEA_BENCH_JOURNEY_EVENTS", 1_000_000)))
    parser.add_argument("--customers", type=int, default=None, help="default: one per ten events")
    parser.add_argument("--reuse", action="store_true", help="keep the bench events already loaded")
    parser.add_argument("--force", action="store_true", help="allow a database whose name lacks 'bench'")
    parser.add_argument("--all", action="store_true", help="also strategy evaluation and model training; a summary")
    parser.add_argument("--strategy-events", type=int, default=2000, help="--all: events measured (strategies)")
    parser.add_argument("--training-customers", type=int, default=100_000, help="--all: customers trained on")
    arguments = parser.parse_args()
    setup_django()
    name = guard_database(force=arguments.force)
    print(f"bench/journeys.py on database {name!r}")
    if not arguments.all:
        stage_assignment(events=arguments.events, customers=arguments.customers, reuse=arguments.reuse)
        return
    from bench.records import commit
    from bench.scoring import model_training
    from bench.strategies import strategy_evaluation

    # Stage assignment first (before the training's holdings are facts too), its rows removed after it;
    # then training, which reads every customer; then the strategies, which add customers of their own.
    assignment = stage_assignment(events=arguments.events, customers=arguments.customers, reuse=arguments.reuse)
    _unload()
    training = model_training(customers=arguments.training_customers)
    evaluation = strategy_evaluation(events=arguments.strategy_events)
    _summary(commit=commit(), assignment=assignment, evaluation=evaluation, training=training)


if __name__ == "__main__":
    main()
