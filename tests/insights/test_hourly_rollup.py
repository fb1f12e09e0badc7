"""The hourly queue rollup (``QueueHourRollup``) gives exactly the figures of the 15-minute contact
rows: after a full run, an incremental run, a late-data re-processing and ``insights_rebuild``, on
DST days of the deployment's time zone; and the selector reads it only when it answers."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from insights.kpis import selectors
from insights.kpis.definitions import KPIS, Source
from insights.kpis.models import ContactRollup, QueueHourRollup, QueueRollup
from insights.kpis.rollup import COUNT_COLUMNS, contact_rollup_rebuild, contact_rollup_refresh
from insights.kpis.selectors import kpi_series
from records.interactions.models import Interaction
from tests.accounts.factories import TeamFactory, UserFactory
from tests.insights.factories import T0, contact

pytestmark = pytest.mark.django_db

CONTACT_KPIS = [name for name, kpi in KPIS.items() if kpi.source == Source.CONTACTS]
LONDON = ZoneInfo("Europe/London")


def _contacts(around: dt.datetime) -> None:
    """Contacts in every quarter of the hours around ``around``: two queues, two channels, answered
    and abandoned, short and long waits, transferred, two agents."""
    agents = [UserFactory(), UserFactory()]
    for n in range(24):
        contact(
            queued_at=around + dt.timedelta(minutes=n * 11 - 90),
            queue=("billing", "sales")[n % 2],
            channel=("voice", "chat")[n // 3 % 2],
            wait=(4, 12, 35, 70)[n % 4],
            answered=n % 5 != 0,
            talk=60 + n * 7,
            agent=agents[n % 2],
            disposition="transferred" if n % 7 == 0 else "",
        )


def _read_table(**arguments) -> tuple[list, set[str]]:
    """The series ``kpi_series`` gives an admin, and the rollup tables its statements read."""
    with CaptureQueriesContext(connection) as queries:
        series = kpi_series(user=UserFactory(role="admin"), kpis=CONTACT_KPIS, **arguments)
    tables = {
        model._meta.db_table
        for model in (ContactRollup, QueueRollup, QueueHourRollup)
        if any(f'FROM "{model._meta.db_table}"' in query["sql"] for query in queries.captured_queries)
    }
    return series.rows, tables


def _from_15_minute_rows(monkeypatch, **arguments) -> list:
    """The same series read from the 15-minute contact rows (every dimension), the reference."""
    with monkeypatch.context() as patch:
        patch.setattr(selectors, "_contact_rollup", lambda **_: ContactRollup)
        return kpi_series(user=UserFactory(role="admin"), kpis=CONTACT_KPIS, **arguments).rows


def _hourly_sums() -> list[tuple]:
    return sorted(QueueHourRollup.objects.values_list("interval_start", "queue", "channel", "sl_variant", "contacts"))


def _assert_same_figures(monkeypatch, *, start: dt.datetime, end: dt.datetime, hourly: bool = True) -> None:
    for interval in ("hour", "day", "week", "month"):
        for group_by in ([], ["queue"], ["queue", "channel"]):
            arguments = {"start": start, "end": end, "interval": interval, "group_by": group_by}
            rows, tables = _read_table(**arguments)
            assert rows, arguments
            assert rows == _from_15_minute_rows(monkeypatch, **arguments), arguments
            assert tables == ({QueueHourRollup._meta.db_table} if hourly else {QueueRollup._meta.db_table})


def test_the_hourly_rollup_is_the_sum_of_the_quarter_hours():
    # Given contacts over four hours, rolled up
    _contacts(T0 + dt.timedelta(hours=2))
    contact_rollup_rebuild()

    # When the 15-minute contact rows and the hourly rows are summed per UTC hour
    def per_hour(model):
        hours = model.objects.values_list("interval_start", "queue", "channel", "sl_variant", *COUNT_COLUMNS)
        totals: dict[tuple, list[float]] = {}
        for row in hours:
            start = row[0].replace(minute=0)
            key = (start, *row[1:4])
            totals[key] = [a + b for a, b in zip(totals.get(key, [0] * len(COUNT_COLUMNS)), row[4:], strict=True)]
        return sorted((*key, *values) for key, values in totals.items())

    # Then they agree, column for column
    assert per_hour(QueueHourRollup) == per_hour(ContactRollup)
    assert QueueHourRollup.objects.count() < QueueRollup.objects.count()


def test_a_report_by_queue_reads_the_hourly_rollup_and_gives_the_15_minute_figures(monkeypatch):
    # Given contacts over four hours, rolled up
    _contacts(T0 + dt.timedelta(hours=2))
    contact_rollup_rebuild()
    # When an admin reads every contact KPI by hour, day, week and month, by nothing, queue, channel
    # Then each series is the one the 15-minute rows give, read from the hourly rollup
    _assert_same_figures(monkeypatch, start=T0 - dt.timedelta(hours=2), end=T0 + dt.timedelta(hours=6))


def test_dst_days_in_london_give_the_15_minute_figures(monkeypatch, settings):
    # Given London, contacts around its spring-forward (29 March 2026, 01:00 UTC) and its fall-back
    # (25 October 2026, 01:00 UTC: 01:00 local twice), rolled up
    settings.TIME_ZONE = "Europe/London"
    spring, autumn = dt.datetime(2026, 3, 29, 1, tzinfo=dt.UTC), dt.datetime(2026, 10, 25, 1, tzinfo=dt.UTC)
    _contacts(spring)
    _contacts(autumn)
    contact_rollup_rebuild()
    # When the figures around each change are read / Then they are the 15-minute rows' figures
    for change in (spring, autumn):
        start = dt.datetime.combine(change.date() - dt.timedelta(days=1), dt.time(), tzinfo=LONDON)
        _assert_same_figures(monkeypatch, start=start, end=start + dt.timedelta(days=3))
    # And the fall-back day's repeated hour (00:00-02:00 UTC) is one row, as the 15-minute rows make it
    rows, _ = _read_table(
        start=dt.datetime(2026, 10, 25, tzinfo=LONDON), end=dt.datetime(2026, 10, 26, tzinfo=LONDON), interval="hour"
    )
    hours = [row.interval_start.hour for row in rows]
    assert hours == sorted(set(hours))
    repeated = Interaction.objects.filter(
        started_at__gte=autumn - dt.timedelta(hours=1), started_at__lt=autumn + dt.timedelta(hours=1)
    )
    assert rows[hours.index(1)].values["offered"].value == repeated.count() > 0


def test_a_time_zone_with_half_hours_reads_the_15_minute_queue_rollup(monkeypatch, settings):
    # Given Kolkata (UTC+05:30): its local hours cut UTC hours in two
    settings.TIME_ZONE = "Asia/Kolkata"
    _contacts(T0 + dt.timedelta(hours=2))
    contact_rollup_rebuild()
    kolkata = ZoneInfo("Asia/Kolkata")
    start = dt.datetime.combine(T0.astimezone(kolkata).date(), dt.time(), tzinfo=kolkata)
    # When the report is read / Then it comes from the 15-minute queue rollup, with the same figures
    _assert_same_figures(monkeypatch, start=start, end=start + dt.timedelta(days=1), hourly=False)


def test_a_range_not_on_whole_hours_reads_the_15_minute_queue_rollup(monkeypatch):
    # Given contacts, rolled up
    _contacts(T0 + dt.timedelta(hours=2))
    contact_rollup_rebuild()
    # When a range starts and ends at quarter-hours / Then the quarter-hour rows answer it
    _assert_same_figures(
        monkeypatch,
        start=T0 - dt.timedelta(minutes=45),
        end=T0 + dt.timedelta(hours=4, minutes=15),
        hourly=False,
    )


def test_team_scoped_and_fifteen_minute_reports_do_not_read_the_hourly_rollup():
    # Given contacts of a supervisor's team, rolled up
    team = TeamFactory()
    supervisor = UserFactory(role="supervisor")
    supervisor.teams.add(team)
    contact(queued_at=T0, team=team)
    contact_rollup_rebuild()
    arguments = {"kpis": ["offered"], "start": T0, "end": T0 + dt.timedelta(hours=1)}
    # When a supervisor reads by hour, and an admin by 15 minutes and by agent
    with CaptureQueriesContext(connection) as queries:
        supervisor_rows = kpi_series(user=supervisor, interval="hour", group_by=["queue"], **arguments).rows
        kpi_series(user=UserFactory(role="admin"), interval="15min", group_by=["queue"], **arguments)
        kpi_series(user=UserFactory(role="admin"), interval="hour", group_by=["agent"], **arguments)
    # Then none of them read the team-less hourly table
    assert not any(QueueHourRollup._meta.db_table in query["sql"] for query in queries.captured_queries)
    assert [row.values["offered"].value for row in supervisor_rows] == [1]


def test_an_incremental_run_and_a_late_row_keep_the_hours_right(monkeypatch, settings):
    # Given contacts rolled up, and no look-back
    settings.CEA_INSIGHTS_ROLLUP_LOOKBACK_SECONDS = 0
    _contacts(T0 + dt.timedelta(hours=2))
    run = contact_rollup_refresh(now=timezone.now())
    # When a contact arrives in the last quarter of an hour already rolled up, and another one is
    # committed late (its change time behind the watermark) into the first quarter of that hour,
    # and a window is re-processed with a look-back
    contact(queued_at=T0 + dt.timedelta(minutes=50), queue="sales", wait=3)
    contact_rollup_refresh(now=timezone.now())
    late = contact(queued_at=T0 + dt.timedelta(minutes=2), queue="billing", answered=False, wait=8)
    Interaction.objects.filter(pk=late.pk).update(updated_at=run.changed_until - dt.timedelta(seconds=30))
    settings.CEA_INSIGHTS_ROLLUP_LOOKBACK_SECONDS = 3600
    again = contact_rollup_refresh(now=timezone.now())
    # Then the late contact's quarter was re-computed, and the hour holds all of its quarters
    assert again.intervals >= 1
    hour = QueueHourRollup.objects.filter(interval_start=T0).aggregate(contacts=Sum("contacts"))["contacts"]
    quarters = ContactRollup.objects.filter(
        interval_start__gte=T0, interval_start__lt=T0 + dt.timedelta(hours=1)
    ).aggregate(contacts=Sum("contacts"))["contacts"]
    assert hour == quarters
    _assert_same_figures(monkeypatch, start=T0 - dt.timedelta(hours=2), end=T0 + dt.timedelta(hours=6))


def test_the_rebuild_command_restates_the_hours_from_a_date(monkeypatch, settings):
    # Given contacts on two days, rolled up, then the second day's hours damaged
    settings.TIME_ZONE = "Europe/London"
    first, second = dt.datetime(2026, 3, 28, 23, tzinfo=dt.UTC), dt.datetime(2026, 3, 29, 12, tzinfo=dt.UTC)
    _contacts(first)
    _contacts(second)
    contact_rollup_rebuild()
    untouched = _hourly_sums()
    QueueHourRollup.objects.filter(interval_start__gte=dt.datetime(2026, 3, 29, tzinfo=dt.UTC)).update(contacts=99)
    # When the rebuild command runs from the second (local) day
    call_command("insights_rebuild", "--since", "2026-03-29")
    # Then the hours are as a full run made them, the ones before that day untouched, and the
    # figures those of the 15-minute rows
    assert _hourly_sums() == untouched
    start = dt.datetime(2026, 3, 28, tzinfo=LONDON)
    _assert_same_figures(monkeypatch, start=start, end=start + dt.timedelta(days=3))


def test_a_rebuild_leaves_planner_statistics_for_the_rollups():
    # Given contacts
    _contacts(T0 + dt.timedelta(hours=2))
    # When the rollups are rebuilt
    contact_rollup_rebuild()
    # Then PostgreSQL's statistics count the rows the rebuild wrote (not an empty, never analysed table)
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [QueueHourRollup._meta.db_table])
        (estimate,) = cursor.fetchone()
    assert estimate == QueueHourRollup.objects.count() > 0
