"""A planner's shift edits (issue 15, part D): activities tile the shift, no overlaps, no shift in approved
time off, inside the week; contract breaches are warnings; coverage follows; other teams refused."""

from __future__ import annotations

import datetime as dt

import pytest

from cea.common.errors import PermissionDenied, ValidationFailed
from engagement.wfm.scheduling.editing import ActivityPlan, shift_create, shift_delete, shift_update
from engagement.wfm.scheduling.models import (
    ActivityKind,
    AgentContract,
    ScheduleCoverage,
    ScheduleStatus,
    Shift,
    TimeOff,
)
from tests.engagement.wfm.roster_support import (
    at,
    planning_queue,
    profile,
    require,
    schedule,
    shift,
    tiling,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(team_a, week):
    """Team A's billing queue needing one agent Monday 09–13, and its published schedule (empty)."""
    billing = planning_queue(team_a)
    require(billing, at(week, 9), at(week, 13), 1.0)
    return schedule(team_a, week), billing


def _work_break_work(day, billing) -> list[ActivityPlan]:
    return [
        ActivityPlan(ActivityKind.WORK, at(day, 9), at(day, 11), billing.pk),
        ActivityPlan(ActivityKind.BREAK, at(day, 11), at(day, 11, 15)),
        ActivityPlan(ActivityKind.WORK, at(day, 11, 15), at(day, 13), billing.pk),
    ]


def _covered(published) -> dict[str, float]:
    return {
        f"{row.interval_start:%H:%M}": row.scheduled
        for row in ScheduleCoverage.objects.filter(schedule=published).order_by("interval_start")
    }


def test_a_supervisor_adds_a_shift_and_coverage_follows(plan, agent, supervisor, week):
    published, billing = plan
    # When the supervisor adds Monday 09–13 with a break at 11:00
    edit = shift_create(
        planner=supervisor,
        schedule=published,
        agent=profile(agent),
        starts_at=at(week, 9),
        ends_at=at(week, 13),
        activities=_work_break_work(week, billing),
    )
    # Then it is saved as tiled, marked as edited, and the 11:00 interval is half covered
    assert tiling(edit.shift) == [("work", "09:00", "11:00"), ("break", "11:00", "11:15"), ("work", "11:15", "13:00")]
    assert (edit.shift.edited_by_id, edit.warnings) == (supervisor.pk, [])
    assert _covered(published) == {
        "09:00": 1.0,
        "09:30": 1.0,
        "10:00": 1.0,
        "10:30": 1.0,
        "11:00": 0.5,
        "11:30": 1.0,
        "12:00": 1.0,
        "12:30": 1.0,
    }
    published.refresh_from_db()
    assert published.under_minutes == 15.0


def test_a_contract_breach_is_a_warning_not_a_refusal(plan, agent, supervisor, week):
    published, _ = plan
    AgentContract.objects.create(agent=profile(agent), earliest_start=dt.time(10), weekdays=[1, 2, 3])
    edit = shift_create(
        planner=supervisor, schedule=published, agent=profile(agent), starts_at=at(week, 9), ends_at=at(week, 13)
    )
    day = f"{at(week, 9):%a %d %b}"
    assert edit.warnings == [
        f"{day}: starts at 09:00, before the contract's 10:00.",
        f"{day}: not one of the contract's working days.",
    ]
    assert Shift.objects.filter(pk=edit.shift.pk).exists()


def test_a_contract_ending_at_midnight_allows_a_late_shift(plan, agent, supervisor, week):
    # Given a contract whose working day ends at 00:00, the end of the day (as the solver reads it)
    published, _ = plan
    AgentContract.objects.create(agent=profile(agent), latest_end=dt.time(0))
    # When a supervisor places a 16:00-23:00 shift
    edit = shift_create(
        planner=supervisor, schedule=published, agent=profile(agent), starts_at=at(week, 16), ends_at=at(week, 23)
    )
    # Then nothing is said about its end
    assert [warning for warning in edit.warnings if "after the contract" in warning] == []


@pytest.mark.parametrize(
    ("case", "field"),
    [("outside the week", "starts_at"), ("overlap", "starts_at"), ("gap", "activities"), ("time off", "starts_at")],
)
def test_a_shift_that_does_not_fit_is_refused_and_nothing_written(plan, agent, supervisor, week, case, field):
    published, billing = plan
    start, end = at(week, 9), at(week, 13)
    activities = None
    if case == "outside the week":
        start, end = start + dt.timedelta(days=7), end + dt.timedelta(days=7)
    elif case == "overlap":
        shift(published, profile(agent), week, 12, 4, queue=billing)
    elif case == "gap":
        activities = [
            ActivityPlan(ActivityKind.WORK, at(week, 9), at(week, 10)),
            ActivityPlan("work", at(week, 11), end),
        ]
    else:
        TimeOff.objects.create(agent=profile(agent), starts_at=at(week, 0), ends_at=at(week, 23), status="approved")
    shifts_before = Shift.objects.count()
    with pytest.raises(ValidationFailed) as refused:
        shift_create(
            planner=supervisor,
            schedule=published,
            agent=profile(agent),
            starts_at=start,
            ends_at=end,
            activities=activities,
        )
    assert field in refused.value.fields
    assert Shift.objects.count() == shifts_before


def test_a_queue_of_another_team_is_refused(plan, agent, supervisor, week, team_b):
    published, _ = plan
    theirs = planning_queue(team_b, "claims")
    with pytest.raises(ValidationFailed) as refused:
        shift_create(
            planner=supervisor,
            schedule=published,
            agent=profile(agent),
            starts_at=at(week, 9),
            ends_at=at(week, 13),
            activities=[ActivityPlan(ActivityKind.WORK, at(week, 9), at(week, 13), theirs.pk)],
        )
    assert refused.value.fields == {"activities": [f"Planning queue {theirs.pk} is not one of this team's."]}


def test_moving_a_shift_keeps_its_break_and_fills_with_contacts_then_delete_empties_coverage(
    plan, agent, supervisor, week
):
    published, billing = plan
    made = shift_create(
        planner=supervisor,
        schedule=published,
        agent=profile(agent),
        starts_at=at(week, 9),
        ends_at=at(week, 13),
        activities=_work_break_work(week, billing),
    ).shift
    # When it is made 10:00–14:00
    moved = shift_update(planner=supervisor, shift=made, starts_at=at(week, 10), ends_at=at(week, 14)).shift
    # Then the break stays and the new hour is contacts on billing
    assert tiling(moved) == [
        ("work", "10:00", "11:00"),
        ("break", "11:00", "11:15"),
        ("work", "11:15", "13:00"),
        ("work", "13:00", "14:00"),
    ]
    assert set(moved.activities.filter(kind="work").values_list("planning_queue_id", flat=True)) == {billing.pk}
    assert _covered(published)["09:00"] == 0.0
    # When it is deleted
    shift_delete(planner=supervisor, shift=moved)
    published.refresh_from_db()
    assert (Shift.objects.count(), published.under_minutes, published.over_minutes) == (0, 240.0, 0.0)


def test_another_teams_supervisor_and_agents_cannot_edit(plan, agent, supervisor_b, week):
    published, _ = plan
    for user in (supervisor_b, agent):
        with pytest.raises(PermissionDenied):
            shift_create(
                planner=user, schedule=published, agent=profile(agent), starts_at=at(week, 9), ends_at=at(week, 13)
            )
    assert Shift.objects.count() == 0


def test_a_superseded_schedule_and_an_agent_of_another_team_are_refused(plan, agent, agent_b, admin_user, week):
    published, _ = plan
    with pytest.raises(ValidationFailed) as other_team:
        shift_create(
            planner=admin_user, schedule=published, agent=profile(agent_b), starts_at=at(week, 9), ends_at=at(week, 13)
        )
    published.status = ScheduleStatus.SUPERSEDED
    published.save()
    with pytest.raises(ValidationFailed) as superseded:
        shift_create(
            planner=admin_user, schedule=published, agent=profile(agent), starts_at=at(week, 9), ends_at=at(week, 13)
        )
    assert other_team.value.fields == {"agent": ["Not in the team."]}
    assert superseded.value.code == "superseded"
