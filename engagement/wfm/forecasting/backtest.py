"""Rolling-origin backtests of the forecasting methods and the choice of a method per horizon (pure).

Horizons (docs/wfm.md, "Forecasting"):

- ``interval``: one interval ahead. The methods are fitted once, at the earliest origin, and then
  forecast each interval of the last ``ONE_STEP_DAYS`` days from everything before it with those
  parameters (``Fitted.one_step``: no refit per interval, which at 15 minutes would be 1,344 fits).
- ``day``, ``week``, ``two_weeks``: the 24 hours that start 0, 6 and 13 days after an origin (the
  1st, 7th and 14th day ahead). ``ORIGINS`` origins, ``ORIGIN_SPACING_DAYS`` apart, the latest 14 days
  before the history's end; each origin fits every method once on the ``fit_weeks`` before it and the
  same fit serves the three horizons.

WAPE = sum |forecast - actual| / sum actual (percent); MAPE = the mean of |forecast - actual| / actual
over intervals with contacts (percent; undefined where none had contacts). Per horizon, a model (ETS or
MSTL) is chosen only where its WAPE is below both baselines' by ``MARGIN`` (relative) at least: a smaller
difference over a few origins is noise, not evidence. Otherwise the better baseline is chosen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engagement.wfm.forecasting.methods import (
    BASELINES,
    METHODS,
    MODELS,
    Fitted,
    HistoricalAverage,
    Season,
    aht_forecast,
    minimum_history,
)

ONE_STEP_DAYS = 14
ORIGINS = 3
ORIGIN_SPACING_DAYS = 2
FIT_WEEKS = 8
DAY_HORIZONS = {"day": 1, "week": 7, "two_weeks": 14}
HORIZONS = ("interval", *DAY_HORIZONS)
# When two methods score the same, the simpler one is chosen (the first in this order).
PREFERENCE = (*BASELINES, *MODELS)
MARGIN = 0.02
# The history a run reads: the earliest origin (14 + (ORIGINS - 1) * spacing days before the end), its
# fitting window before that, and a week to spare (a history that starts with a quiet stretch).
HISTORY_DAYS = 7 * FIT_WEEKS + 14 + (ORIGINS - 1) * ORIGIN_SPACING_DAYS + 7


@dataclass
class Errors:
    """Accumulated errors of one method at one horizon."""

    absolute: float = 0.0
    actual: float = 0.0
    ratios: list[float] = field(default_factory=list)
    aht_absolute: float = 0.0
    aht_actual: float = 0.0
    origins: int = 0

    def add(self, forecast: np.ndarray, actual: np.ndarray) -> None:
        errors = np.abs(forecast - actual)
        self.absolute += float(errors.sum())
        self.actual += float(actual.sum())
        busy = actual > 0
        self.ratios.extend((errors[busy] / actual[busy]).tolist())

    def add_aht(self, forecast: np.ndarray, handled: np.ndarray, handle_seconds: np.ndarray) -> None:
        # Weighted by handled contacts: the error in workload (seconds) the handle-time forecast makes.
        self.aht_absolute += float(np.abs(forecast * handled - handle_seconds).sum())
        self.aht_actual += float(handle_seconds.sum())

    @property
    def wape(self) -> float | None:
        return 100.0 * self.absolute / self.actual if self.actual > 0 else None

    @property
    def mape(self) -> float | None:
        return 100.0 * float(np.mean(self.ratios)) if self.ratios else None

    @property
    def aht_wape(self) -> float | None:
        return 100.0 * self.aht_absolute / self.aht_actual if self.aht_actual > 0 else None


@dataclass(frozen=True)
class Score:
    horizon: str
    method: str
    wape: float | None
    mape: float | None
    aht_wape: float | None
    origins: int


@dataclass(frozen=True)
class History:
    """A queue's series: contacts, handled contacts and handle seconds per interval, oldest first."""

    contacts: np.ndarray
    handled: np.ndarray
    handle_seconds: np.ndarray
    season: Season


@dataclass(frozen=True)
class Backtest:
    scores: list[Score]
    chosen: dict[str, str]  # horizon -> method

    @property
    def beats_baselines(self) -> bool:
        """Whether a model beats both baselines at one horizon at least."""
        return any(method in MODELS for method in self.chosen.values())

    def score(self, horizon: str, method: str) -> Score | None:
        return next((s for s in self.scores if s.horizon == horizon and s.method == method), None)


def origins_of(length: int, season: Season, *, fit_weeks: int = FIT_WEEKS) -> list[int]:
    """The origins (positions in the series) a backtest uses: each with two weeks of history before it
    at least and 14 days after it. Latest first; none when the history is too short."""
    latest = length - 14 * season.per_day
    candidates = [latest - i * ORIGIN_SPACING_DAYS * season.per_day for i in range(ORIGINS)]
    return [origin for origin in candidates if origin >= 2 * season.per_week]


