"""The sampling queue: random picks per agent and week, targeted low CSAT, negative sentiment and long
handle time (above the queue's p90), each saying why; idempotent; done when evaluated."""

from __future__ import annotations

import datetime as dt

import pytest
from celery.schedules import crontab

from cea.celery import app
from insights.quality.demo import quality_demo_load
from insights.quality.models import Evaluation, SampleItem, SampleReason, Scorecard
from insights.quality.sampling import queue_p90_seconds, sample_week, week_start_of
from insights.quality.services import evaluation_create
from insights.quality.tasks import sample_interactions
from records.interactions.selectors import interactions_answered_between
from tests.insights.quality_support import full, interaction, scorecard

pytestmark = pytest.mark.django_db
MONDAY = dt.date(2026, 3, 2)
NOON = dt.datetime(2026, 3, 3, 12, 0, tzinfo=dt.UTC)


def reasons() -> list[tuple[int, str]]:
    return sorted(SampleItem.objects.values_list("interaction_id", "reason"))


def test_targeted_picks_say_why(team_a, agent):
    # Given a week with an unhappy, a negative and an ordinary contact
    unhappy = interaction(team=team_a, agent=agent, ended=NOON, satisfaction=1)
    negative = interaction(team=team_a, agent=agent, ended=NOON, sentiment=-0.8)
    interaction(team=team_a, agent=agent, ended=NOON, satisfaction=4, sentiment=0.2)
    # When the week is sampled without random picks
    counts = sample_week(week_start=MONDAY, per_agent=0)
    # Then the two are queued with their reasons
    assert (counts.low_satisfaction, counts.negative_sentiment, counts.random, counts.long_handle_time) == (1, 1, 0, 0)
    assert reasons() == sorted([(unhappy.pk, "low_satisfaction"), (negative.pk, "negative_sentiment")])
    details = dict(SampleItem.objects.values_list("reason", "detail"))
    assert details == {"low_satisfaction": "CSAT 1/5", "negative_sentiment": "Sentiment -0.80"}


def test_long_handle_time_is_measured_against_the_queue_s_p90(team_a, agent):
    # Given 10 contacts of 100…1000 s in billing (p90 = 910 s) and a 950 s one in sales (threshold 900 s)
    contacts = [interaction(team=team_a, agent=agent, ended=NOON, handle=100 * n) for n in range(1, 11)]
    sales = interaction(team=team_a, agent=agent, ended=NOON, queue="sales", handle=950)
    week = interactions_answered_between(
        ended_from=NOON - dt.timedelta(days=1), ended_before=NOON + dt.timedelta(days=1)
    )
    assert queue_p90_seconds(week) == {"billing": pytest.approx(910.0)}
    # When sampled
    sample_week(week_start=MONDAY, per_agent=0)
    # Then the 1000 s billing contact (above its p90) and the sales one (above the threshold) are queued
    assert reasons() == sorted([(contacts[-1].pk, "long_handle_time"), (sales.pk, "long_handle_time")])
    details = dict(SampleItem.objects.values_list("interaction_id", "detail"))
    assert details[contacts[-1].pk] == "Handle 1000 s, above the queue's p90 of 910 s"
    assert details[sales.pk] == "Handle 950 s, above the threshold of 900 s"


def test_random_picks_n_per_agent_and_sampling_again_adds_nothing(team_a, agent, agent_b, team_b):
    for _ in range(5):
        interaction(team=team_a, agent=agent, ended=NOON)
        interaction(team=team_b, agent=agent_b, ended=NOON)
    interaction(team=team_a, agent=agent, ended=NOON + dt.timedelta(days=7))  # next week: not this one's
    first = sample_week(week_start=MONDAY, per_agent=2)
    assert first.random == 4
    assert sorted(SampleItem.objects.values_list("agent__username", flat=True)) == ["agent.a"] * 2 + ["agent.b"] * 2
    assert sample_week(week_start=MONDAY, per_agent=2).total == 0
    assert SampleItem.objects.count() == 4


def test_a_team_s_sampling_only_touches_that_team(team_a, agent, agent_b, team_b):
    interaction(team=team_a, agent=agent, ended=NOON, satisfaction=1)
    interaction(team=team_b, agent=agent_b, ended=NOON, satisfaction=1)
    sample_week(week_start=MONDAY, team_ids=frozenset({team_a.pk}), per_agent=0)
    assert list(SampleItem.objects.values_list("team_id", flat=True)) == [team_a.pk]


def test_an_item_is_done_when_its_interaction_is_evaluated_and_evaluated_ones_are_not_sampled(
    team_a, agent, supervisor
):
    contact = interaction(team=team_a, agent=agent, ended=NOON, satisfaction=2)
    sample_week(week_start=MONDAY, per_agent=0)
    card = scorecard()
    done = evaluation_create(
        actor=supervisor, interaction_id=contact.pk, scorecard_id=card.pk, answers=full(card), submit=True
    )
    assert SampleItem.objects.get().evaluation == done
    SampleItem.objects.all().delete()
    assert sample_week(week_start=MONDAY, per_agent=1).total == 0


def test_the_task_samples_a_given_week(team_a, agent):
    interaction(team=team_a, agent=agent, ended=NOON, sentiment=-0.9)
    assert sample_interactions(week_start="2026-03-04") >= 1
    assert SampleItem.objects.filter(reason=SampleReason.NEGATIVE_SENTIMENT, week_start=MONDAY).count() == 1


def test_contacts_without_an_agent_or_a_team_are_not_sampled(team_a):
    interaction(team=team_a, agent=None, ended=NOON, satisfaction=1)
    assert sample_week(week_start=MONDAY).total == 0
    assert week_start_of(dt.date(2026, 3, 8)) == MONDAY


def test_the_demo_load_makes_the_default_scorecard_a_queue_and_a_few_evaluations(team_a, agent, supervisor):
    # Given recent contacts of team A, some unhappy (the default scorecard flushed away, as by a transactional test)
    Scorecard.objects.filter(name="Service call").delete()
    for n in range(8):
        interaction(team=team_a, agent=agent, satisfaction=1 + n % 5)
    # When the demo's quality step runs twice
    said = quality_demo_load()
    again = quality_demo_load()
    # Then the default scorecard exists, evaluations were made by the team's supervisor, once
    assert Scorecard.objects.get(name="Service call").questions.count() == 6
    made = Evaluation.objects.count()
    assert made >= 4 and said.endswith(f"{made} demo evaluations")
    assert set(Evaluation.objects.values_list("evaluator_id", flat=True)) == {supervisor.pk}
    assert again.endswith("evaluations exist already") and Evaluation.objects.count() == made
    assert Evaluation.objects.filter(status="acknowledged").count() == 1
    assert Evaluation.objects.filter(status="disputed", failed=True).count() == 1


def test_beat_samples_daily_with_the_registered_task(settings):
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert str(schedule["insights.quality.sample"]) == str(crontab(minute=15, hour=1))
    assert "insights.quality.sample" in app.tasks
