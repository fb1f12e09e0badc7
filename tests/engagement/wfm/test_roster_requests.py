"""Time off and swaps (issue 15, part D): asked by agents, decided by the planners of their team, shifts
trimmed or moved, coverage rewritten, the desk told; refused across teams and by the wrong people."""

from __future__ import annotations

import datetime as dt

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from cea.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from engagement.routing.live import agent_group
from engagement.routing.models import AgentSkill
from engagement.wfm.access import access_swap, access_time_off
from engagement.wfm.scheduling.models import AgentContract, RequestStatus, ScheduleCoverage, Shift, TimeOff
from engagement.wfm.scheduling.requests import (
    swap_cancel,
    swap_decide,
    swap_request,
    swap_respond,
    time_off_cancel,
    time_off_decide,
    time_off_enter,
    time_off_request,
)
from tests.engagement.factories import SkillFactory
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
def roster(team_a, agent, colleague, week):
    """Team A's published schedule: the agent works Tuesday 09–17 (lunch 12–13) on billing, which needs
    one agent 09–17; the colleague works Wednesday 09–17."""
    billing = planning_queue(team_a)
    require(billing, at(week + dt.timedelta(days=1), 9), at(week + dt.timedelta(days=1), 17), 1.0)
    published = schedule(team_a, week)
    tuesday = shift(published, profile(agent), week + dt.timedelta(days=1), 9, 8, queue=billing, lunch_hour=12)
    wednesday = shift(published, profile(colleague), week + dt.timedelta(days=2), 9, 8, queue=billing)
    return published, billing, tuesday, wednesday


def _scheduled_on(published, moment) -> float:
    row = ScheduleCoverage.objects.filter(schedule=published, interval_start=moment).first()
    return row.scheduled if row else 0.0


# --- Time off -------------------------------------------------------------------------------------


def test_an_agent_asks_for_time_off_and_an_overlapping_request_is_refused(agent, week):
    # Given a request for Tuesday
    tuesday = week + dt.timedelta(days=1)
    first = time_off_request(user=agent, starts_at=at(tuesday, 0), ends_at=at(tuesday + dt.timedelta(days=1), 0))
    # When the agent asks again for Tuesday afternoon, and for time off ending before it starts
    with pytest.raises(ValidationFailed) as overlapping:
        time_off_request(user=agent, starts_at=at(tuesday, 13), ends_at=at(tuesday, 17))
    with pytest.raises(ValidationFailed) as backwards:
        time_off_request(user=agent, starts_at=at(tuesday, 17), ends_at=at(tuesday, 13))
    # Then the first is requested and the others refused with their fields, nothing written
    assert (first.status, first.requested_by_id) == (RequestStatus.REQUESTED, agent.pk)
    assert set(overlapping.value.fields) == {"starts_at"}
    assert "ends_at" in backwards.value.fields
    assert TimeOff.objects.count() == 1


def test_approving_time_off_trims_the_shift_and_rewrites_coverage(
    roster, agent, supervisor, week, django_capture_on_commit_callbacks
):
    # Given the agent's Tuesday shift 09–17 and their request for Tuesday 14:00 to 15:00 (a dentist)
    published, _, tuesday_shift, _ = roster
    tuesday = week + dt.timedelta(days=1)
    asked = time_off_request(user=agent, starts_at=at(tuesday, 14), ends_at=at(tuesday, 15), note="dentist")
    assert _scheduled_on(published, at(tuesday, 14)) == 1.0
    layer = get_channel_layer()
    desk = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(agent_group(agent.pk), desk)
    # When the supervisor approves it
    with django_capture_on_commit_callbacks(execute=True):
        decided = time_off_decide(planner=supervisor, time_off=asked, approve=True)
    # Then the shift is split around the hour, coverage at 14:00 drops to 0, the desk is told
    assert (decided.status, decided.decided_by_id) == (RequestStatus.APPROVED, supervisor.pk)
    pieces = list(Shift.objects.filter(agent=profile(agent)).order_by("starts_at"))
    assert [(tiling(piece)) for piece in pieces] == [
        [("work", "09:00", "12:00"), ("lunch", "12:00", "13:00"), ("work", "13:00", "14:00")],
        [("work", "15:00", "17:00")],
    ]
    assert pieces[0].pk == tuesday_shift.pk
    assert (_scheduled_on(published, at(tuesday, 14)), _scheduled_on(published, at(tuesday, 15))) == (0.0, 1.0)
    published.refresh_from_db()
    assert published.under_minutes == 120.0  # the lunch hour, as before, and the dentist's
    assert async_to_sync(layer.receive)(desk) == {"type": "schedule.changed", "what": "schedule"}


