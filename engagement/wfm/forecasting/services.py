"""Writes of forecasting: a run (fit, backtest, the horizon's intervals), the intraday re-forecast, planners'
adjustments and special days. Callers check permissions first (engagement/wfm/access.py).

A run's fitting happens outside any transaction (it takes seconds); what it writes is written in one.
Planners' adjustments (``volume_adjusted``, ``aht_adjusted``) are never touched by a run: the model's
figures beside them are.
"""

from __future__ import annotations

import logging
import time as clock
from datetime import date, datetime, timedelta

import numpy as np
from django.db import transaction
from django.utils import timezone

from cea.accounts.models import User
from cea.accounts.types import Actor
from cea.common.days import local_day_bounds, local_midnight
from cea.common.errors import ValidationFailed
from cea.common.tasks import send_on_commit
from engagement.wfm.forecasting.backtest import (
    HISTORY_DAYS,
    Backtest,
    backtest,
    forecast_ahead,
)
from engagement.wfm.forecasting.models import (
    BacktestScore,
    ForecastInterval,
    ForecastRun,
    RunKind,
    RunStatus,
    SpecialDay,
)
from engagement.wfm.forecasting.selectors import (
    forecast_history,
    forecast_intervals,
    interval_floor,
    special_days_between,
)
from engagement.wfm.planning.models import PlanningQueue
from engagement.wfm.staffing.services import requirements_compute
from records.interactions.selectors import interaction_interval_counts

logger = logging.getLogger(__name__)

MAX_DAYS_AHEAD = 56
# The intraday factor is (actual + PRIOR) / (forecast + PRIOR): a few contacts early in the day do not
# swing the rest of it. It is kept within [1/CLAMP, CLAMP].
INTRADAY_PRIOR_CONTACTS = 10.0
INTRADAY_CLAMP = 4.0


def _user(user: Actor) -> User | None:
    return user if isinstance(user, User) else None


def forecast_run(
    *,
    planning_queue: PlanningQueue,
    kind: str = RunKind.SCHEDULED,
    days_ahead: int = 21,
    now: datetime | None = None,
    user: Actor = None,
) -> ForecastRun:
    """Fit the queue's methods on its history, backtest them, and write its forecast from the current
    interval to the end of the local day ``days_ahead`` days from today.

    Per horizon the backtest's chosen method forecasts (``backtest.forecast_ahead``); special days scale
    their days (0 closes them); adjustments stay. A failure is recorded on the run (status failed, the
    error) and logged; the run is returned either way.
    """
    if not 1 <= days_ahead <= MAX_DAYS_AHEAD:
        raise ValidationFailed(
            "Choose how many days to forecast.", fields={"days_ahead": f"Between 1 and {MAX_DAYS_AHEAD}."}
        )
    now = now or timezone.now()
    history_end = interval_floor(now, interval_minutes=planning_queue.interval_minutes)
    today = timezone.localdate(now)
    run = ForecastRun.objects.create(
        planning_queue=planning_queue,
        kind=kind,
        started_at=now,
        history_start=history_end - timedelta(days=HISTORY_DAYS),
        history_end=history_end,
        horizon_start=history_end,
        horizon_end=local_midnight(today + timedelta(days=days_ahead + 1)),
        requested_by=_user(user),
    )
    try:
        _fit_and_write(run)
    except Exception as error:  # recorded on the run for the planner, and logged
        logger.exception("forecast run %s of planning queue %s failed", run.pk, planning_queue.pk)
        run.status, run.error, run.finished_at = RunStatus.FAILED, f"{type(error).__name__}: {error}", timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
    return run


