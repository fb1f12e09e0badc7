"""Generating and publishing a team's week (engagement/wfm/scheduling/services.py) and its coverage."""

from __future__ import annotations

import datetime as dt

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from cea.common.errors import Conflict, PermissionDenied, ValidationFailed
from engagement.routing.live import agent_group
from engagement.wfm.scheduling.coverage import schedule_coverage_refresh, scheduled_agents
from engagement.wfm.scheduling.models import (
    ActivityKind,
    RequestStatus,
    Schedule,
    ScheduleCoverage,
    ScheduleStatus,
    Shift,
    ShiftActivity,
    TimeOff,
)
from engagement.wfm.scheduling.services import schedule_generate, schedule_publish
from tests.engagement.factories import SkillFactory
from tests.engagement.wfm.schedule_support import (
    WEEK,
    day_template,
    local,
    planning_queue,
    requirement,
    rostered,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _london(settings):
    settings.TIME_ZONE = "Europe/London"


@pytest.fixture
def support(team_a):
    """Team A's support line, needing one agent 09:00–17:00 Monday to Friday, and the day template."""
    queue = planning_queue(team_a)
    requirement(queue, 1.0)
    day_template()
    return queue


def test_generate_writes_a_draft_with_shifts_activities_and_coverage(support, team_a, supervisor):
    # Given two agents of team A, one allowed two days, one three; and an agent of another team
    ada = rostered(team_a, "ada", max_days_week=2)
    bob = rostered(team_a, "bob", max_days_week=3)

    # When team A's week is generated
    schedule = schedule_generate(user=supervisor, team=team_a, week_start=WEEK, time_limit_seconds=10)

    # Then a draft with five 09:00–17:00 shifts, two for Ada and three for Bob, each work–lunch–work
    assert (schedule.status, schedule.solver_status, schedule.team_id) == (ScheduleStatus.DRAFT, "optimal", team_a.pk)
    shifts = Shift.objects.filter(schedule=schedule)
    assert sorted(shifts.values_list("agent_id", flat=True)) == sorted([ada.pk] * 2 + [bob.pk] * 3)
    assert {(shift.starts_at.hour, shift.ends_at.hour) for shift in shifts} == {(9, 17)}  # GMT: local = UTC
    for shift in shifts:
        assert [activity.kind for activity in shift.activities.all()] == ["work", "lunch", "work"]
        assert {activity.planning_queue_id for activity in shift.activities.filter(kind="work")} == {support.pk}
    # and its coverage: the requirement is met but for the lunches (30 minutes a day, five days)
    assert schedule.under_minutes == 5 * 30
    assert schedule.over_minutes == 0
    assert ScheduleCoverage.objects.filter(schedule=schedule).count() == 5 * 32
    assert schedule.notes == ["2.5 agent-hours of requirement are not covered (93.75 % covered)."]


def test_generate_respects_approved_time_off_only(support, team_a, supervisor):
    # Given one agent, Monday off (approved) and Tuesday asked for (not yet approved)
    ada = rostered(team_a, "ada")
    TimeOff.objects.create(agent=ada, starts_at=local(0, 0), ends_at=local(1, 0), status=RequestStatus.APPROVED)
    TimeOff.objects.create(agent=ada, starts_at=local(1, 0), ends_at=local(2, 0), status=RequestStatus.REQUESTED)

    # When generated
    schedule = schedule_generate(user=supervisor, team=team_a, week_start=WEEK, time_limit_seconds=10)

    # Then she works Tuesday to Friday, not Monday
    days = sorted(shift.starts_at.weekday() for shift in Shift.objects.filter(schedule=schedule))
    assert days == [1, 2, 3, 4]


def test_skills_decide_who_works_a_queue(team_a, supervisor):
    # Given a queue needing the skill "french" and two agents, only one with it
    from engagement.routing.models import AgentSkill

    french = SkillFactory(name="french")
    queue = planning_queue(team_a, "french-line", skill=french)
    requirement(queue, 1.0, days=[0])
    day_template()
    ada, bob = rostered(team_a, "ada"), rostered(team_a, "bob")
    AgentSkill.objects.create(agent=ada, skill=french, proficiency=3)

    # When generated
    schedule = schedule_generate(user=supervisor, team=team_a, week_start=WEEK, time_limit_seconds=10)

    # Then Ada works Monday and Bob nothing, with a note saying why
    assert list(Shift.objects.filter(schedule=schedule).values_list("agent_id", flat=True)) == [ada.pk]
    assert f"{bob.user.get_full_name() or 'bob'} may work none of the team's planning queues: not scheduled." in (
        schedule.notes
    )


def test_a_team_without_agents_gets_an_empty_schedule_with_everything_unmet(support, team_a, supervisor):
    schedule = schedule_generate(user=supervisor, team=team_a, week_start=WEEK, time_limit_seconds=5)

    assert schedule.solver_status == "empty"
    assert Shift.objects.filter(schedule=schedule).count() == 0
    assert schedule.under_minutes == 5 * 8 * 60
    assert "support (Voice): 40.0 agent-hours of demand no shift can cover." in schedule.notes


@pytest.mark.parametrize(
    ("week_start", "limit", "field"),
    [
        (WEEK + dt.timedelta(days=1), 10, "week_start"),
        (WEEK, 0, "time_limit_seconds"),
        (WEEK, 301, "time_limit_seconds"),
    ],
)
def test_generate_refuses_bad_input_and_writes_nothing(support, team_a, supervisor, week_start, limit, field):
    with pytest.raises(ValidationFailed) as refused:
        schedule_generate(user=supervisor, team=team_a, week_start=week_start, time_limit_seconds=limit)
    assert list(refused.value.fields) == [field]
    assert Schedule.objects.count() == 0


def test_generate_is_for_planners_of_the_team(support, team_a, supervisor_b, agent, integration_user):
    for user in (supervisor_b, agent, integration_user):
        with pytest.raises(PermissionDenied):
            schedule_generate(user=user, team=team_a, week_start=WEEK, time_limit_seconds=5)
    assert Schedule.objects.count() == 0


def test_publish_supersedes_the_weeks_published_schedule(support, team_a, team_b, supervisor, admin_user):
    # Given a published schedule of team A's week, a new draft of it, and team B's published one
    rostered(team_a, "ada")
    first = schedule_publish(
        user=supervisor, schedule=schedule_generate(user=supervisor, team=team_a, week_start=WEEK, time_limit_seconds=5)
    )
    second = schedule_generate(user=supervisor, team=team_a, week_start=WEEK, time_limit_seconds=5)
    other = Schedule.objects.create(team=team_b, week_start=WEEK, status=ScheduleStatus.PUBLISHED)

    # When the draft is published
    with_callbacks = schedule_publish(user=supervisor, schedule=second)

    # Then it is the published one, the first superseded, team B's untouched
    first.refresh_from_db()
    other.refresh_from_db()
    assert (with_callbacks.status, with_callbacks.published_by_id) == (ScheduleStatus.PUBLISHED, supervisor.pk)
    assert first.status == ScheduleStatus.SUPERSEDED
    assert other.status == ScheduleStatus.PUBLISHED
    assert Schedule.objects.filter(team=team_a, week_start=WEEK, status=ScheduleStatus.PUBLISHED).count() == 1


def test_publishing_tells_the_desks_of_the_agents_in_both_schedules(
    support, team_a, supervisor, django_capture_on_commit_callbacks
):
    # Given Ada on the published schedule of the week, and Bea on its new draft only
    ada, bea = rostered(team_a, "ada"), rostered(team_a, "bea")
    published = Schedule.objects.create(team=team_a, week_start=WEEK, status=ScheduleStatus.PUBLISHED)
    draft = Schedule.objects.create(team=team_a, week_start=WEEK, status=ScheduleStatus.DRAFT)
    monday = dt.datetime.combine(WEEK, dt.time(9), tzinfo=dt.UTC)
    Shift.objects.create(schedule=published, agent=ada, starts_at=monday, ends_at=monday + dt.timedelta(hours=8))
    Shift.objects.create(schedule=draft, agent=bea, starts_at=monday, ends_at=monday + dt.timedelta(hours=8))
    layer = get_channel_layer()
    desks = {profile.user_id: async_to_sync(layer.new_channel)() for profile in (ada, bea)}
    for user_id, desk in desks.items():
        async_to_sync(layer.group_add)(agent_group(user_id), desk)

    # When the draft is published
    with django_capture_on_commit_callbacks(execute=True):
        schedule_publish(user=supervisor, schedule=draft)

    # Then both desks are told their schedule changed (Ada's shift is gone, Bea's is new)
    for desk in desks.values():
        assert async_to_sync(layer.receive)(desk) == {"type": "schedule.changed", "what": "schedule"}


def test_only_a_draft_is_published(support, team_a, supervisor):
    schedule = schedule_generate(user=supervisor, team=team_a, week_start=WEEK, time_limit_seconds=5)
    schedule_publish(user=supervisor, schedule=schedule)

    with pytest.raises(Conflict):
        schedule_publish(user=supervisor, schedule=schedule)


def test_publish_is_for_planners_of_the_team(support, team_a, supervisor, supervisor_b, integration_user):
    schedule = schedule_generate(user=supervisor, team=team_a, week_start=WEEK, time_limit_seconds=5)
    for user in (supervisor_b, integration_user):
        with pytest.raises(PermissionDenied):
            schedule_publish(user=user, schedule=schedule)
    schedule.refresh_from_db()
    assert schedule.status == ScheduleStatus.DRAFT


# --- Coverage ---------------------------------------------------------------------------------------


def test_coverage_counts_the_share_of_each_interval_on_contacts():
    # Given work on queue 1 from 09:10 to 09:40 and on queue 2 (30-minute intervals) from 09:00 to 09:15
    nine = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    minute = dt.timedelta(minutes=1)
    activities = [(1, nine + 10 * minute, nine + 40 * minute), (2, nine, nine + 15 * minute)]

    # When counted
    counted = scheduled_agents(activities, minutes={1: 15, 2: 30})

    # Then a third of 09:00, all of 09:15, two thirds of 09:30; half of queue 2's 09:00
    assert {key: round(value, 4) for key, value in counted.items()} == {
        (1, nine): 0.3333,
        (1, nine + 15 * minute): 1.0,
        (1, nine + 30 * minute): 0.6667,
        (2, nine): 0.5,
    }


def test_coverage_refresh_follows_an_edit(support, team_a, supervisor):
    # Given a generated schedule covering one day but for lunch
    rostered(team_a, "ada", max_days_week=1)
    schedule = schedule_generate(user=supervisor, team=team_a, week_start=WEEK, time_limit_seconds=5)
    assert schedule.under_minutes == 30 + 4 * 8 * 60
    shift = Shift.objects.get(schedule=schedule)

    # When lunch becomes work (an edit) and coverage is refreshed
    ShiftActivity.objects.filter(shift__schedule=schedule, kind=ActivityKind.LUNCH).update(
        kind=ActivityKind.WORK, planning_queue=support
    )
    schedule_coverage_refresh(schedule=schedule)

    # Then that day is fully covered
    schedule.refresh_from_db()
    assert schedule.under_minutes == 4 * 8 * 60
    that_day = ScheduleCoverage.objects.filter(
        schedule=schedule, interval_start__gte=shift.starts_at, interval_start__lt=shift.ends_at
    )
    assert [(row.required, row.scheduled) for row in that_day] == [(1.0, 1.0)] * 32
