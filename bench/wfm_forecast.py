"""Forecast fit time for a year of 15-minute history, against a floor measured in the same run (no database).

    .venv/bin/python bench/wfm_forecast.py [--days 365] [--interval-minutes 15] [--repeat 3]

A synthetic year (engagement/wfm/forecasting/synthetic.py: a daily shape with two peaks, Monday heaviest,
Sunday little, day levels that wander, Poisson arrivals) of 35,040 quarter-hours is forecast as
``forecast_run`` does it, without the database:

- the two baselines (seasonal naive and the historical average) forecasting 21 days from the whole year
  with numpy; the floor: the same backtest and forecast as a run, with the baselines only;
- what a run does: the backtest (3 origins × 4 methods at 1 day, 7 and 14 days, plus the one-step
  forecasts of 14 days) on the last ``HISTORY_DAYS`` of history, then the chosen methods fitted on the
  last 8 weeks and forecasting 21 days; as seconds and as a ratio to the floor;
- for comparison, each model fitted on the whole year (why a run fits on a recent window).

Figures go in docs/performance.md ("WFM forecasting").
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine


def _best_of(repeat: int, work) -> tuple[object, float]:
    times, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - began)
    return result, min(times)


def forecast_fit(*, days: int = 365, interval_minutes: int = 15, repeat: int = 3) -> dict[str, float]:
    """Measure and print; the figures (seconds) for a summary."""
    import warnings

    import numpy as np

    from engagement.wfm.forecasting.backtest import HISTORY_DAYS, History, backtest, forecast_ahead
    from engagement.wfm.forecasting.methods import (
        BASELINES,
        HistoricalAverage,
        HoltWinters,
        MstlSes,
        Season,
        SeasonalNaive,
    )
    from engagement.wfm.forecasting.synthetic import synthetic_history

    warnings.simplefilter("ignore")  # statsmodels' convergence notes on noise are not the figures
    season = Season.of_minutes(interval_minutes)
    year = synthetic_history(days=days, per_day=season.per_day, peak=40.0, seed=2026, day_level_sd=0.12)
    steps = 21 * season.per_day
    print(f"  {len(year.contacts):,} intervals of {interval_minutes} minutes, {int(year.contacts.sum()):,} contacts")

    def baselines_on_the_year() -> np.ndarray:
        naive = SeasonalNaive(year.contacts, season).forecast(steps)
        average = HistoricalAverage(year.contacts, season).forecast(steps)
        return naive + average

    _, numpy_s = _best_of(repeat, baselines_on_the_year)
    recent = HISTORY_DAYS * season.per_day
    read = History(
        contacts=year.contacts[-recent:],
        handled=year.handled[-recent:],
        handle_seconds=year.handle_seconds[-recent:],
        season=season,
    )

    def run() -> tuple:
        scored = backtest(read)
        return scored, forecast_ahead(read, chosen=scored.chosen, steps=steps)

    def floor() -> tuple:
        scored = backtest(read, methods=BASELINES)
        return scored, forecast_ahead(read, chosen=scored.chosen, steps=steps)

    _, floor_s = _best_of(repeat, floor)
    (scored, _), run_s = _best_of(repeat, run)
    _, ets_year_s = _best_of(1, lambda: HoltWinters.fit(year.contacts, season).forecast(steps))
    _, mstl_year_s = _best_of(1, lambda: MstlSes.fit(year.contacts, season).forecast(steps))
    print(f"  both baselines forecasting 21 days from the whole year (numpy): {numpy_s * 1000:.2f} ms")
    print(f"  floor: the same backtest and forecast with the baselines only: {floor_s * 1000:.0f} ms")
    print(
        f"  a run (backtest on {HISTORY_DAYS} days + fit on 8 weeks + 21 days ahead): {run_s:.2f} s"
        f" = {run_s / floor_s:,.0f}× the floor"
    )
    print(f"  for comparison, fitted on the whole year: ETS {ets_year_s:.2f} s, MSTL {mstl_year_s:.2f} s")
    print("  backtest WAPE % (chosen *):")
    for horizon in ("interval", "day", "week", "two_weeks"):
        cells = []
        for method in ("seasonal_naive", "historical_average", "ets", "mstl"):
            score = scored.score(horizon, method)
            mark = "*" if scored.chosen[horizon] == method else ""
            cells.append(f"{method} {score.wape:.1f}{mark}" if score and score.wape is not None else f"{method} —")
        print(f"    {horizon:>9}: " + ", ".join(cells))
    print(f"  beats the baselines somewhere: {scored.beats_baselines}")
    return {"numpy": numpy_s, "floor": floor_s, "run": run_s, "ets_year": ets_year_s, "mstl_year": mstl_year_s}


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--interval-minutes", type=int, choices=(15, 30), default=15)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"WFM forecasting ({machine()})")
    return forecast_fit(days=args.days, interval_minutes=args.interval_minutes, repeat=args.repeat)


if __name__ == "__main__":
    main()