def test_a_day_off_entered_by_the_supervisor_removes_the_shift_at_once(roster, agent, supervisor, week):
    # Given the agent's Tuesday shift
    published, _, _, _ = roster
    tuesday = week + dt.timedelta(days=1)
    # When the supervisor enters sickness for all of Tuesday
    entered = time_off_enter(
        planner=supervisor,
        agent=profile(agent),
        starts_at=at(tuesday, 0),
        ends_at=at(tuesday + dt.timedelta(days=1), 0),
        kind="sick",
    )
    # Then it is approved, the shift is gone, and all eight hours are under-staffed
    assert (entered.status, entered.kind, entered.requested_by_id) == (RequestStatus.APPROVED, "sick", supervisor.pk)
    assert not Shift.objects.filter(agent=profile(agent)).exists()
    published.refresh_from_db()
    assert published.under_minutes == 480.0


def test_another_teams_supervisor_and_agents_cannot_decide_time_off(roster, agent, colleague, supervisor_b, week):
    # Given the agent's request
    tuesday = week + dt.timedelta(days=1)
    asked = time_off_request(user=agent, starts_at=at(tuesday, 9), ends_at=at(tuesday, 17))
    # When team B's supervisor, and a colleague, try to approve it, and team B's supervisor enters time off
    with pytest.raises(PermissionDenied):
        time_off_decide(planner=supervisor_b, time_off=asked, approve=True)
    with pytest.raises(PermissionDenied):
        time_off_decide(planner=colleague, time_off=asked, approve=True)
    with pytest.raises(PermissionDenied):
        time_off_enter(planner=supervisor_b, agent=profile(agent), starts_at=at(tuesday, 9), ends_at=at(tuesday, 10))
    # Then it is still requested, the shift untouched; team B's supervisor is refused it, the colleague does not see it
    asked.refresh_from_db()
    assert asked.status == RequestStatus.REQUESTED
    assert Shift.objects.filter(agent=profile(agent)).count() == 1
    with pytest.raises(PermissionDenied):
        access_time_off(supervisor_b, asked.pk)
    with pytest.raises(NotFound):
        access_time_off(colleague, asked.pk)


def test_a_supervisor_does_not_approve_their_own_time_off(supervisor, week):
    asked = time_off_request(user=supervisor, starts_at=at(week, 9), ends_at=at(week, 17))
    with pytest.raises(PermissionDenied) as refused:
        time_off_decide(planner=supervisor, time_off=asked, approve=True)
    assert refused.value.code == "own_request"


def test_a_decided_request_stays_decided_and_the_agent_cancels_theirs(roster, agent, colleague, supervisor, week):
    # Given a rejected request and a pending one
    tuesday = week + dt.timedelta(days=1)
    rejected = time_off_decide(
        planner=supervisor,
        time_off=time_off_request(user=agent, starts_at=at(tuesday, 9), ends_at=at(tuesday, 10)),
        approve=False,
    )
    pending = time_off_request(user=agent, starts_at=at(tuesday, 11), ends_at=at(tuesday, 12))
    # When the supervisor approves the rejected one, a colleague cancels the pending one, then the agent does
    with pytest.raises(Conflict):
        time_off_decide(planner=supervisor, time_off=rejected, approve=True)
    with pytest.raises(PermissionDenied):
        time_off_cancel(user=colleague, time_off=pending)
    cancelled = time_off_cancel(user=agent, time_off=pending)
    # Then
    assert rejected.status == RequestStatus.REJECTED
    assert cancelled.status == RequestStatus.CANCELLED
    assert Shift.objects.filter(agent=profile(agent)).count() == 1


