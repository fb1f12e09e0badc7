"""A strategy's effect against its holdout: counts, the interval (as statsmodels computes it), the wording."""

from __future__ import annotations

import datetime as dt

import pytest
from statsmodels.stats.proportion import confint_proportions_2indep

from insights.journeys.models import StageVisit
from insights.strategies.effects import difference_interval, strategy_effects_compute
from insights.strategies.figures import effect_claimed, effect_wording
from insights.strategies.models import StrategyEffect, StrategyFiring
from records.cases.models import Case
from tests.insights.strategy_support import NOON, customer, strategy
from tests.records.factories import CaseFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("wallboard_env")]


def firing(s, person, outcome: str, at: dt.datetime = NOON) -> StrategyFiring:
    return StrategyFiring.objects.create(
        strategy=s, customer=person, occasion=f"test:{person.pk}:{at.timestamp()}:{outcome}", at=at,
        group="holdout" if outcome == "held_out" else "treatment", outcome=outcome,
    )  # fmt: skip


def resolved(person, at: dt.datetime) -> Case:
    return CaseFactory(customer=person, resolved_at=at, status="resolved")


def test_the_interval_is_statsmodels_newcombe_interval_of_the_difference():
    interval = difference_interval(treated_successes=60, treated=100, holdout_successes=40, holdout=100)
    low, high = confint_proportions_2indep(60, 100, 40, 100, method="newcomb", compare="diff")
    assert interval is not None
    assert interval.difference == pytest.approx(0.2)
    assert (interval.low, interval.high) == (pytest.approx(low), pytest.approx(high))
    assert interval.low > 0


def test_effects_count_each_customer_once_by_team_and_in_all(team_a, team_b):
    # Given case_resolved within 7 days: team A treated 3 (2 resolved in time, 1 too late), held out 2 (none);
    # team B treated 1 (resolved), held out 1 (resolved before the firing: not counted)
    s = strategy(metric_kind="case_resolved", metric_days=7)
    a = [customer(team_a) for _ in range(5)]
    b = [customer(team_b) for _ in range(2)]
    for person in a[:3] + b[:1]:
        firing(s, person, "fired")
    firing(s, a[0], "fired", at=NOON + dt.timedelta(days=1))  # a second firing: still one customer
    for person in a[3:] + b[1:]:
        firing(s, person, "held_out")
    firing(s, a[4], "suppressed")  # never counted
    resolved(a[0], NOON + dt.timedelta(days=2))
    resolved(a[1], NOON + dt.timedelta(days=6))
    resolved(a[2], NOON + dt.timedelta(days=9))
    resolved(b[0], NOON + dt.timedelta(hours=1))
    resolved(b[1], NOON - dt.timedelta(days=1))
    # When
    strategy_effects_compute(strategy=s, now=NOON + dt.timedelta(days=30))
    # Then
    rows = {e.team_id: e for e in StrategyEffect.objects.filter(strategy=s)}
    counts = {team: (e.treated, e.treated_successes, e.holdout, e.holdout_successes) for team, e in rows.items()}
    assert counts == {team_a.pk: (3, 2, 2, 0), team_b.pk: (1, 1, 1, 0), None: (4, 3, 3, 0)}
    low, high = confint_proportions_2indep(3, 4, 0, 3, method="newcomb", compare="diff")
    assert (rows[None].ci_low, rows[None].ci_high) == (pytest.approx(low), pytest.approx(high))
    assert rows[None].difference == pytest.approx(0.75)
    # and too few customers: no effect claimed, whatever the interval
    assert not effect_claimed(rows[None])
    assert effect_wording(rows[None]).startswith("No effect claimed: fewer than 30 customers")


def test_an_interval_spanning_zero_claims_no_effect_and_one_off_zero_does(settings):
    settings.CEA_STRATEGIES_MIN_GROUP = 30
    s = strategy()
    spans = StrategyEffect(strategy=s, treated=100, treated_successes=52, holdout=100, holdout_successes=50,
                           computed_at=NOON)  # fmt: skip
    clear = StrategyEffect(strategy=s, treated=100, treated_successes=70, holdout=100, holdout_successes=40,
                           computed_at=NOON)  # fmt: skip
    for effect in (spans, clear):
        interval = difference_interval(
            treated_successes=effect.treated_successes, treated=effect.treated,
            holdout_successes=effect.holdout_successes, holdout=effect.holdout,
        )  # fmt: skip
        effect.difference, effect.ci_low, effect.ci_high = interval.difference, interval.low, interval.high
    assert spans.ci_low < 0 < spans.ci_high
    assert not effect_claimed(spans)
    assert effect_wording(spans) == "No effect claimed: the 95% confidence interval of the difference includes zero."
    assert effect_claimed(clear)
    assert effect_wording(clear) == "The metric is 30.0 points higher with the strategy than without."


def test_retention_counts_only_windows_that_have_ended_and_stage_reached_reads_the_stage(team_a):
    keep = strategy("keep", metric_kind="retention", metric_days=30)
    stayed = customer(team_a, journey_stage="loyalty", journey_stage_since=NOON - dt.timedelta(days=90))
    lapsed = customer(team_a, journey_stage="lapsed", journey_stage_since=NOON + dt.timedelta(days=10))
    recent = customer(team_a)
    firing(keep, stayed, "fired")
    firing(keep, lapsed, "held_out")
    firing(keep, recent, "fired", at=NOON + dt.timedelta(days=20))  # its 30 days have not ended
    strategy_effects_compute(strategy=keep, now=NOON + dt.timedelta(days=31))
    all_rows = StrategyEffect.objects.get(strategy=keep, team=None)
    assert (all_rows.treated, all_rows.treated_successes, all_rows.holdout, all_rows.holdout_successes) == (1, 1, 1, 0)

    onboard = strategy("onboard", metric_kind="stage_reached", metric_stage="loyalty", metric_days=30)
    reached = customer(team_a, journey_stage="loyalty", journey_stage_since=NOON + dt.timedelta(days=3))
    firing(onboard, reached, "fired")
    firing(onboard, stayed, "held_out")  # in loyalty since before the firing: not reached after it
    strategy_effects_compute(strategy=onboard, now=NOON + dt.timedelta(days=31))
    row = StrategyEffect.objects.get(strategy=onboard, team=None)
    assert (row.treated, row.treated_successes, row.holdout, row.holdout_successes) == (1, 1, 1, 0)


def test_a_stage_reached_and_left_again_still_counts(team_a):
    # Given a customer who reached loyalty 3 days after the firing and lapsed 20 days later
    onboard = strategy("onboard", metric_kind="stage_reached", metric_stage="loyalty", metric_days=30)
    moved = customer(team_a, journey_stage="lapsed", journey_stage_since=NOON + dt.timedelta(days=23))
    StageVisit.objects.create(
        customer_id=moved.pk,
        stage_key="loyalty",
        entered_at=NOON + dt.timedelta(days=3),
        left_at=NOON + dt.timedelta(days=23),
    )
    firing(onboard, moved, "fired")

    # When the effect is computed
    strategy_effects_compute(strategy=onboard, now=NOON + dt.timedelta(days=31))

    # Then the stage history says they reached it (the current stage alone would not)
    row = StrategyEffect.objects.get(strategy=onboard, team=None)
    assert (row.treated, row.treated_successes) == (1, 1)
