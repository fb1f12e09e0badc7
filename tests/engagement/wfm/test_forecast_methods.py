"""Forecasting methods and their backtest on synthetic series with a known shape (no database)."""

from __future__ import annotations

import numpy as np
import pytest

from engagement.wfm.forecasting.backtest import (
    HORIZONS,
    MARGIN,
    History,
    backtest,
    forecast_ahead,
    horizon_of,
    origins_of,
)
from engagement.wfm.forecasting.methods import (
    BASELINES,
    MODELS,
    HistoricalAverage,
    HoltWinters,
    MstlSes,
    Season,
    SeasonalNaive,
    aht_forecast,
)
from engagement.wfm.forecasting.synthetic import synthetic_history

DAY = 48  # 30-minute intervals keep the fits short
SEASON = Season(DAY)


@pytest.fixture(scope="module")
def shaped() -> History:
    return synthetic_history(days=84, per_day=DAY, seed=3)


@pytest.fixture(scope="module")
def shaped_backtest(shaped):
    return backtest(shaped)


@pytest.fixture(scope="module")
def noise_backtest():
    return backtest(synthetic_history(days=84, per_day=DAY, seed=3, shaped=False))


def test_seasonal_naive_repeats_the_same_interval_last_week():
    # Given: two weeks numbered 0..n-1
    window = np.arange(2 * SEASON.per_week, dtype=float)
    # When / Then: the next week is last week again, and after it, the same once more
    forecast = SeasonalNaive(window, SEASON).forecast(SEASON.per_week + 3)
    assert forecast[:3].tolist() == [336.0, 337.0, 338.0]
    assert forecast[SEASON.per_week :].tolist() == [336.0, 337.0, 338.0]
    # One step ahead: each value's own week before
    future = np.array([1.0, 2.0])
    assert SeasonalNaive(window, SEASON).one_step(future).tolist() == [336.0, 337.0]


def test_historical_average_is_the_mean_of_the_same_interval_and_weekday():
    # Given: three weeks at 1, 2 and 6 contacts everywhere
    window = np.concatenate([np.full(SEASON.per_week, value) for value in (1.0, 2.0, 6.0)])
    # When / Then
    assert set(HistoricalAverage(window, SEASON).forecast(10).tolist()) == {3.0}
    assert HistoricalAverage(window, SEASON, weeks=2).forecast(1).tolist() == [4.0]
    # One step ahead over a future that follows: the weeks before each point (at most 8)
    assert HistoricalAverage(window, SEASON).one_step(np.array([9.0])).tolist() == [3.0]


@pytest.mark.parametrize("model", [HoltWinters.fit, MstlSes.fit])
def test_the_models_learn_a_clean_weekly_shape(model):
    # Given: four weeks of a daily shape with a weekday factor, busy enough that Poisson noise is small
    history = synthetic_history(days=28, per_day=DAY, peak=300, shaped=True, day_level_sd=0.0, seed=1)
    week = history.contacts[-SEASON.per_week :]
    # When: fitted on three weeks and asked for the fourth
    fitted = model(history.contacts[: 3 * SEASON.per_week], SEASON)
    forecast = fitted.forecast(SEASON.per_week)
    # Then: close to what the fourth week was (Poisson noise only), never negative
    assert forecast.min() >= 0
    assert np.abs(forecast - week).sum() / week.sum() < 0.15
    assert len(fitted.one_step(week)) == SEASON.per_week


def test_handle_time_is_the_weighted_mean_of_the_same_interval_shrunk_to_the_overall():
    # Given: one week, every interval 2 contacts at 100 s, except the first at 2 contacts of 400 s
    handled = np.full(SEASON.per_week, 2.0)
    seconds = np.full(SEASON.per_week, 200.0)
    seconds[0] = 800.0
    # When
    aht = aht_forecast(handled, seconds, season=SEASON, steps=2)
    # Then: (800 + 5 * overall) / (2 + 5) for the first; the overall mean is a little above 100
    overall = seconds.sum() / handled.sum()
    assert aht[0] == pytest.approx((800 + 5 * overall) / 7)
    assert aht[1] == pytest.approx((200 + 5 * overall) / 7)
    assert aht_forecast(np.zeros(SEASON.per_week), np.zeros(SEASON.per_week), season=SEASON, steps=3).tolist() == [
        0.0,
        0.0,
        0.0,
    ]


