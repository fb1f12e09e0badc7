"""Reads of forecasting, without checking who asks (interfaces fetch through engagement/wfm/access.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
from django.db.models import Q, QuerySet
from django.utils import timezone

from engagement.wfm.forecasting.backtest import History
from engagement.wfm.forecasting.methods import Season
from engagement.wfm.forecasting.models import (
    BacktestScore,
    ForecastInterval,
    ForecastMethod,
    ForecastRun,
    Horizon,
    RunStatus,
    SpecialDay,
)
from engagement.wfm.planning.models import PlanningQueue
from records.interactions.selectors import interaction_interval_counts


def interval_floor(moment: datetime, *, interval_minutes: int) -> datetime:
    """The start of the interval (aligned in UTC) that ``moment`` falls in."""
    step = interval_minutes * 60
    seconds = int(moment.timestamp()) // step * step
    return datetime.fromtimestamp(seconds, tz=moment.tzinfo or timezone.get_current_timezone())


def forecast_history(*, planning_queue: PlanningQueue, start: datetime, end: datetime) -> History:
    """The queue's contacts, handled contacts and handle seconds per interval in ``[start, end)``, as a
    gapless series (intervals without contacts are zeros), trimmed to start at its first contact."""
    minutes = planning_queue.interval_minutes
    step = timedelta(minutes=minutes)
    length = int((end - start) / step)
    contacts, handled, seconds = np.zeros(length), np.zeros(length), np.zeros(length)
    rows = interaction_interval_counts(
        queue=planning_queue.queue, channel=planning_queue.channel, start=start, end=end, interval_minutes=minutes
    )
    for row in rows:
        index = int((row.interval_start - start) / step)
        if 0 <= index < length:
            contacts[index], handled[index], seconds[index] = row.contacts, row.handled, row.handle_seconds
    first = int(np.argmax(contacts > 0)) if contacts.any() else length
    return History(
        contacts=contacts[first:],
        handled=handled[first:],
        handle_seconds=seconds[first:],
        season=Season.of_minutes(minutes),
    )


def latest_run(*, planning_queue: PlanningQueue, done: bool = True) -> ForecastRun | None:
    """The queue's latest finished (``done``) or latest of any status run, not intraday ones."""
    runs = ForecastRun.objects.filter(planning_queue=planning_queue).exclude(kind="intraday")
    if done:
        runs = runs.filter(status=RunStatus.DONE)
    return runs.order_by("-started_at", "-id").first()


def run_scores(*, run: ForecastRun) -> QuerySet[BacktestScore]:
    return BacktestScore.objects.filter(run=run).order_by("horizon", "method")


def special_days_of(*, planning_queue: PlanningQueue | None) -> QuerySet[SpecialDay]:
    """The special days of one queue and those of every queue (``None``: every queue's only)."""
    if planning_queue is None:
        return SpecialDay.objects.filter(planning_queue__isnull=True)
    return SpecialDay.objects.filter(Q(planning_queue=planning_queue) | Q(planning_queue__isnull=True))


def special_days_between(*, planning_queue: PlanningQueue, first: date, last: date) -> dict[date, SpecialDay]:
    """The special day that applies to each day in ``[first, last]``: the queue's own over every queue's."""
    found: dict[date, SpecialDay] = {}
    for special in special_days_of(planning_queue=planning_queue).filter(day__gte=first, day__lte=last):
        if special.day not in found or special.planning_queue_id is not None:
            found[special.day] = special
    return found


def forecast_intervals(*, planning_queue: PlanningQueue, start: datetime, end: datetime) -> QuerySet[ForecastInterval]:
    return ForecastInterval.objects.filter(
        planning_queue=planning_queue, interval_start__gte=start, interval_start__lt=end
    ).order_by("interval_start")


@dataclass(frozen=True)
class ForecastVsActual:
    interval_start: datetime
    volume: float | None  # the model's figure (after special days)
    planned_volume: float | None  # the adjustment where set, else the model's
    planned_aht: float | None
    adjusted: bool
    actual_contacts: int | None  # None for intervals still to come
    actual_aht: float | None


def forecast_vs_actual(
    *, planning_queue: PlanningQueue, start: datetime, end: datetime, now: datetime | None = None
) -> list[ForecastVsActual]:
    """Every interval of ``[start, end)``: the forecast (if any) beside what happened (for past ones)."""
    now = now or timezone.now()
    step = timedelta(minutes=planning_queue.interval_minutes)
    forecasts = {f.interval_start: f for f in forecast_intervals(planning_queue=planning_queue, start=start, end=end)}
    actuals = {
        row.interval_start: row
        for row in interaction_interval_counts(
            queue=planning_queue.queue,
            channel=planning_queue.channel,
            start=start,
            end=end,
            interval_minutes=planning_queue.interval_minutes,
        )
    }
    rows = []
    moment = start
    while moment < end:
        forecast, actual = forecasts.get(moment), actuals.get(moment)
        past = moment + step <= now
        rows.append(
            ForecastVsActual(
                interval_start=moment,
                volume=forecast.volume if forecast else None,
                planned_volume=forecast.planned_volume if forecast else None,
                planned_aht=forecast.planned_aht if forecast else None,
                adjusted=bool(forecast and (forecast.volume_adjusted is not None or forecast.aht_adjusted is not None)),
                actual_contacts=(actual.contacts if actual else 0) if past else None,
                actual_aht=(actual.handle_seconds / actual.handled) if actual and actual.handled and past else None,
            )
        )
        moment += step
    return rows


@dataclass(frozen=True)
class HorizonSummary:
    """One horizon of a run: the chosen method and its WAPE beside the better baseline's."""

    horizon: str
    horizon_label: str
    method: str
    method_label: str
    wape: float | None
    baseline: str
    baseline_label: str
    baseline_wape: float | None
    model_wins: bool


BASELINE_METHODS = (ForecastMethod.SEASONAL_NAIVE, ForecastMethod.HISTORICAL_AVERAGE)


def run_summary(*, run: ForecastRun) -> list[HorizonSummary]:
    """Per horizon (in order), what the backtest chose and how it compares with the better baseline."""
    scores = {(s.horizon, s.method): s for s in run_scores(run=run)}
    summary = []
    for horizon in Horizon:
        method = run.methods.get(horizon.value)
        if method is None:
            continue
        baselines = [scores[(horizon.value, b.value)] for b in BASELINE_METHODS if (horizon.value, b.value) in scores]
        best = min(baselines, key=lambda s: s.wape if s.wape is not None else float("inf"), default=None)
        chosen = scores.get((horizon.value, method))
        summary.append(
            HorizonSummary(
                horizon=horizon.value,
                horizon_label=str(horizon.label),
                method=method,
                method_label=str(ForecastMethod(method).label),
                wape=chosen.wape if chosen else None,
                baseline=best.method if best else "",
                baseline_label=str(ForecastMethod(best.method).label) if best else "",
                baseline_wape=best.wape if best else None,
                model_wins=method not in BASELINE_METHODS,
            )
        )
    return summary


def backtest_table(*, run: ForecastRun) -> list[tuple[str, list[BacktestScore]]]:
    """The run's scores as rows per horizon (in order) of one score per method (in ``ForecastMethod`` order)."""
    scores = {(s.horizon, s.method): s for s in run_scores(run=run)}
    table = []
    for horizon in Horizon:
        row = [scores[(horizon.value, m.value)] for m in ForecastMethod if (horizon.value, m.value) in scores]
        if row:
            table.append((str(horizon.label), row))
    return table
