"""Forecasting methods on a regular series of contacts per interval (pure: numpy and statsmodels, no database).

A series is a 1-d array of one value per interval, oldest first, with no gaps; ``Season`` says how many
intervals make a day (96 at 15 minutes, 48 at 30). A week is seven days of intervals, so "the same
interval last week" is always ``per_week`` steps back, whatever the series' phase.

Each method is fitted on a window of history (``fit``) and then gives:

- ``forecast(steps)``: the next ``steps`` intervals after the window's end;
- ``one_step(future)``: the one-interval-ahead forecasts of ``future`` (actuals that follow the window),
  each made from everything before it with the window's fitted parameters (no refit).

The methods (docs/wfm.md, "Forecasting"):

- ``ets``: Holt-Winters (additive ETS(A,N,A)) with a season of one week of intervals, which nests the
  daily cycle in the weekly one; its seasonal states start from the window's mean weekly profile.
- ``mstl``: MSTL splits the window into a daily and a weekly seasonal component and a trend; the
  seasonally adjusted series is forecast by simple exponential smoothing and the last week of the
  seasonal components is added back (the "STL + ETS" approach).
- ``seasonal_naive``: the same interval last week.
- ``historical_average``: the mean of the same interval and weekday over the last ``HISTORICAL_WEEKS``.

Forecasts of contacts are never negative.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from statsmodels.tsa.holtwinters import ExponentialSmoothing, SimpleExpSmoothing
from statsmodels.tsa.seasonal import MSTL

# The same weeks as the models' fitting window (backtest.FIT_WEEKS): a model must beat an average over
# the history it sees itself, not a noisier one.
HISTORICAL_WEEKS = 8
# STL evaluates its loess smoothers every ``jump`` points and interpolates (Cleveland et al. 1990's own
# speed-up): at 15 minutes the weekly trend window spans ~1,000 points, and evaluating it at every point
# made a fit of 8 weeks take 7 s; with jumps of 50 it takes 0.5 s and the components barely move.
STL_JUMP = 50


@dataclass(frozen=True)
class Season:
    """Intervals per day of a series (96 at 15 minutes, 48 at 30)."""

    per_day: int

    @property
    def per_week(self) -> int:
        return self.per_day * 7

    @classmethod
    def of_minutes(cls, interval_minutes: int) -> Season:
        return cls(per_day=24 * 60 // interval_minutes)


class Fitted(Protocol):
    def forecast(self, steps: int) -> np.ndarray: ...

    def one_step(self, future: np.ndarray) -> np.ndarray: ...


def _repeat(profile: np.ndarray, steps: int) -> np.ndarray:
    return np.tile(profile, math.ceil(steps / len(profile)))[:steps]


def _lagged_mean(series: np.ndarray, *, positions: np.ndarray, lag: int, lags: int) -> np.ndarray:
    """For each position, the mean of ``series`` at ``position - k*lag`` for k = 1..lags that exist."""
    total = np.zeros(len(positions))
    count = np.zeros(len(positions))
    for k in range(1, lags + 1):
        back = positions - k * lag
        present = back >= 0
        total[present] += series[back[present]]
        count[present] += 1
    return np.divide(total, count, out=np.zeros(len(positions)), where=count > 0)


# --- Baselines --------------------------------------------------------------------------------------


@dataclass
class SeasonalNaive:
    window: np.ndarray
    season: Season

    def forecast(self, steps: int) -> np.ndarray:
        return _repeat(self.window[-self.season.per_week :], steps)

    def one_step(self, future: np.ndarray) -> np.ndarray:
        joined = np.concatenate([self.window, future])
        return joined[len(self.window) - self.season.per_week : len(joined) - self.season.per_week]


@dataclass
class HistoricalAverage:
    window: np.ndarray
    season: Season
    weeks: int = HISTORICAL_WEEKS

    def forecast(self, steps: int) -> np.ndarray:
        week = self.season.per_week
        weeks = max(1, min(self.weeks, len(self.window) // week))
        profile = self.window[len(self.window) - weeks * week :].reshape(weeks, week).mean(axis=0)
        return _repeat(profile, steps)

    def one_step(self, future: np.ndarray) -> np.ndarray:
        joined = np.concatenate([self.window, future])
        positions = np.arange(len(self.window), len(joined))
        return _lagged_mean(joined, positions=positions, lag=self.season.per_week, lags=self.weeks)


# --- Models -----------------------------------------------------------------------------------------


@dataclass
class HoltWinters:
    """ETS(A,N,A) with a weekly season; initial states from the window's mean weekly profile."""

    window: np.ndarray
    season: Season
    level: float
    seasonal: np.ndarray
    alpha: float
    gamma: float
    result: object

    @classmethod
    def fit(cls, window: np.ndarray, season: Season) -> HoltWinters:
        level, seasonal = cls._initial(window, season)
        model = cls._model(window, season, level, seasonal)
        result = model.fit(optimized=True)
        return cls(
            window=window,
            season=season,
            level=level,
            seasonal=seasonal,
            alpha=float(result.params["smoothing_level"]),
            gamma=float(result.params["smoothing_seasonal"]),
            result=result,
        )

    @staticmethod
    def _initial(window: np.ndarray, season: Season) -> tuple[float, np.ndarray]:
        week = season.per_week
        weeks = len(window) // week
        profile = window[: weeks * week].reshape(weeks, week).mean(axis=0)
        level = float(profile.mean())
        return level, profile - level

    @staticmethod
    def _model(series: np.ndarray, season: Season, level: float, seasonal: np.ndarray) -> ExponentialSmoothing:
        return ExponentialSmoothing(
            series,
            trend=None,
            seasonal="add",
            seasonal_periods=season.per_week,
            initialization_method="known",
            initial_level=level,
            initial_seasonal=seasonal,
        )

    def forecast(self, steps: int) -> np.ndarray:
        return np.clip(np.asarray(self.result.forecast(steps)), 0, None)  # type: ignore[attr-defined]

    def one_step(self, future: np.ndarray) -> np.ndarray:
        # The same initial states and smoothing parameters over window + future: the fitted values of
        # the future part are the one-step-ahead forecasts, each from the values before it only.
        joined = np.concatenate([self.window, future])
        model = self._model(joined, self.season, self.level, self.seasonal)
        fitted = model.fit(smoothing_level=self.alpha, smoothing_seasonal=self.gamma, optimized=False)
        return np.clip(np.asarray(fitted.fittedvalues)[len(self.window) :], 0, None)