# --- Swaps ----------------------------------------------------------------------------------------


def test_a_swap_asked_accepted_and_approved_moves_the_shifts(roster, agent, colleague, supervisor):
    # Given the agent's Tuesday and the colleague's Wednesday
    published, _, tuesday_shift, wednesday_shift = roster
    coverage_before = list(ScheduleCoverage.objects.filter(schedule=published).values_list("scheduled", flat=True))
    # When the agent offers Tuesday for Wednesday, the colleague accepts and the supervisor approves
    asked = swap_request(
        user=agent, shift=tuesday_shift, counterpart=profile(colleague), counterpart_shift=wednesday_shift
    )
    accepted = swap_respond(user=colleague, swap=asked, accept=True)
    approved = swap_decide(planner=supervisor, swap=accepted, approve=True)
    # Then the shifts changed hands and coverage (the same queue either way) is as it was
    assert (accepted.status, approved.status, approved.decided_by_id) == ("accepted", "approved", supervisor.pk)
    tuesday_shift.refresh_from_db()
    wednesday_shift.refresh_from_db()
    assert (tuesday_shift.agent_id, wednesday_shift.agent_id) == (profile(colleague).pk, profile(agent).pk)
    assert tuesday_shift.edited_by_id == supervisor.pk
    after = list(ScheduleCoverage.objects.filter(schedule=published).values_list("scheduled", flat=True))
    assert after == coverage_before


def test_a_swap_is_with_a_colleague_of_the_team_and_answered_by_them_only(roster, agent, agent_b, colleague):
    _, _, tuesday_shift, _ = roster
    # When the agent offers a shift to team B's agent
    with pytest.raises(ValidationFailed) as other_team:
        swap_request(user=agent, shift=tuesday_shift, counterpart=profile(agent_b))
    # And to the colleague, who is the only one who may answer
    asked = swap_request(user=agent, shift=tuesday_shift, counterpart=profile(colleague))
    with pytest.raises(PermissionDenied):
        swap_respond(user=agent, swap=asked, accept=True)
    with pytest.raises(Conflict):
        swap_request(user=agent, shift=tuesday_shift, counterpart=profile(colleague))
    # Then
    assert other_team.value.fields == {"counterpart": ["Not in the shift's team."]}
    with pytest.raises(NotFound):
        access_swap(agent_b, asked.pk)
    assert swap_cancel(user=agent, swap=asked).status == RequestStatus.CANCELLED


def test_a_swap_that_would_overlap_is_refused_and_nothing_moves(roster, agent, colleague, supervisor, week):
    # Given a give-away of the agent's Tuesday, accepted, and then the colleague given a Tuesday shift too
    published, billing, tuesday_shift, _ = roster
    asked = swap_request(user=agent, shift=tuesday_shift, counterpart=profile(colleague))
    swap_respond(user=colleague, swap=asked, accept=True)
    shift(published, profile(colleague), week + dt.timedelta(days=1), 8, 4, queue=billing)
    # When the supervisor approves
    with pytest.raises(ValidationFailed) as refused:
        swap_decide(planner=supervisor, swap=asked, approve=True)
    # Then it is refused for the overlap and the shift is still the agent's
    assert list(refused.value.fields) == ["swap"]
    tuesday_shift.refresh_from_db()
    assert tuesday_shift.agent_id == profile(agent).pk
    asked.refresh_from_db()
    assert asked.status == RequestStatus.ACCEPTED


