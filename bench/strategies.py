"""Engagement strategies: evaluation of one incoming journey event with 100 active strategies.

    DATABASE_URL=…bench… REDIS_URL=… SECRET_KEY=… .venv/bin/python bench/strategies.py [--events 2000]

Set-up: 10,000 customers (segments, value tiers, stages spread evenly), 100 active event
strategies — 90 on one exact kind each among 30 kinds (``bench.k0`` … ``bench.k29``, three per
kind), 10 on wildcards (``bench.*`` and others that match nothing) — with audiences on segment or
value tier, a 10% holdout, quiet hours outside the run's time; two of each kind's three do the
``priority_boost`` action (a real context write: Redis, the durable log row and the journey event it
records), the third a ``next_best_action`` (arbitration's two pools), with values and levers that
differ. The caps are raised so every matching strategy is eligible: the worst case of arbitration
per event (the 5% control group included); arbitration keeps one proactive action and up to three
next best actions, the rest are recorded ``outranked``.

Measured: ``strategies_evaluate_event`` per event (index look-up with its cache-version read, the
customer row, the customer's recent firings, the one INSERT of the firings, the commit and the
action task sent to the broker), p50/p99 over ``--events`` events of random customers and kinds;
then the action task apart (``firings_act`` of one fired firing: a context write with its durable
log row and journey event), as a worker runs it after the commit.

Floor, in the same run: one raw SQL select of the event's customer row through the same cursor.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Timings, guard_database, machine, setup_django

KINDS = 30
CUSTOMERS = 10_000
SEGMENTS = ["retail", "sme", "premier", "student"]
TIERS = ["standard", "silver", "gold", "platinum"]


def measure(calls) -> Timings:
    timings = Timings()
    samples = []
    for call in calls:
        started = time.perf_counter_ns()
        call()
        samples.append(time.perf_counter_ns() - started)
    timings.extend(samples)
    return timings


def setup_rows(rng: random.Random):
    import datetime as dt

    from insights.strategies.models import Strategy, StrategyFiring
    from insights.strategies.services import strategy_create
    from records.customers.models import Customer

    StrategyFiring.objects.filter(strategy__key__startswith="bench-").delete()
    Strategy.objects.filter(key__startswith="bench-").delete()
    have = Customer.objects.filter(segment__in=SEGMENTS, given_name="Bench").count()
    if have < CUSTOMERS:
        Customer.objects.bulk_create(
            [
                Customer(given_name="Bench", family_name=f"C{i}", search_name=f"bench c{i}",
                         segment=SEGMENTS[i % 4], value_tier=TIERS[(i // 4) % 4], journey_stage="service")
                for i in range(have, CUSTOMERS)
            ],
            batch_size=2000,
        )  # fmt: skip
    common = {
        "action_kind": "priority_boost", "action_params": {"points": 5, "ttl_hours": 1},
        "metric_kind": "case_resolved", "metric_days": 7, "holdout_percent": 10, "cap_firings": 1000, "cap_days": 1,
        "quiet_start": dt.time(3, 0), "quiet_end": dt.time(3, 1), "time_zone": "Pacific/Kiritimati",
    }  # fmt: skip
    for n in range(100):
        pattern = f"bench.k{n % KINDS}" if n < 90 else ("bench.*" if n == 90 else f"other{n}.*")
        audience = {"audience_segments": [SEGMENTS[n % 4], SEGMENTS[(n + 1) % 4]]} if n % 2 else {
            "audience_value_tiers": TIERS[: 1 + n % 4]
        }  # fmt: skip
        action = (
            {"action_kind": "next_best_action", "action_params": {"title": f"Offer {n}", "detail": "Say it."}}
            if n % 3 == 2 else {}
        )  # fmt: skip
        strategy_create(
            actor=None,
            fields={"key": f"bench-{n}", "name": f"Bench {n}", "trigger_kind": "event", "event_pattern": pattern,
                    **audience, **common, **action, "value": 1 + n % 5, "lever": 0.5 + (n % 4) / 2,
                    "context_weights": {"chat": 1.5, "live": 2} if n % 2 else {}},
        )  # fmt: skip
    return list(Customer.objects.filter(given_name="Bench").values_list("id", flat=True))


def make_events(rng: random.Random, customer_ids: list[int], count: int):
    from records.journey.models import JourneyEvent

    return JourneyEvent.objects.bulk_create(
        [
            JourneyEvent(customer_id=rng.choice(customer_ids), source_system="bench",
                         kind=f"bench.k{rng.randrange(KINDS)}", summary="bench event")
            for _ in range(count)
        ]
    )  # fmt: skip


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000, help="events measured (after 100 of warm-up)")
    parser.add_argument("--force", action="store_true", help="write into a database whose name lacks 'bench'")
    return parser.parse_args()


def strategy_evaluation(*, events: int = 2000) -> dict[str, float]:
    """Set up, measure and print the evaluation per incoming event; its figures (ms) for a summary."""
    from celery import current_app
    from django.conf import settings
    from django.db import connection

    from insights.strategies.evaluation import firings_act
    from insights.strategies.models import FiringOutcome, StrategyFiring
    from insights.strategies.services import strategies_evaluate_event

    # Contexts under keys of this run; every matching strategy fires (the worst case of firings).
    settings.CEA_STRATEGIES_CUSTOMER_CAP, settings.REDIS_PREFIX = 100_000, f"bench-strategies-{time.time_ns()}"
    rng = random.Random(13)
    print(f"Set-up: {CUSTOMERS} customers, 100 active event strategies … ({machine()})")
    customer_ids = setup_rows(rng)
    cursor = connection.cursor()

    def floor_call(customer_id: int):
        return lambda: (
            cursor.execute("SELECT * FROM records_customer WHERE id = %s", [customer_id]),
            cursor.fetchall(),
        )

    made = make_events(rng, customer_ids, events + 100)
    for event in made[:100]:  # warm-up: connections, the index, caches
        strategies_evaluate_event(event=event)
        floor_call(event.customer_id)()
    before = StrategyFiring.objects.order_by("-id").values_list("id", flat=True).first() or 0
    measured = measure([lambda e=e: strategies_evaluate_event(event=e) for e in made[100:]])
    floor = measure([floor_call(e.customer_id) for e in made[100:]])
    fired = list(
        StrategyFiring.objects.filter(
            id__gt=before, outcome=FiringOutcome.FIRED, strategy__action_kind="priority_boost"
        ).values_list("id", flat=True)
    )
    outranked = StrategyFiring.objects.filter(id__gt=before, reason="outranked").count()
    recorded = StrategyFiring.objects.filter(id__gt=before).count()
    current_app.control.purge()  # the action tasks sent on commit: run below, measured apart
    acted = measure([lambda i=i: firings_act(firing_ids=[i]) for i in fired[:1000]])
    print(f"{'per incoming event':<40}{'p50 ms':>9}{'p99 ms':>9}   floor p50/p99 ms   ratio p50/p99")
    print(
        f"{'evaluation (decide, record, send task)':<40}{measured.p50_ms:9.2f}{measured.p99_ms:9.2f}"
        f"   {floor.p50_ms:6.3f} / {floor.p99_ms:6.3f}   {measured.p50_ms / floor.p50_ms:6.1f}x"
        f" / {measured.p99_ms / floor.p99_ms:5.1f}x"
    )
    print(
        f"{'one priority-boost action (the task)':<40}{acted.p50_ms:9.2f}{acted.p99_ms:9.2f}"
        f"   {floor.p50_ms:6.3f} / {floor.p99_ms:6.3f}   {acted.p50_ms / floor.p50_ms:6.1f}x"
        f" / {acted.p99_ms / floor.p99_ms:5.1f}x"
    )
    print(
        f"firings recorded per event: {recorded / events:.2f} ({len(fired) / events:.2f} boosts fired,"
        f" {outranked / events:.2f} outranked)"
    )
    target = measured.p99_ms < 20
    print(f"target p99 < 20 ms with 100 active strategies: {'pass' if target else 'MISS'}")
    print(f"load average at the end: {machine()}")
    return {
        "p50_ms": measured.p50_ms,
        "p99_ms": measured.p99_ms,
        "floor_p50_ms": floor.p50_ms,
        "floor_p99_ms": floor.p99_ms,
    }


def main() -> None:
    args = parse_arguments()
    setup_django()
    guard_database(force=args.force)
    strategy_evaluation(events=args.events)


if __name__ == "__main__":
    main()
