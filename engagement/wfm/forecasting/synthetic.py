"""Synthetic contact histories with the shapes real centres have, for tests and the benchmark (pure).

Arrivals per interval are Poisson around a rate that is an intraday profile (a morning peak and a
smaller afternoon one, quiet nights) times a weekday factor (Monday heaviest, Saturday light, Sunday
little) times a day level that wanders (log-AR(1), as a centre's busy and quiet days come in runs).
``shaped=False`` gives pure noise: Poisson around one constant rate, no shape and no memory.
"""

from __future__ import annotations

import numpy as np

from engagement.wfm.forecasting.backtest import History
from engagement.wfm.forecasting.methods import Season

WEEKDAY_FACTORS = (1.3, 1.1, 1.0, 1.0, 0.9, 0.4, 0.15)  # Monday … Sunday
AHT_SECONDS = 300.0


def intraday_profile(per_day: int) -> np.ndarray:
    """Relative arrivals through a day (position 0 = midnight): peaks near 11:00 and 16:00."""
    hours = np.arange(per_day) * 24.0 / per_day
    return 0.02 + np.exp(-(((hours - 11.0) / 3.5) ** 2)) + 0.5 * np.exp(-(((hours - 16.0) / 2.5) ** 2))


def synthetic_history(
    *,
    days: int,
    per_day: int = 96,
    peak: float = 30.0,
    seed: int = 7,
    shaped: bool = True,
    day_level_sd: float = 0.1,
    first_weekday: int = 0,
) -> History:
    """``days`` days of history starting at a midnight that is ``first_weekday`` (0 Monday)."""
    rng = np.random.default_rng(seed)
    n = days * per_day
    if shaped:
        day = np.arange(n) // per_day
        weekday = (day + first_weekday) % 7
        levels = np.zeros(days)
        for d in range(1, days):
            levels[d] = 0.8 * levels[d - 1] + rng.normal(0.0, day_level_sd)
        rate = peak * np.tile(intraday_profile(per_day), days) * np.asarray(WEEKDAY_FACTORS)[weekday]
        rate *= np.exp(levels[day])
    else:
        rate = np.full(n, peak / 3.0)
    contacts = rng.poisson(rate).astype(float)
    handled = np.floor(contacts * 0.92)
    handle_seconds = np.clip(handled * rng.normal(AHT_SECONDS, 20.0, n), 0, None)
    return History(contacts=contacts, handled=handled, handle_seconds=handle_seconds, season=Season(per_day))
