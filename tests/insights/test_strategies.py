"""Engagement strategies: triggers, audience, caps, quiet hours, consent, end date, holdout, idempotence."""

from __future__ import annotations

import datetime as dt

import pytest

from insights.strategies.models import FiringOutcome, StrategyFiring, StrategyWatermark
from insights.strategies.rules import in_holdout
from insights.strategies.services import (
    strategies_evaluate_time_triggers,
    strategy_update,
)
from tests.insights.strategy_support import NOON, consent, customer, evaluate, evaluate_new, event, strategy

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("wallboard_env", "eager_tasks")]


def outcomes(s) -> list[tuple[int, str, str]]:
    return [
        (f.customer_id, f.outcome, f.reason.split(";")[0])
        for f in StrategyFiring.objects.filter(strategy=s).order_by("id")
    ]


# --- Triggers ----------------------------------------------------------------------------------


def test_an_event_strategy_fires_on_a_matching_event_kind_and_a_wildcard(team_a, settings):
    settings.CEA_ARBITRATION_PROACTIVE_TOP = 2  # arbitration keeps both (it keeps 1 by default)
    # Given one strategy on an exact kind and one on a pattern
    exact = strategy("exact", event_pattern="interaction.recorded")
    wild = strategy("wild", event_pattern="interaction.*")
    other = strategy("other", event_pattern="case.created")
    alice = customer(team_a)
    # When an interaction is recorded
    firings = evaluate(event(alice), now=NOON)
    # Then the two matching strategies fire, the third does not
    assert sorted(f.strategy.key for f in firings) == ["exact", "wild"]
    assert {f.outcome for f in firings} == {FiringOutcome.FIRED}
    assert outcomes(other) == []
    assert outcomes(exact)[0][0] == alice.pk and outcomes(wild)[0][1] == "fired"


def test_the_same_event_twice_records_one_firing(team_a):
    s = strategy(cap_firings=10)
    alice = customer(team_a)
    happened = event(alice)
    # When the event is evaluated twice (the beat task and a direct call)
    first = evaluate(happened, now=NOON)
    second = evaluate(happened, now=NOON)
    # Then
    assert len(first) == 1 and second == []
    assert StrategyFiring.objects.filter(strategy=s).count() == 1


def test_the_incremental_run_reads_events_after_its_watermark_once(team_a):
    strategy(cap_firings=10)
    alice = customer(team_a)
    # Given a first run, which starts at the newest event (history is not acted on)
    event(alice)
    assert evaluate_new(now=NOON).events_read == 0
    # When two events arrive and the run goes twice
    event(alice)
    event(alice)
    run = evaluate_new(now=NOON)
    again = evaluate_new(now=NOON)
    last = evaluate_new(now=NOON)
    # Then both events fired, once each; the next run reads only the event the boost itself wrote
    # (the customer's context changed), which matches nothing; then nothing is left to read
    assert (run.events_read, run.firings) == (2, 2)
    assert (again.events_read, again.firings) == (1, 0)
    assert (last.events_read, last.firings) == (0, 0)
    assert StrategyWatermark.objects.get().last_id == last.last_id > run.last_id


def test_stage_entered_reaches_customers_who_entered_since_the_strategy(team_a):
    s = strategy("onboarded", trigger_kind="stage_entered", event_pattern="", stage="onboarding")
    StrategyFiring.objects.none()
    entered = customer(team_a, journey_stage="onboarding", journey_stage_since=s.created_at + dt.timedelta(minutes=1))
    before = customer(team_a, journey_stage="onboarding", journey_stage_since=s.created_at - dt.timedelta(days=3))
    elsewhere = customer(team_a, journey_stage="loyalty", journey_stage_since=s.created_at + dt.timedelta(minutes=1))
    # When the time triggers run twice
    now = s.created_at + dt.timedelta(minutes=5)
    assert strategies_evaluate_time_triggers(now=now) == 1
    assert strategies_evaluate_time_triggers(now=now) == 0
    # Then only the customer who entered since fired, once
    assert [c for c, _, _ in outcomes(s)] == [entered.pk]
    assert before.pk != entered.pk != elsewhere.pk


def test_stage_stayed_fires_once_per_stay_after_the_days(team_a):
    s = strategy("stuck", trigger_kind="stage_stayed", event_pattern="", stage="onboarding", stay_days=14)
    stuck = customer(team_a, journey_stage="onboarding", journey_stage_since=NOON - dt.timedelta(days=15))
    customer(team_a, journey_stage="onboarding", journey_stage_since=NOON - dt.timedelta(days=3))
    # When
    first = strategies_evaluate_time_triggers(now=NOON)
    later = strategies_evaluate_time_triggers(now=NOON + dt.timedelta(days=8))  # past the cap, same stay
    # Then
    assert (first, later) == (1, 0)
    assert [c for c, _, _ in outcomes(s)] == [stuck.pk]