def _fit_and_write(run: ForecastRun) -> None:
    queue = run.planning_queue
    assert run.history_start and run.history_end and run.horizon_end
    began = clock.perf_counter()
    history = forecast_history(planning_queue=queue, start=run.history_start, end=run.history_end)
    scored = backtest(history)
    step = timedelta(minutes=queue.interval_minutes)
    steps = int((run.horizon_end - run.history_end) / step)
    ahead = forecast_ahead(history, chosen=scored.chosen, steps=steps)
    run.fit_seconds = clock.perf_counter() - began
    starts = [run.history_end + i * step for i in range(steps)]
    specials = special_days_between(
        planning_queue=queue, first=timezone.localdate(starts[0]), last=timezone.localdate(starts[-1])
    )
    rows = []
    for i, start in enumerate(starts):
        special = specials.get(timezone.localdate(start))
        volume, aht = float(ahead.volumes[i]), float(ahead.aht_seconds[i])
        if special is not None:
            volume, aht = volume * special.volume_factor, aht * special.aht_factor
        rows.append(
            ForecastInterval(
                planning_queue=queue,
                interval_start=start,
                run=run,
                method=ahead.methods[i],
                volume=volume,
                aht_seconds=aht,
                special_day=special,
            )
        )
    with transaction.atomic():
        ForecastInterval.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["planning_queue", "interval_start"],
            update_fields=["run", "method", "volume", "aht_seconds", "special_day"],
            batch_size=2000,
        )
        _scores_write(run, scored)
        run.methods = scored.chosen
        run.beats_baselines = scored.beats_baselines if scored.scores else None
        run.history_start = run.history_end - len(history.contacts) * step
        run.status, run.finished_at = RunStatus.DONE, timezone.now()
        run.save(update_fields=["methods", "beats_baselines", "history_start", "status", "finished_at", "fit_seconds"])


def _scores_write(run: ForecastRun, scored: Backtest) -> None:
    BacktestScore.objects.bulk_create(
        BacktestScore(
            run=run,
            horizon=score.horizon,
            method=score.method,
            wape=score.wape,
            mape=score.mape,
            aht_wape=score.aht_wape,
            origins=score.origins,
            chosen=scored.chosen.get(score.horizon) == score.method,
        )
        for score in scored.scores
    )


# --- Intraday -------------------------------------------------------------------------------------


def _factor(actual: float, forecast: float) -> float:
    ratio = (actual + INTRADAY_PRIOR_CONTACTS) / (forecast + INTRADAY_PRIOR_CONTACTS)
    return min(INTRADAY_CLAMP, max(1.0 / INTRADAY_CLAMP, ratio))


def _scaled_by(interval: ForecastInterval, key: str) -> float:
    """The intraday factor an earlier intraday run applied to this interval (1 if none)."""
    run = interval.run
    if run is None or run.kind != RunKind.INTRADAY:
        return 1.0
    return float(run.methods.get(key, 1.0)) or 1.0


def forecast_intraday(*, planning_queue: PlanningQueue, now: datetime | None = None) -> ForecastRun:
    """Re-forecast the rest of today from today's actuals so far.

    The day's forecast (as the last scheduled or manual run made it, before any intraday factor) is
    compared with the contacts (and handle time) of the elapsed intervals; the rest of the day's model
    figures are scaled by ``(actual + 10) / (forecast + 10)`` (within 1/4 and 4), handle time likewise
    by handled contacts' seconds. Adjustments stay. ``ValidationFailed`` (code ``no_forecast``) when
    no forecast covers the rest of today.
    """
    now = now or timezone.now()
    day_start, day_end = local_day_bounds(timezone.localdate(now))
    current = interval_floor(now, interval_minutes=planning_queue.interval_minutes)
    intervals = list(
        forecast_intervals(planning_queue=planning_queue, start=day_start, end=day_end).select_related("run")
    )
    rest = [i for i in intervals if i.interval_start >= current]
    if not rest:
        raise ValidationFailed("There is no forecast for the rest of today: run a forecast first.", code="no_forecast")
    elapsed = [i for i in intervals if i.interval_start < current]
    base_volume = {i.pk: i.volume / _scaled_by(i, "volume_factor") for i in intervals}
    base_aht = {i.pk: i.aht_seconds / _scaled_by(i, "aht_factor") for i in intervals}
    actuals = interaction_interval_counts(
        queue=planning_queue.queue,
        channel=planning_queue.channel,
        start=day_start,
        end=current,
        interval_minutes=planning_queue.interval_minutes,
    )
    handled = sum(a.handled for a in actuals)
    volume_factor = _factor(sum(a.contacts for a in actuals), sum(base_volume[i.pk] for i in elapsed))
    by_start = {a.interval_start: a.handled for a in actuals}
    expected_seconds = sum(base_aht[i.pk] * by_start.get(i.interval_start, 0) for i in elapsed)
    aht_factor = (sum(a.handle_seconds for a in actuals) + 600.0) / (expected_seconds + 600.0) if handled else 1.0
    aht_factor = min(INTRADAY_CLAMP, max(1.0 / INTRADAY_CLAMP, aht_factor))
    with transaction.atomic():
        run = ForecastRun.objects.create(
            planning_queue=planning_queue,
            kind=RunKind.INTRADAY,
            started_at=now,
            history_start=day_start,
            history_end=current,
            horizon_start=current,
            horizon_end=day_end,
            methods={"volume_factor": volume_factor, "aht_factor": aht_factor},
        )
        for interval in rest:
            interval.volume = base_volume[interval.pk] * volume_factor
            interval.aht_seconds = base_aht[interval.pk] * aht_factor
            interval.run = run
        ForecastInterval.objects.bulk_update(rest, ["volume", "aht_seconds", "run"])
        run.status, run.finished_at = RunStatus.DONE, timezone.now()
        run.save(update_fields=["status", "finished_at"])
    return run