def _window(series: np.ndarray, origin: int, season: Season, fit_weeks: int) -> np.ndarray:
    # Whole weeks only, ending at the origin: the seasonal states start at a week's phase.
    weeks = min(fit_weeks, origin // season.per_week)
    return series[origin - weeks * season.per_week : origin]


def backtest(history: History, *, fit_weeks: int = FIT_WEEKS, methods: tuple[str, ...] = PREFERENCE) -> Backtest:
    """Score ``methods`` at every horizon over the rolling origins and choose one per horizon.

    With too short a history (``origins_of`` empty) nothing is scored and the historical average is
    chosen everywhere.
    """
    season = history.season
    origins = origins_of(len(history.contacts), season, fit_weeks=fit_weeks)
    if not origins:
        return Backtest(scores=[], chosen=dict.fromkeys(HORIZONS, "historical_average"))
    errors = {(h, m): Errors() for h in HORIZONS for m in methods}
    for index, origin in enumerate(origins):
        window = _window(history.contacts, origin, season, fit_weeks)
        fits = {method: METHODS[method](window, season) for method in methods}
        _score_days(errors, fits, history, origin, window_start=origin - len(window))
        if index == len(origins) - 1:  # the earliest origin: the longest stretch of one-step forecasts
            _score_one_step(errors, fits, history, origin)
    scores = [
        Score(horizon=h, method=m, wape=e.wape, mape=e.mape, aht_wape=e.aht_wape, origins=e.origins)
        for (h, m), e in errors.items()
    ]
    return Backtest(scores=scores, chosen={h: _choose(scores, h) for h in HORIZONS})


def _score_days(
    errors: dict[tuple[str, str], Errors], fits: dict[str, Fitted], history: History, origin: int, *, window_start: int
) -> None:
    per_day = history.season.per_day
    steps = 14 * per_day
    aht = aht_forecast(
        history.handled[window_start:origin],
        history.handle_seconds[window_start:origin],
        season=history.season,
        steps=steps,
    )
    for method, fitted in fits.items():
        forecast = fitted.forecast(steps)
        for horizon, day in DAY_HORIZONS.items():
            part = slice((day - 1) * per_day, day * per_day)
            target = slice(origin + part.start, origin + part.stop)
            accumulated = errors[(horizon, method)]
            accumulated.add(forecast[part], history.contacts[target])
            accumulated.add_aht(aht[part], history.handled[target], history.handle_seconds[target])
            accumulated.origins += 1


def _score_one_step(
    errors: dict[tuple[str, str], Errors], fits: dict[str, Fitted], history: History, origin: int
) -> None:
    end = min(len(history.contacts), origin + ONE_STEP_DAYS * history.season.per_day)
    future = history.contacts[origin:end]
    for method, fitted in fits.items():
        accumulated = errors[("interval", method)]
        accumulated.add(fitted.one_step(future), future)
        accumulated.origins += len(future)


def _choose(scores: list[Score], horizon: str) -> str:
    scored = [s for s in scores if s.horizon == horizon and s.wape is not None]
    rank = {method: i for i, method in enumerate(PREFERENCE)}
    baselines = sorted((s for s in scored if s.method in BASELINES), key=lambda s: (s.wape, rank[s.method]))
    if not baselines:
        return "historical_average"
    best_baseline = baselines[0]
    models = sorted((s for s in scored if s.method in MODELS), key=lambda s: (s.wape, rank[s.method]))
    if models and models[0].wape < (1.0 - MARGIN) * best_baseline.wape:  # type: ignore[operator]
        return models[0].method
    return best_baseline.method


def horizon_of(lead: int, season: Season) -> str:
    """The horizon whose method forecasts the interval ``lead`` steps after the history's end (1: the next).

    1 interval: ``interval``; up to a day: ``day``; up to 7 days: ``week``; beyond: ``two_weeks``.
    """
    if lead <= 1:
        return "interval"
    if lead <= season.per_day:
        return "day"
    if lead <= 7 * season.per_day:
        return "week"
    return "two_weeks"


@dataclass(frozen=True)
class Forecast:
    volumes: np.ndarray
    aht_seconds: np.ndarray
    methods: list[str]  # per step


def forecast_ahead(history: History, *, chosen: dict[str, str], steps: int, fit_weeks: int = FIT_WEEKS) -> Forecast:
    """The next ``steps`` intervals after the history, each by the method chosen for its horizon, fitted
    on the last ``fit_weeks`` (whole weeks). With less than two weeks of history, the historical average
    of what there is (with less than one week, the mean per interval of the day, or of all)."""
    season = history.season
    if len(history.contacts) < minimum_history(season):
        volumes = _short_history_forecast(history.contacts, season, steps)
        methods = ["historical_average"] * steps
    else:
        window = _window(history.contacts, len(history.contacts), season, fit_weeks)
        fits = {method: METHODS[method](window, season) for method in set(chosen.values())}
        forecasts = {method: fitted.forecast(steps) for method, fitted in fits.items()}
        methods = [chosen[horizon_of(lead, season)] for lead in range(1, steps + 1)]
        volumes = np.array([forecasts[method][i] for i, method in enumerate(methods)])
    aht = (
        aht_forecast(history.handled, history.handle_seconds, season=season, steps=steps)
        if len(history.handled) >= season.per_week
        else np.full(steps, _mean_aht(history))
    )
    return Forecast(volumes=np.clip(volumes, 0, None), aht_seconds=aht, methods=methods)


def _short_history_forecast(contacts: np.ndarray, season: Season, steps: int) -> np.ndarray:
    if len(contacts) >= season.per_week:
        return HistoricalAverage(contacts, season).forecast(steps)
    if len(contacts) >= season.per_day:
        days = len(contacts) // season.per_day
        profile = contacts[len(contacts) - days * season.per_day :].reshape(days, season.per_day).mean(axis=0)
        return np.resize(profile, steps)  # the next interval is at the profile's start, as a day ago
    return np.full(steps, float(contacts.mean()) if len(contacts) else 0.0)


def _mean_aht(history: History) -> float:
    handled = float(history.handled.sum())
    return float(history.handle_seconds.sum()) / handled if handled > 0 else 0.0