def test_score_crossed_fires_when_a_customer_crosses_and_again_only_after_coming_back(team_a):
    s = strategy(
        "churn-watch", trigger_kind="score_crossed", event_pattern="", score_key="churn_risk",
        score_threshold=0.7, score_direction="above", cap_firings=5,
    )  # fmt: skip
    risky = customer(team_a, scores={"churn_risk": 0.9})
    customer(team_a, scores={"churn_risk": 0.2})
    customer(team_a, scores={"churn_risk": "high"})  # not a number: never beyond
    # When: crossing, staying beyond, coming back, crossing again
    assert strategies_evaluate_time_triggers(now=NOON) == 1
    assert strategies_evaluate_time_triggers(now=NOON + dt.timedelta(minutes=1)) == 0
    type(risky).objects.filter(pk=risky.pk).update(scores={"churn_risk": 0.1})
    assert strategies_evaluate_time_triggers(now=NOON + dt.timedelta(minutes=2)) == 0
    type(risky).objects.filter(pk=risky.pk).update(scores={"churn_risk": 0.8})
    assert strategies_evaluate_time_triggers(now=NOON + dt.timedelta(minutes=3)) == 1
    # Then
    assert [c for c, _, _ in outcomes(s)] == [risky.pk, risky.pk]


def test_a_schedule_runs_once_a_day_at_its_local_time(team_a):
    s = strategy(
        "daily", trigger_kind="schedule", event_pattern="", schedule_time=dt.time(9, 0),
        time_zone="Europe/Paris", audience_segments=["retail"], cap_firings=5,
    )  # fmt: skip
    retail = customer(team_a, segment="retail")
    customer(team_a, segment="business")
    # 07:59 UTC is 08:59 in Paris: not yet; 08:00 UTC is 09:00: runs; again that day: not again
    assert strategies_evaluate_time_triggers(now=dt.datetime(2026, 3, 2, 7, 59, tzinfo=dt.UTC)) == 0
    assert strategies_evaluate_time_triggers(now=dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)) == 1
    assert strategies_evaluate_time_triggers(now=dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)) == 0
    assert strategies_evaluate_time_triggers(now=dt.datetime(2026, 3, 3, 8, 0, tzinfo=dt.UTC)) == 1
    assert [c for c, _, _ in outcomes(s)] == [retail.pk, retail.pk]


# --- Audience, end date, caps, quiet hours, consent ----------------------------------------------


def test_every_audience_filter_must_hold(team_a):
    strategy(
        audience_personas=["digital-native"], audience_stages=["service"],
        audience_segments=["retail"], audience_value_tiers=["gold"],
    )  # fmt: skip
    match = dict(persona="digital-native", journey_stage="service", segment="retail", value_tier="gold")
    fits = customer(team_a, **match)
    misses = [
        customer(team_a, **{**match, field: value})
        for field, value in (
            ("persona", "branch-loyal"), ("journey_stage", "lapsed"), ("segment", "sme"), ("value_tier", "silver"),
        )
    ]  # fmt: skip
    # When each customer has an event
    fired = [len(evaluate(event(c), now=NOON)) for c in [fits, *misses]]
    # Then only the one in every list is reached; the others are not even recorded
    assert fired == [1, 0, 0, 0, 0]


def test_nothing_fires_after_the_end_date_or_before_the_start_or_when_inactive(team_a):
    s = strategy(ends_at=NOON)
    alice = customer(team_a)
    assert evaluate(event(alice), now=NOON) == []
    assert len(evaluate(event(alice), now=NOON - dt.timedelta(seconds=1))) == 1
    strategy_update(actor=None, strategy=s, fields={"ends_at": None, "starts_at": NOON + dt.timedelta(days=1)})
    assert evaluate(event(alice), now=NOON) == []
    strategy_update(actor=None, strategy=s, fields={"starts_at": None, "active": False})
    assert evaluate(event(alice), now=NOON + dt.timedelta(days=30)) == []


def test_the_strategy_cap_suppresses_beyond_n_firings_in_d_days(team_a):
    s = strategy(cap_firings=2, cap_days=7)
    alice = customer(team_a)
    for day in (0, 1, 2, 8):
        evaluate(event(alice), now=NOON + dt.timedelta(days=day))
    # Then: two fired, the third capped, the fourth (a week after the first) fires again
    assert [(o, r if o == "suppressed" else "") for _, o, r in outcomes(s)] == [
        ("fired", ""), ("fired", ""), ("suppressed", "capped"), ("fired", ""),
    ]  # fmt: skip