@dataclass
class MstlSes:
    """MSTL's daily and weekly components, plus simple exponential smoothing of the adjusted series."""

    season: Season
    profile: np.ndarray  # the seasonal components' sum over the window's last week
    level: float
    alpha: float

    @classmethod
    def fit(cls, window: np.ndarray, season: Season) -> MstlSes:
        jumps = {"trend_jump": STL_JUMP, "low_pass_jump": STL_JUMP}
        decomposition = MSTL(window, periods=(season.per_day, season.per_week), stl_kwargs=jumps).fit()
        # MSTL drops a period longer than half the window (the weekly one, on two weeks): then one column.
        seasonal = np.asarray(decomposition.seasonal).reshape(len(window), -1).sum(axis=1)
        adjusted = window - seasonal
        smoothing = SimpleExpSmoothing(adjusted, initialization_method="estimated").fit()
        return cls(
            season=season,
            profile=seasonal[-season.per_week :],
            level=float(np.asarray(smoothing.level)[-1]),
            alpha=float(smoothing.params["smoothing_level"]),
        )

    def forecast(self, steps: int) -> np.ndarray:
        return np.clip(self.level + _repeat(self.profile, steps), 0, None)

    def one_step(self, future: np.ndarray) -> np.ndarray:
        seasonal = _repeat(self.profile, len(future))
        adjusted = future - seasonal
        # Each forecast is the level before the value plus its season; then the level learns the value.
        before = np.empty(len(future))
        level = self.level
        for i, value in enumerate(adjusted):
            before[i] = level
            level += self.alpha * (value - level)
        return np.clip(before + seasonal, 0, None)


Fit = Callable[[np.ndarray, Season], Fitted]

METHODS: dict[str, Fit] = {
    "ets": HoltWinters.fit,
    "mstl": MstlSes.fit,
    "seasonal_naive": SeasonalNaive,
    "historical_average": HistoricalAverage,
}
BASELINES = ("seasonal_naive", "historical_average")
MODELS = ("ets", "mstl")


def minimum_history(season: Season) -> int:
    """The shortest window every method fits on: two weeks (two weekly cycles for the seasonal states)."""
    return 2 * season.per_week


# --- Handle time ------------------------------------------------------------------------------------


def aht_forecast(
    handled: np.ndarray, handle_seconds: np.ndarray, *, season: Season, steps: int, weeks: int = HISTORICAL_WEEKS
) -> np.ndarray:
    """Average handle time per interval: handle seconds over handled contacts of the same interval and
    weekday in the last ``weeks``, shrunk towards the window's overall AHT where an interval saw few
    contacts (``PRIOR_CONTACTS`` contacts' worth of the overall mean). Zero with no handled contact at all.
    """
    week = season.per_week
    weeks = max(1, min(weeks, len(handled) // week))
    recent_handled = handled[len(handled) - weeks * week :].reshape(weeks, week).sum(axis=0)
    recent_seconds = handle_seconds[len(handled) - weeks * week :].reshape(weeks, week).sum(axis=0)
    overall_handled = float(handled.sum())
    if overall_handled <= 0:
        return np.zeros(steps)
    overall = float(handle_seconds.sum()) / overall_handled
    profile = (recent_seconds + PRIOR_CONTACTS * overall) / (recent_handled + PRIOR_CONTACTS)
    return _repeat(profile, steps)


PRIOR_CONTACTS = 5.0
