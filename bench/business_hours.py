"""Benchmark of "business hours only": the same KPI report with and without it, in the same run.

    .venv/bin/python bench/business_hours.py [--queues 40] [--agents 3] [--days 90] [--reports 7] [--force]

Contact rollup rows are generated set-wise (every 15-minute interval × queue × agent over ``--days``
from 1 January 2026, three handled contacts each), half the queues on office hours (Europe/London,
Mon–Fri 08:00–20:00, Sat 09:00–13:00, New Year's Day closed), all in one team. The report is
``kpi_series`` (handled and AHT, by day and team, 90 days: it reads ``ContactRollup``); the floor
is the same report over all hours. The bench checks the business-hours total against the count
of open intervals computed by hand in Python (weekdays and Saturdays of the range), so a fast
wrong answer does not pass.

Writes into the database named by DATABASE_URL, which must contain "bench" in its name unless
--force; it replaces the contact rollup's rows and its bench queues.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

if __package__ in (None, ""):
    _root = Path(__file__).resolve().parent.parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _root / "bench"]
    sys.path.insert(0, str(_root))

from bench.common import Timings, guard_database, machine, setup_django

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
LONDON = ZoneInfo("Europe/London")
HANDLED_PER_ROW = 3


def _open_intervals(days: int) -> int:
    """15-minute intervals open on office hours from START for ``days`` (New Year's Day closed)."""
    total = 0
    for offset in range(days):
        day = (START + dt.timedelta(days=offset)).date()
        if day == dt.date(2026, 1, 1):
            continue
        total += 48 if day.weekday() < 5 else 16 if day.weekday() == 5 else 0
    return total


def _seed(*, queues: int, agents: int, days: int) -> int:
    from django.db import connection

    from cea.accounts.models import Team
    from engagement.routing.hours import ClosedDays, WeeklyRange
    from engagement.routing.models import BusinessHours, Queue
    from engagement.routing.services import business_hours_create

    team = Team.objects.get_or_create(name="bench-hours")[0]
    office = BusinessHours.objects.filter(name="bench-office").first() or business_hours_create(
        actor=None,
        name="bench-office",
        time_zone="Europe/London",
        ranges=[WeeklyRange(day, dt.time(8), dt.time(20)) for day in range(5)]
        + [WeeklyRange(5, dt.time(9), dt.time(13))],
        closures=[ClosedDays("New Year's Day", dt.date(2026, 1, 1), dt.date(2026, 1, 1))],
    )
    Queue.objects.filter(name__startswith="bench-hours-").delete()
    for index in range(queues):
        Queue.objects.create(name=f"bench-hours-{index}", team=team, business_hours=office if index % 2 == 0 else None)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM insights_contactrollup")
        cursor.execute(
            """INSERT INTO insights_contactrollup (interval_start, queue, channel, team_id, agent_id, wrap_up_code,
                 customer_tier, sl_variant, contacts, inbound, queued, answered, handled, abandoned, short_abandoned,
                 callbacks, answered_within, abandoned_within, callbacks_within, flowed_out, sl_numerator,
                 sl_denominator, transferred, contained, fcr_eligible, fcr_resolved, answer_wait_seconds,
                 abandon_wait_seconds, talk_seconds, hold_seconds, acw_seconds)
               SELECT t, 'bench-hours-' || q, 'voice', %s, a, '', '', 'connect', 3, 3, 3, 3, %s, 0, 0, 0, 2, 0, 0,
                 0, 2, 3, 0, 0, 0, 0, 30, 0, 900, 0, 60
               FROM generate_series(%s::timestamptz, %s::timestamptz - interval '15 minutes', interval '15 minutes') t,
                    generate_series(0, %s - 1) q, generate_series(1, %s) a""",
            [team.pk, HANDLED_PER_ROW, START, START + dt.timedelta(days=days), queues, agents],
        )
        cursor.execute("ANALYZE insights_contactrollup")
        cursor.execute("SELECT count(*) FROM insights_contactrollup")
        return int(cursor.fetchone()[0])


def _report(*, user, days: int, hours: bool, reports: int) -> tuple[Timings, float]:
    from insights.kpis.selectors import kpi_series

    timings, total = Timings(), 0.0
    for _ in range(reports):
        began = time.perf_counter_ns()
        series = kpi_series(
            user=user,
            kpis=["handled", "aht"],
            start=START,
            end=START + dt.timedelta(days=days),
            interval="day",
            group_by=["team"],
            business_hours_only=hours,
        )
        timings.extend([time.perf_counter_ns() - began])
        total = sum(row.values["handled"].value or 0 for row in series.rows)
    return timings, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queues", type=int, default=40)
    parser.add_argument("--agents", type=int, default=3)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--reports", type=int, default=7)
    parser.add_argument("--force", action="store_true")
    options = parser.parse_args()
    setup_django()
    from cea.accounts.models import User

    name = guard_database(force=options.force)
    print(f"{machine()}; database {name}")
    rows = _seed(queues=options.queues, agents=options.agents, days=options.days)
    admin = User.objects.filter(username="bench-hours-admin").first() or User.objects.create(
        username="bench-hours-admin", role="admin"
    )
    floor, all_hours = _report(user=admin, days=options.days, hours=False, reports=options.reports)
    measured, business = _report(user=admin, days=options.days, hours=True, reports=options.reports)
    per_queue_row = options.agents * HANDLED_PER_ROW
    scheduled = (options.queues + 1) // 2
    expected = (options.queues - scheduled) * per_queue_row * 96 * options.days + (
        scheduled * per_queue_row * _open_intervals(options.days)
    )
    print(f"{rows:,} contact rollup rows; handled all hours {all_hours:,.0f}, business hours {business:,.0f}")
    print(f"business-hours total as computed by hand: {expected:,} ({'ok' if business == expected else 'WRONG'})")
    print(f"report, all hours (floor): p50 {floor.p50_ms:.0f} ms, p99 {floor.p99_ms:.0f} ms")
    print(f"report, business hours only: p50 {measured.p50_ms:.0f} ms, p99 {measured.p99_ms:.0f} ms")
    print(f"ratio: {measured.p50_ms / floor.p50_ms:.2f}x (p50), {measured.p99_ms / floor.p99_ms:.2f}x (p99)")
    if business != expected:
        sys.exit(1)


if __name__ == "__main__":
    main()