# --- Adjustments ----------------------------------------------------------------------------------


def forecast_adjust(
    *,
    user: Actor,
    planning_queue: PlanningQueue,
    start: datetime,
    end: datetime,
    volume: float | None = None,
    volume_percent: float | None = None,
    aht_seconds: float | None = None,
    note: str = "",
    clear: bool = False,
) -> int:
    """Set (or ``clear``) a planner's adjustment on the queue's forecast intervals in ``[start, end)``.

    ``volume``: the contacts each interval is planned for; ``volume_percent``: that percent of the
    model's figure (one or the other); ``aht_seconds``: the planned handle time. Returns the intervals
    changed; ``ValidationFailed`` with field messages for bad input or a range with no forecast. The
    staffing requirement of those intervals is recomputed in the same transaction.
    """
    _adjust_check(
        start=start, end=end, volume=volume, volume_percent=volume_percent, aht_seconds=aht_seconds, clear=clear
    )
    with transaction.atomic():
        intervals = list(forecast_intervals(planning_queue=planning_queue, start=start, end=end).select_for_update())
        if not intervals:
            raise ValidationFailed("No forecast in that range.", fields={"start": "No forecast interval starts here."})
        for interval in intervals:
            _adjust_one(interval, volume=volume, volume_percent=volume_percent, aht_seconds=aht_seconds, clear=clear)
            interval.adjusted_by = None if clear else _user(user)
            interval.adjusted_at = None if clear else timezone.now()
            interval.adjustment_note = "" if clear else note
        ForecastInterval.objects.bulk_update(
            intervals, ["volume_adjusted", "aht_adjusted", "adjusted_by", "adjusted_at", "adjustment_note"]
        )
        # The requirement follows the plan: the adjusted intervals' agents are recomputed with them.
        last = max(interval.interval_start for interval in intervals)
        requirements_compute(
            planning_queue=planning_queue,
            start=min(interval.interval_start for interval in intervals),
            end=last + timedelta(minutes=planning_queue.interval_minutes),
        )
    return len(intervals)


MAX_INTERVAL_VOLUME = 1_000_000
MAX_AHT_SECONDS = 86_400


def _adjust_check(
    *,
    start: datetime,
    end: datetime,
    volume: float | None,
    volume_percent: float | None,
    aht_seconds: float | None,
    clear: bool,
) -> None:
    fields: dict[str, str] = {}
    if end <= start:
        fields["end"] = "The end must be after the start."
    if volume is not None and volume_percent is not None:
        fields["volume_percent"] = "Give contacts or a percent, not both."
    if not clear and volume is None and volume_percent is None and aht_seconds is None:
        fields["volume"] = "Give contacts, a percent or a handle time (or clear the adjustment)."
    for name, value in (("volume", volume), ("volume_percent", volume_percent), ("aht_seconds", aht_seconds)):
        if value is not None and (not np.isfinite(value) or value < 0):
            fields[name] = "Must be zero or more."
    if volume_percent is not None and volume_percent > 1000:
        fields["volume_percent"] = "At most 1000 percent."
    # Bounds the staffing formulas can answer for (the calculator's too): a week's volume in one interval.
    if volume is not None and volume > MAX_INTERVAL_VOLUME:
        fields["volume"] = f"At most {MAX_INTERVAL_VOLUME:,} contacts an interval."
    if aht_seconds is not None and aht_seconds > MAX_AHT_SECONDS:
        fields["aht_seconds"] = "At most a day (86,400 seconds)."
    if fields:
        raise ValidationFailed("Please correct the adjustment.", fields=fields)