def test_origins_leave_two_weeks_before_and_fourteen_days_after():
    assert origins_of(84 * DAY, SEASON) == [70 * DAY, 68 * DAY, 66 * DAY]
    # Two weeks before an origin and 14 days after it: 28 days at least, one origin until 30 days
    assert origins_of(27 * DAY, SEASON) == []
    assert origins_of(28 * DAY, SEASON) == [14 * DAY]
    assert origins_of(30 * DAY, SEASON) == [16 * DAY, 14 * DAY]


def test_every_method_is_scored_at_every_horizon(shaped_backtest):
    scored = {(s.horizon, s.method) for s in shaped_backtest.scores}
    assert scored == {(h, m) for h in HORIZONS for m in (*BASELINES, *MODELS)}
    day = shaped_backtest.score("day", "ets")
    assert day is not None and day.origins == 3 and day.wape is not None and day.mape is not None
    one_step = shaped_backtest.score("interval", "ets")
    assert one_step is not None and one_step.origins == 14 * DAY


def test_with_a_daily_and_weekly_shape_a_model_beats_both_baselines_at_short_horizons(shaped_backtest):
    # Then: one interval and one day ahead, a model is chosen and is better than both baselines by the margin
    for horizon in ("interval", "day"):
        chosen = shaped_backtest.chosen[horizon]
        assert chosen in MODELS, (horizon, chosen)
        best = shaped_backtest.score(horizon, chosen).wape
        for baseline in BASELINES:
            assert best < (1 - MARGIN) * shaped_backtest.score(horizon, baseline).wape
    assert shaped_backtest.beats_baselines is True


def test_with_pure_noise_nothing_beats_the_baselines(noise_backtest):
    assert set(noise_backtest.chosen.values()) <= set(BASELINES)
    assert noise_backtest.beats_baselines is False


def test_a_baseline_is_chosen_wherever_no_model_is_better_by_the_margin(shaped_backtest, noise_backtest):
    for result in (shaped_backtest, noise_backtest):
        for horizon, method in result.chosen.items():
            if method in BASELINES:
                best_model = min(result.score(horizon, m).wape for m in MODELS)
                assert best_model >= (1 - MARGIN) * result.score(horizon, method).wape


def test_each_step_ahead_is_forecast_by_its_horizons_method(shaped):
    # Given: a different method per horizon
    chosen = {"interval": "ets", "day": "mstl", "week": "seasonal_naive", "two_weeks": "historical_average"}
    # When
    ahead = forecast_ahead(shaped, chosen=chosen, steps=15 * DAY)
    # Then
    assert ahead.methods[0] == "ets"
    assert set(ahead.methods[1:DAY]) == {"mstl"}
    assert set(ahead.methods[DAY : 7 * DAY]) == {"seasonal_naive"}
    assert set(ahead.methods[7 * DAY :]) == {"historical_average"}
    naive = SeasonalNaive(shaped.contacts, SEASON).forecast(15 * DAY)
    assert ahead.volumes[DAY : 7 * DAY].tolist() == naive[DAY : 7 * DAY].tolist()
    assert ahead.volumes.min() >= 0 and len(ahead.aht_seconds) == 15 * DAY
    assert ahead.aht_seconds.mean() == pytest.approx(300, rel=0.1)


def test_horizons_by_lead():
    assert [horizon_of(lead, SEASON) for lead in (1, 2, DAY, DAY + 1, 7 * DAY, 7 * DAY + 1)] == [
        "interval",
        "day",
        "day",
        "week",
        "week",
        "two_weeks",
    ]


def test_short_histories_fall_back_to_averages():
    # Given: three days of history only
    history = synthetic_history(days=3, per_day=DAY, seed=5)
    # When
    scored = backtest(history)
    ahead = forecast_ahead(history, chosen=scored.chosen, steps=DAY + 2)
    # Then: nothing scored, the mean of each interval of the day over the three days
    assert scored.scores == [] and set(scored.chosen.values()) == {"historical_average"}
    expected = history.contacts.reshape(3, DAY).mean(axis=0)
    assert ahead.volumes[:DAY].tolist() == pytest.approx(expected.tolist())
    assert ahead.volumes[DAY:].tolist() == pytest.approx(expected[:2].tolist())