def test_the_global_cap_counts_every_strategy(team_a, settings):
    settings.CEA_STRATEGIES_CUSTOMER_CAP = 2
    settings.CEA_ARBITRATION_PROACTIVE_TOP = 3  # arbitration keeps all three; the cap stops the third
    strategy("a-first")
    strategy("b-second", action_kind="case", action_params={"subject": "Welcome call"})
    third = strategy("c-third")
    alice = customer(team_a)
    firings = evaluate(event(alice), now=NOON)
    # Then, at equal priority, the strategies are ranked by key: the first two fire, the third meets the cap
    assert [(f.strategy.key, f.outcome) for f in firings] == [
        ("a-first", "fired"), ("b-second", "fired"), ("c-third", "suppressed"),
    ]  # fmt: skip
    assert outcomes(third) == [(alice.pk, "suppressed", "global_cap")]


@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        ((21, 59), "fired"),  # 22:59 in Paris: before the quiet hours
        ((22, 0), "suppressed"),  # 23:00 in Paris
        ((5, 59), "suppressed"),  # 06:59 in Paris, the span wraps midnight
        ((6, 0), "fired"),  # 07:00 in Paris: quiet hours over
    ],
)
def test_quiet_hours_in_local_time_suppress_a_firing(team_a, utc, expected):
    s = strategy(quiet_start=dt.time(23, 0), quiet_end=dt.time(7, 0), time_zone="Europe/Paris")
    alice = customer(team_a)
    at = dt.datetime(2026, 3, 2, *utc, tzinfo=dt.UTC)
    evaluate(event(alice), now=at)
    assert [o for _, o, _ in outcomes(s)] == [expected]
    if expected == "suppressed":
        assert outcomes(s)[0][2] == "quiet_hours"


def test_a_message_needs_a_channel_consented_for_its_purpose_preferring_the_preferred_one(team_a):
    s = strategy(
        action_kind="message", action_params={"text": "Your card is on its way"}, consent_purpose="marketing",
        cap_firings=5,
    )  # fmt: skip
    refused = customer(team_a, preferred_channel="sms")
    consent(refused, "sms", purpose="service")  # consented, but not for marketing
    consent(refused, "email", granted=False)
    prefers_sms = customer(team_a, preferred_channel="sms")
    consent(prefers_sms, "email")
    consent(prefers_sms, "sms")
    email_only = customer(team_a, preferred_channel="voice")
    consent(email_only, "email")
    for c in (refused, prefers_sms, email_only):
        evaluate(event(c), now=NOON)
    rows = {f.customer_id: f for f in StrategyFiring.objects.filter(strategy=s)}
    # Then the refusal is recorded; the others chose their channel, and engagement had no address to write to
    assert (rows[refused.pk].outcome, rows[refused.pk].reason) == ("suppressed", "no_consent")
    assert (rows[prefers_sms.pk].channel, rows[email_only.pk].channel) == ("sms", "email")
    assert (rows[email_only.pk].outcome, rows[email_only.pk].reason) == (
        "failed",
        "The customer has no email address to write to.",
    )


# --- Holdout ------------------------------------------------------------------------------------


def test_the_holdout_split_is_stable_and_near_its_percentage():
    held = [in_holdout(strategy_key="welcome", customer_id=i, percent=10) for i in range(1, 20_001)]
    again = [in_holdout(strategy_key="welcome", customer_id=i, percent=10) for i in range(1, 20_001)]
    other = [in_holdout(strategy_key="winback", customer_id=i, percent=10) for i in range(1, 20_001)]
    assert held == again
    assert 0.09 < sum(held) / len(held) < 0.11  # 10% ± 1 point (3 standard errors is 0.6)
    assert held != other  # each strategy splits on its own
    assert not any(in_holdout(strategy_key="welcome", customer_id=i, percent=0) for i in range(1, 1001))


def test_holdout_customers_are_recorded_eligible_and_never_acted_on(team_a):
    s = strategy(holdout_percent=50, cap_firings=10)
    people = [customer(team_a) for _ in range(12)]
    for c in people:
        evaluate(event(c), now=NOON)
    rows = list(StrategyFiring.objects.filter(strategy=s))
    expected_held = {c.pk for c in people if in_holdout(strategy_key=s.key, customer_id=c.pk, percent=50)}
    assert {r.customer_id for r in rows if r.outcome == "held_out"} == expected_held
    assert all(r.group == "holdout" for r in rows if r.customer_id in expected_held)
    assert all(r.reason == "" for r in rows if r.outcome == "held_out")  # no action ran
    assert 0 < len(expected_held) < 12


def test_the_beat_runs_the_three_strategy_tasks(settings, team_a):
    from insights.strategies.tasks import compute_effects, evaluate_events, evaluate_time_triggers

    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"insights.strategies.evaluate_events", "insights.strategies.evaluate_time_triggers"} <= scheduled
    assert "insights.strategies.compute_effects" in scheduled
    s = strategy(cap_firings=10)
    alice = customer(team_a)
    assert evaluate_events.delay().get() == 0  # the first run sets the watermark
    event(alice)
    assert evaluate_events.delay().get() == 1
    assert evaluate_time_triggers.delay().get() == 0
    assert compute_effects.delay().get() == 1
    assert s.effects.get(team=None).treated == 1