def _adjust_one(
    interval: ForecastInterval,
    *,
    volume: float | None,
    volume_percent: float | None,
    aht_seconds: float | None,
    clear: bool,
) -> None:
    if clear:
        interval.volume_adjusted = interval.aht_adjusted = None
        return
    if volume is not None:
        interval.volume_adjusted = volume
    elif volume_percent is not None:
        interval.volume_adjusted = interval.volume * volume_percent / 100.0
    if aht_seconds is not None:
        interval.aht_adjusted = aht_seconds


# --- Special days ---------------------------------------------------------------------------------


def _special_check(*, day: date, name: str, volume_factor: float, aht_factor: float) -> None:
    fields: dict[str, str] = {}
    if not name.strip():
        fields["name"] = "Name the day."
    if not np.isfinite(volume_factor) or volume_factor < 0 or volume_factor > 10:
        fields["volume_factor"] = "Between 0 (closed) and 10."
    if not np.isfinite(aht_factor) or aht_factor < 0.01 or aht_factor > 10:
        fields["aht_factor"] = "Between 0.01 and 10."
    if fields:
        raise ValidationFailed("Please correct the special day.", fields=fields)


def _special_unique(*, planning_queue: PlanningQueue | None, day: date, exclude: int | None = None) -> None:
    clash = SpecialDay.objects.filter(planning_queue=planning_queue, day=day)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise ValidationFailed("That day is special already.", fields={"day": "There is a special day on this date."})


def _reforecast_on_commit(planning_queue: PlanningQueue | None) -> None:
    """Re-run the forecast of the queue (``None``: every active queue) once the change commits."""
    from engagement.wfm.forecasting.tasks import forecast_queue  # the tasks import this module

    queues = [planning_queue] if planning_queue else list(PlanningQueue.objects.filter(is_active=True))
    for queue in queues:
        send_on_commit(forecast_queue, queue.pk, kind=RunKind.MANUAL)


@transaction.atomic
def special_day_create(
    *,
    planning_queue: PlanningQueue | None,
    day: date,
    name: str,
    volume_factor: float = 1.0,
    aht_factor: float = 1.0,
) -> SpecialDay:
    """A special day for one queue (``None``: every queue); the forecast is re-run after commit."""
    _special_check(day=day, name=name, volume_factor=volume_factor, aht_factor=aht_factor)
    _special_unique(planning_queue=planning_queue, day=day)
    special = SpecialDay.objects.create(
        planning_queue=planning_queue, day=day, name=name.strip(), volume_factor=volume_factor, aht_factor=aht_factor
    )
    _reforecast_on_commit(planning_queue)
    return special


@transaction.atomic
def special_day_update(
    *, special_day: SpecialDay, day: date, name: str, volume_factor: float, aht_factor: float
) -> SpecialDay:
    _special_check(day=day, name=name, volume_factor=volume_factor, aht_factor=aht_factor)
    _special_unique(planning_queue=special_day.planning_queue, day=day, exclude=special_day.pk)
    special_day.day, special_day.name = day, name.strip()
    special_day.volume_factor, special_day.aht_factor = volume_factor, aht_factor
    special_day.save(update_fields=["day", "name", "volume_factor", "aht_factor"])
    _reforecast_on_commit(special_day.planning_queue)
    return special_day


@transaction.atomic
def special_day_delete(*, special_day: SpecialDay) -> None:
    queue = special_day.planning_queue
    special_day.delete()
    _reforecast_on_commit(queue)