def test_a_contract_or_skill_breach_is_refused_unless_the_supervisor_overrides(roster, agent, colleague, supervisor):
    # Given billing needs a skill the colleague lacks, and the colleague works at most one day a week
    _, billing, tuesday_shift, _ = roster
    billing.skill = SkillFactory(name="billing")
    billing.save()
    AgentSkill.objects.create(agent=profile(agent), skill=billing.skill, proficiency=3)
    AgentContract.objects.create(agent=profile(colleague), max_days_week=1, min_hours_week=0)
    asked = swap_request(user=agent, shift=tuesday_shift, counterpart=profile(colleague))
    swap_respond(user=colleague, swap=asked, accept=True)
    # When the supervisor approves, then approves overriding the contract
    with pytest.raises(ValidationFailed) as refused:
        swap_decide(planner=supervisor, swap=asked, approve=True)
    approved = swap_decide(planner=supervisor, swap=asked, approve=True, override_contract=True)
    # Then the first names both breaches; the override moves the shift
    assert refused.value.fields["contract"] == [
        f"{colleague} lacks the skill billing (Voice) needs.",
        f"{colleague}: 2 days this week, above the contract's 1.",
    ]
    assert approved.status == RequestStatus.APPROVED
    tuesday_shift.refresh_from_db()
    assert tuesday_shift.agent_id == profile(colleague).pk


def test_another_teams_supervisor_cannot_decide_a_swap(roster, agent, colleague, supervisor_b):
    _, _, tuesday_shift, _ = roster
    asked = swap_request(user=agent, shift=tuesday_shift, counterpart=profile(colleague))
    swap_respond(user=colleague, swap=asked, accept=True)
    with pytest.raises(PermissionDenied):
        swap_decide(planner=supervisor_b, swap=asked, approve=True)
    with pytest.raises(PermissionDenied):
        access_swap(supervisor_b, asked.pk)
    asked.refresh_from_db()
    assert asked.status == RequestStatus.ACCEPTED


# --- Review fixes: own time off, other teams' schedules, shifts already worked --------------------


def test_a_supervisor_cannot_enter_their_own_time_off(team_a, supervisor, week):
    # Given a supervisor with a routing profile of their own
    own = profile(supervisor)
    # When they enter a day off for themselves
    with pytest.raises(PermissionDenied) as refused:
        time_off_enter(planner=supervisor, agent=own, starts_at=at(week, 0), ends_at=at(week, 23))
    # Then it is refused and nothing is written
    assert refused.value.code == "own_request"
    assert not TimeOff.objects.exists()


def test_time_off_over_another_teams_shift_is_for_that_teams_planner(team_a, team_b, agent, supervisor, week):
    # Given an agent of teams A and B with a Tuesday shift in team B's published schedule
    agent.teams.add(team_b)
    tuesday = week + dt.timedelta(days=1)
    theirs = shift(schedule(team_b, week), profile(agent), tuesday, 9, 8, queue=planning_queue(team_b, "sales"))
    asked = time_off_request(user=agent, starts_at=at(tuesday, 0), ends_at=at(tuesday, 23))
    # When team A's supervisor approves the request
    with pytest.raises(PermissionDenied) as refused:
        time_off_decide(planner=supervisor, time_off=asked, approve=True)
    # Then it is refused: team B's schedule is not theirs to cut; the shift and the request are as they were
    assert refused.value.code == "other_teams_schedule"
    assert Shift.objects.filter(pk=theirs.pk).exists()
    asked.refresh_from_db()
    assert asked.status == RequestStatus.REQUESTED


def test_a_swap_whose_shift_has_started_since_it_was_asked_is_refused(roster, agent, colleague, supervisor):
    # Given a swap asked and accepted while both shifts were ahead
    _, _, tuesday_shift, wednesday_shift = roster
    asked = swap_request(
        user=agent, shift=tuesday_shift, counterpart=profile(colleague), counterpart_shift=wednesday_shift
    )
    accepted = swap_respond(user=colleague, swap=asked, accept=True)
    # When the Tuesday shift has started by the time the supervisor decides
    now = dt.datetime.now(dt.UTC)
    Shift.objects.filter(pk=tuesday_shift.pk).update(starts_at=now - dt.timedelta(hours=1), ends_at=now)
    accepted.refresh_from_db()
    with pytest.raises(ValidationFailed) as refused:
        swap_decide(planner=supervisor, swap=accepted, approve=True)
    assert "has started" in f"{refused.value.message} {refused.value.fields}"
    # Then nothing moved
    tuesday_shift.refresh_from_db()
    assert tuesday_shift.agent_id == profile(agent).pk
