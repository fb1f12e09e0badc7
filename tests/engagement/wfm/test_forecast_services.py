"""Forecasting's records selector and services against PostgreSQL: runs, intraday, adjustments, special days."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from cea.common.errors import ValidationFailed
from engagement.wfm.forecasting.backtest import HORIZONS
from engagement.wfm.forecasting.methods import MODELS
from engagement.wfm.forecasting.models import BacktestScore, ForecastInterval, RunKind, RunStatus
from engagement.wfm.forecasting.services import (
    forecast_adjust,
    forecast_intraday,
    forecast_run,
    special_day_create,
    special_day_delete,
    special_day_update,
)
from engagement.wfm.forecasting.synthetic import synthetic_history
from engagement.wfm.staffing.models import StaffingRequirement
from engagement.wfm.staffing.services import requirements_compute
from records.interactions.models import Interaction
from records.interactions.selectors import interaction_interval_counts
from tests.engagement.wfm.forecast_support import MONDAY, history_write, planning_queue

pytestmark = pytest.mark.django_db

DAY = 48
NOW = MONDAY + timedelta(days=42, hours=10, minutes=7)  # a Monday morning after six weeks of history


@pytest.fixture
def shaped_queue():
    queue = planning_queue(queue="support")
    history = synthetic_history(days=42, per_day=DAY, peak=8, seed=11)
    history_write(history, queue="support", start=MONDAY, interval_minutes=30)
    return queue


# --- The records selector -------------------------------------------------------------------------


def test_interval_counts_bin_inbound_contacts_of_the_queue_and_channel():
    # Given: at 09:00-09:30 two answered calls (200 s and 100 s) and an abandoned one; at 09:30 one more;
    # an outbound call, a chat and another queue's call that do not count
    at = MONDAY + timedelta(hours=9)

    def call(minute: int, handle: int | None, **fields) -> None:
        started = at + timedelta(minutes=minute)
        answered = started + timedelta(seconds=30) if handle is not None else None
        ended = (answered + timedelta(seconds=handle)) if answered else started + timedelta(seconds=90)
        values = {"channel": "voice", "queue": "support", "direction": "inbound", **fields}
        Interaction.objects.create(started_at=started, answered_at=answered, ended_at=ended, **values)

    call(0, 200)
    call(29, 100)
    call(10, None)
    call(31, 60)
    call(5, 60, direction="outbound")
    call(5, 60, channel="chat")
    call(5, 60, queue="sales")
    # When
    rows = interaction_interval_counts(
        queue="support", channel="voice", start=at, end=at + timedelta(hours=1), interval_minutes=30
    )
    # Then
    assert [(r.interval_start, r.contacts, r.handled, r.handle_seconds) for r in rows] == [
        (at, 3, 2, 300.0),
        (at + timedelta(minutes=30), 1, 1, 60.0),
    ]
    quarter = interaction_interval_counts(
        queue="support", channel="voice", start=at, end=at + timedelta(minutes=15), interval_minutes=15
    )
    assert [(r.interval_start, r.contacts) for r in quarter] == [(at, 2)]  # minutes 0 and 10; 29 starts later


# --- A run ----------------------------------------------------------------------------------------


def test_a_run_writes_the_horizon_scores_every_method_and_chooses_per_horizon(shaped_queue):
    # When
    run = forecast_run(planning_queue=shaped_queue, days_ahead=7, now=NOW)
    # Then: from the current interval (10:00) to the end of the 7th day after today
    assert run.status == RunStatus.DONE, run.error
    assert (run.horizon_start, run.horizon_end) == (NOW.replace(minute=0), MONDAY + timedelta(days=50))
    intervals = ForecastInterval.objects.filter(planning_queue=shaped_queue)
    assert intervals.count() == 14 * 2 + 7 * DAY
    assert set(run.methods) == set(HORIZONS)
    scores = BacktestScore.objects.filter(run=run)
    assert scores.count() == 16
    assert {(s.horizon, s.method) for s in scores.filter(chosen=True)} == set(run.methods.items())
    assert run.beats_baselines is any(method in MODELS for method in run.methods.values())
    # The history read starts at its first contact (in the small hours of the first Monday)
    assert MONDAY <= run.history_start < MONDAY + timedelta(hours=6) and run.fit_seconds is not None
    first = intervals.order_by("interval_start").first()
    assert first.method == run.methods["interval"] and first.run_id == run.pk
    assert 250 < first.aht_seconds < 350  # every handled call took 300 s


def test_a_forecast_follows_the_daily_shape(shaped_queue):
    # When
    forecast_run(planning_queue=shaped_queue, days_ahead=2, now=NOW)
    # Then: tomorrow (a Tuesday) 11:00 is far busier than 03:00
    tuesday = MONDAY + timedelta(days=43)
    at = {
        f.interval_start: f.volume
        for f in ForecastInterval.objects.filter(planning_queue=shaped_queue, interval_start__gte=tuesday)
    }
    assert at[tuesday + timedelta(hours=11)] > 5 * at[tuesday + timedelta(hours=3)]


def test_pure_noise_does_not_beat_the_baselines():
    # Given: six weeks of contacts at one constant rate, no shape
    queue = planning_queue(queue="noise")
    history_write(
        synthetic_history(days=42, per_day=DAY, peak=9, seed=4, shaped=False),
        queue="noise",
        start=MONDAY,
        interval_minutes=30,
    )
    # When
    run = forecast_run(planning_queue=queue, days_ahead=1, now=NOW)
    # Then
    assert run.status == RunStatus.DONE
    assert run.beats_baselines is False
    assert set(run.methods.values()) <= {"historical_average", "seasonal_naive"}


def test_a_queue_without_history_forecasts_zero_and_scores_nothing():
    queue = planning_queue(queue="new")
    run = forecast_run(planning_queue=queue, days_ahead=1, now=NOW)
    assert run.status == RunStatus.DONE and run.beats_baselines is None
    assert not BacktestScore.objects.filter(run=run).exists()
    assert set(ForecastInterval.objects.filter(planning_queue=queue).values_list("volume", flat=True)) == {0.0}


@pytest.mark.parametrize("days_ahead", [0, 57])
def test_days_ahead_out_of_range_is_refused(shaped_queue, days_ahead):
    with pytest.raises(ValidationFailed) as refused:
        forecast_run(planning_queue=shaped_queue, days_ahead=days_ahead, now=NOW)
    assert "days_ahead" in refused.value.fields


# --- Adjustments ----------------------------------------------------------------------------------


def test_adjustments_survive_a_rerun(shaped_queue, supervisor):
    # Given: a forecast, and a planner's +50% on tomorrow 09:00-10:00 and a fixed AHT
    forecast_run(planning_queue=shaped_queue, days_ahead=2, now=NOW)
    nine = MONDAY + timedelta(days=43, hours=9)
    changed = forecast_adjust(
        user=supervisor,
        planning_queue=shaped_queue,
        start=nine,
        end=nine + timedelta(hours=1),
        volume_percent=150,
        aht_seconds=420,
        note="campaign",
    )
    assert changed == 2
    before = ForecastInterval.objects.get(planning_queue=shaped_queue, interval_start=nine)
    assert before.volume_adjusted == pytest.approx(1.5 * before.volume)
    # When: the forecast is run again an hour later
    rerun = forecast_run(planning_queue=shaped_queue, days_ahead=2, now=NOW + timedelta(hours=1))
    # Then: the model's figures are the new run's, the adjustment is the planner's still
    after = ForecastInterval.objects.get(planning_queue=shaped_queue, interval_start=nine)
    assert after.run_id == rerun.pk
    assert (after.volume_adjusted, after.aht_adjusted, after.adjustment_note, after.adjusted_by_id) == (
        before.volume_adjusted,
        420,
        "campaign",
        supervisor.pk,
    )
    assert after.planned_volume == before.volume_adjusted and after.planned_aht == 420
    # And clearing it returns to the model's figures
    forecast_adjust(user=supervisor, planning_queue=shaped_queue, start=nine, end=nine + timedelta(hours=1), clear=True)
    after.refresh_from_db()
    assert (after.volume_adjusted, after.aht_adjusted, after.planned_volume) == (None, None, after.volume)


def test_an_adjustment_is_what_the_requirement_is_computed_from(shaped_queue, supervisor):
    # Given: a forecast of tomorrow, and its requirement at 09:00
    forecast_run(planning_queue=shaped_queue, days_ahead=2, now=NOW)
    nine = MONDAY + timedelta(days=43, hours=9)
    requirements_compute(planning_queue=shaped_queue, start=nine, end=nine + timedelta(hours=1))
    before = StaffingRequirement.objects.get(planning_queue=shaped_queue, interval_start=nine)
    # When: a planner plans 09:00-09:15 for 60 contacts of 400 s
    forecast_adjust(
        user=supervisor,
        planning_queue=shaped_queue,
        start=nine,
        end=nine + timedelta(minutes=15),
        volume=60,
        aht_seconds=400,
    )
    # Then: the interval's requirement is recomputed from the planner's figures, in the same call
    after = StaffingRequirement.objects.get(planning_queue=shaped_queue, interval_start=nine)
    assert (after.volume, after.aht_seconds) == (60, 400)
    assert after.agents > 60 * 400 / 1800  # more agents than the 13.3 erlangs of traffic, as Erlang C needs
    assert before.volume != 60


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"volume": -1}, "volume"),
        ({"volume": 5, "volume_percent": 120}, "volume_percent"),
        ({}, "volume"),
        ({"aht_seconds": float("nan")}, "aht_seconds"),
        ({"volume": 5, "end_before_start": True}, "end"),
    ],
)
def test_bad_adjustments_are_refused_with_field_messages(shaped_queue, supervisor, fields, field):
    forecast_run(planning_queue=shaped_queue, days_ahead=1, now=NOW)
    start = NOW.replace(minute=0) + timedelta(hours=2)
    end = start - timedelta(hours=1) if fields.pop("end_before_start", False) else start + timedelta(hours=1)
    with pytest.raises(ValidationFailed) as refused:
        forecast_adjust(user=supervisor, planning_queue=shaped_queue, start=start, end=end, **fields)
    assert field in refused.value.fields
    assert not ForecastInterval.objects.filter(volume_adjusted__isnull=False).exists()


def test_adjusting_where_there_is_no_forecast_is_refused(shaped_queue, supervisor):
    with pytest.raises(ValidationFailed):
        forecast_adjust(user=supervisor, planning_queue=shaped_queue, start=NOW, end=NOW + timedelta(hours=1), volume=3)


# --- Special days ---------------------------------------------------------------------------------


def test_special_days_scale_their_day_and_a_queues_own_wins(shaped_queue, django_capture_on_commit_callbacks):
    # Given: tomorrow closed for every queue, but this queue's own says half; the day after at 120%
    tomorrow = (NOW + timedelta(days=1)).date()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        special_day_create(planning_queue=None, day=tomorrow, name="Bank holiday", volume_factor=0)
        own = special_day_create(planning_queue=shaped_queue, day=tomorrow, name="Half day", volume_factor=0.5)
        special_day_create(
            planning_queue=shaped_queue, day=tomorrow + timedelta(days=1), name="Sale", volume_factor=1.2, aht_factor=2
        )
    assert len(callbacks) == 3  # each change re-runs the forecast after commit
    plain = forecast_run(planning_queue=shaped_queue, days_ahead=3, now=NOW - timedelta(days=7))  # for comparison
    assert plain.status == RunStatus.DONE
    # When
    forecast_run(planning_queue=shaped_queue, days_ahead=3, now=NOW)
    # Then
    rows = ForecastInterval.objects.filter(planning_queue=shaped_queue, interval_start__gte=MONDAY + timedelta(days=43))
    by_day: dict = {}
    for row in rows:
        by_day.setdefault(row.interval_start.date(), []).append(row)
    assert {row.special_day_id for row in by_day[tomorrow]} == {own.pk}
    sale = by_day[tomorrow + timedelta(days=1)]
    assert {row.special_day.name for row in sale} == {"Sale"}
    assert all(row.aht_seconds > 450 for row in sale if row.volume > 0)  # twice about 300 s
    assert not any(row.special_day_id for row in by_day[tomorrow + timedelta(days=2)])


def test_a_closed_day_forecasts_nothing(shaped_queue):
    tomorrow = (NOW + timedelta(days=1)).date()
    special_day_create(planning_queue=None, day=tomorrow, name="Christmas", volume_factor=0)
    forecast_run(planning_queue=shaped_queue, days_ahead=2, now=NOW)
    start = MONDAY + timedelta(days=43)
    closed = ForecastInterval.objects.filter(
        planning_queue=shaped_queue, interval_start__gte=start, interval_start__lt=start + timedelta(days=1)
    )
    assert closed.count() == DAY and set(closed.values_list("volume", flat=True)) == {0.0}


def test_special_days_are_validated_unique_and_editable(shaped_queue):
    day = (NOW + timedelta(days=3)).date()
    special = special_day_create(planning_queue=shaped_queue, day=day, name="Promo", volume_factor=1.5)
    with pytest.raises(ValidationFailed) as clash:
        special_day_create(planning_queue=shaped_queue, day=day, name="Again")
    assert "day" in clash.value.fields
    with pytest.raises(ValidationFailed) as bad:
        special_day_create(planning_queue=shaped_queue, day=day + timedelta(days=1), name=" ", volume_factor=-1)
    assert set(bad.value.fields) == {"name", "volume_factor"}
    special_day_update(special_day=special, day=day, name="Big promo", volume_factor=2.0, aht_factor=1.0)
    special.refresh_from_db()
    assert (special.name, special.volume_factor) == ("Big promo", 2.0)
    special_day_delete(special_day=special)
    assert not type(special).objects.filter(pk=special.pk).exists()


# --- Intraday -------------------------------------------------------------------------------------


def test_intraday_scales_the_rest_of_today_by_todays_actuals(shaped_queue):
    # Given: this morning's forecast, then twice the forecast contacts arrive until 10:00
    run = forecast_run(planning_queue=shaped_queue, days_ahead=1, now=NOW - timedelta(hours=10))
    assert run.status == RunStatus.DONE
    today = NOW.replace(hour=0, minute=0)
    morning = ForecastInterval.objects.filter(
        planning_queue=shaped_queue, interval_start__gte=today, interval_start__lt=today + timedelta(hours=10)
    )
    expected = sum(f.volume for f in morning)
    actual_counts = np.array([round(2 * f.volume) for f in morning], dtype=float)
    from engagement.wfm.forecasting.backtest import History
    from engagement.wfm.forecasting.methods import Season

    history_write(
        History(
            contacts=actual_counts,
            handled=actual_counts,
            handle_seconds=actual_counts * 300,
            season=Season(DAY),
        ),
        queue="support",
        start=today,
        interval_minutes=30,
    )
    afternoon_before = {
        f.pk: f.volume for f in ForecastInterval.objects.filter(planning_queue=shaped_queue, interval_start__gte=NOW)
    }
    # When
    intraday = forecast_intraday(planning_queue=shaped_queue, now=NOW)
    # Then: the rest of today is scaled by (actual + 10) / (forecast + 10)
    factor = (actual_counts.sum() + 10) / (expected + 10)
    assert intraday.kind == RunKind.INTRADAY and intraday.methods["volume_factor"] == pytest.approx(factor)
    rest = ForecastInterval.objects.filter(
        planning_queue=shaped_queue,
        interval_start__gte=NOW.replace(minute=0),
        interval_start__lt=today + timedelta(days=1),
    )
    assert rest.count() == DAY - 20
    for row in rest.exclude(interval_start=NOW.replace(minute=0)):
        assert row.volume == pytest.approx(afternoon_before[row.pk] * factor)
        assert row.run_id == intraday.pk
    # And a second intraday run scales from the day's forecast, not from the first re-forecast
    again = forecast_intraday(planning_queue=shaped_queue, now=NOW)
    assert again.methods["volume_factor"] == pytest.approx(factor)
    row = rest.last()
    assert row.volume == pytest.approx(afternoon_before[row.pk] * factor)


def test_intraday_without_a_forecast_is_refused(shaped_queue):
    with pytest.raises(ValidationFailed) as refused:
        forecast_intraday(planning_queue=shaped_queue, now=NOW)
    assert refused.value.code == "no_forecast"
