"""The weekly schedule solver on small problems whose best schedule is known (no database)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from engagement.wfm.scheduling import solver

WEEK = dt.date(2026, 3, 2)  # a Monday, GMT
ZONE = ZoneInfo("Europe/London")
NINE_TO_FIVE = solver.Template(1, 480, dt.time(9), dt.time(9), 30, (), "day")


def at(day: int, hour: float, week: dt.date = WEEK) -> dt.datetime:
    moment = dt.datetime.combine(week + dt.timedelta(days=day), dt.time(), tzinfo=ZONE)
    return (moment + dt.timedelta(minutes=round(hour * 60))).astimezone(dt.UTC)


def need(agents: float, *, days=range(7), start: float = 9, end: float = 17, week: dt.date = WEEK) -> dict:
    """``agents`` required in every quarter-hour from ``start`` to ``end`` (local) of ``days``."""
    return {at(day, start + quarter / 4, week): agents for day in days for quarter in range(round((end - start) * 4))}


def problem(agents, queues, templates=(NINE_TO_FIVE,), week=WEEK) -> solver.Problem:
    return solver.Problem(week, "Europe/London", tuple(agents), tuple(templates), tuple(queues), 20, 2)


def worker(id_: int = 1, queues=(1,), time_off=(), **contract) -> solver.Agent:
    return solver.Agent(id_, solver.Contract(**contract), frozenset(queues), tuple(time_off), f"agent {id_}")


@pytest.fixture(params=[True, False], ids=["cp-sat", "greedy"])
def use_cp_sat(request) -> bool:
    return request.param


def test_the_contracts_days_and_hours_are_honoured(use_cp_sat):
    # Given one agent allowed two days (16 h) and a requirement of one agent 09:00–17:00 every day
    given = problem([worker(max_days=2, max_minutes=16 * 60)], [solver.Queue(1, 15, need(1))])

    # When the week is solved
    solution = solver.solve(given, use_cp_sat=use_cp_sat)

    # Then two 09:00–17:00 shifts are scheduled, and the other five days are unmet but coverable
    assert len(solution.shifts) == 2
    assert {(shift.ends_at - shift.starts_at) for shift in solution.shifts} == {dt.timedelta(hours=8)}
    assert all(shift.starts_at.astimezone(ZONE).time() == dt.time(9) for shift in solution.shifts)
    assert len(solution.unmet) == 5 * 32
    assert all(item.coverable and item.agents == 1.0 for item in solution.unmet)
    assert solution.under_agent_minutes == 5 * 8 * 60
    assert solution.over_agent_minutes == 0


def test_weekdays_and_the_working_window_are_honoured(use_cp_sat):
    # Given an agent who works Monday and Wednesday only, 10:00–15:00, and templates of 4 hours that may
    # start any hour from 07:00 to 14:00
    four = solver.Template(2, 240, dt.time(7), dt.time(14), 60, (), "four")
    agent = worker(weekdays=frozenset({0, 2}), earliest_start=dt.time(10), latest_end=dt.time(15))
    given = problem([agent], [solver.Queue(1, 15, need(1, start=8, end=18))], [four])

    # When solved
    solution = solver.solve(given, use_cp_sat=use_cp_sat)

    # Then they work on Monday and Wednesday only, within 10:00–15:00
    assert sorted(shift.starts_at.astimezone(ZONE).weekday() for shift in solution.shifts) == [0, 2]
    for shift in solution.shifts:
        assert shift.starts_at.astimezone(ZONE).time() >= dt.time(10)
        assert shift.ends_at.astimezone(ZONE).time() <= dt.time(15)


def test_approved_time_off_is_never_scheduled(use_cp_sat):
    # Given two agents for a requirement of two, one of them off on Tuesday
    tuesday = (at(1, 0), at(2, 0))
    given = problem([worker(1), worker(2, time_off=[tuesday])], [solver.Queue(1, 15, need(2, days=range(5)))])

    # When solved
    solution = solver.solve(given, use_cp_sat=use_cp_sat)

    # Then agent 2 has no shift on Tuesday, and Tuesday is one agent short all day
    assert not [
        shift
        for shift in solution.shifts
        if shift.agent_id == 2 and shift.starts_at < tuesday[1] and tuesday[0] < shift.ends_at
    ]
    assert len(solution.shifts) == 9
    assert {item.interval_start.astimezone(ZONE).weekday() for item in solution.unmet} == {1}
    assert sum(item.agents for item in solution.unmet) == 32.0


def test_demand_no_shift_can_cover_is_reported_unmet_and_the_rest_scheduled(use_cp_sat):
    # Given a requirement 09:00–17:00 on Monday and at 03:00 on Monday night, and a queue nobody can work
    required = {**need(1, days=[0]), at(0, 3): 2.0}
    given = problem(
        [worker(1, max_days=1)],
        [solver.Queue(1, 15, required, "Sales"), solver.Queue(2, 30, {at(0, 10): 1.0}, "Claims")],
    )

    # When solved
    solution = solver.solve(given, use_cp_sat=use_cp_sat)

    # Then the day is covered; 03:00 (no template starts then) and Claims (no skill) are unmet and
    # marked as nobody's to cover, with a note for each
    assert [(shift.starts_at, shift.ends_at) for shift in solution.shifts] == [(at(0, 9), at(0, 17))]
    assert [(item.queue_id, item.interval_start, item.agents, item.coverable) for item in solution.unmet] == [
        (1, at(0, 3), 2.0, False),
        (2, at(0, 10), 1.0, False),
    ]
    assert "Sales: 0.5 agent-hours of demand no shift can cover." in solution.notes
    assert "Claims: 0.5 agent-hours of demand no shift can cover." in solution.notes


def test_an_unmeetable_contract_minimum_is_a_note_not_a_failure(use_cp_sat):
    # Given an agent promised 40 hours who may work Mondays only
    given = problem([worker(min_minutes=40 * 60, weekdays=frozenset({0}))], [solver.Queue(1, 15, need(1))])

    # When solved
    solution = solver.solve(given, use_cp_sat=use_cp_sat)

    # Then the Monday is scheduled and the shortfall is noted
    assert [shift.starts_at for shift in solution.shifts] == [at(0, 9)]
    assert "agent 1 is scheduled 8 h, below their contract's minimum of 40 h" in " ".join(solution.notes)
    if use_cp_sat:
        assert solution.status == "optimal"


def test_the_contract_minimum_is_scheduled_even_without_demand(use_cp_sat):
    # Given an agent promised 16 hours and a requirement on one day only
    given = problem([worker(min_minutes=16 * 60)], [solver.Queue(1, 15, need(1, days=[0]))])

    # When solved
    solution = solver.solve(given, use_cp_sat=use_cp_sat)

    # Then they work two days: Monday and one more (over-staffed by a day), no note
    assert len(solution.shifts) == 2
    assert at(0, 9) in [shift.starts_at for shift in solution.shifts]
    assert solution.over_agent_minutes == 8 * 60
    assert not solution.notes


def test_rest_between_shifts_is_honoured():
    # Given demand from 18:00 to 22:00 on Monday and from 07:00 to 11:00 on Tuesday, 4-hour shifts
    # starting any hour, and one agent
    four = solver.Template(2, 240, dt.time(7), dt.time(18), 60, (), "four")
    required = {**need(1, days=[0], start=18, end=22), **need(1, days=[1], start=7, end=11)}

    def solved(rest: int) -> solver.Solution:
        return solver.solve(problem([worker(min_rest_hours=rest)], [solver.Queue(1, 15, required)], [four]))

    # When solved with 11 hours' rest, then Tuesday's shift starts at 09:00 at the earliest: 07:00–09:00 unmet
    assert sorted(shift.starts_at for shift in solved(11).shifts) == [at(0, 18), at(1, 9)]
    assert solved(11).under_agent_minutes == 120
    # and with 8 hours' rest both are
    assert sorted(shift.starts_at for shift in solved(8).shifts) == [at(0, 18), at(1, 7)]


def test_breaks_tile_the_shift_and_are_staggered_within_their_spread():
    # Given two agents on a 09:00–17:00 shift with a 30-minute lunch after 4 hours (give or take an hour)
    # and a requirement of two all day
    lunch = solver.Template(1, 480, dt.time(9), dt.time(9), 30, (solver.Break("lunch", 30, 240, 60),), "day")
    given = problem([worker(1, max_days=1), worker(2, max_days=1)], [solver.Queue(1, 15, need(2, days=[0]))], [lunch])

    # When solved
    solution = solver.solve(given)

    # Then each shift is work, lunch, work without gaps, and the two lunches do not overlap
    lunches = []
    for shift in solution.shifts:
        kinds = [activity.kind for activity in shift.activities]
        assert kinds == ["work", "lunch", "work"]
        assert shift.activities[0].starts_at == shift.starts_at and shift.activities[-1].ends_at == shift.ends_at
        for before, after in zip(shift.activities, shift.activities[1:], strict=False):
            assert before.ends_at == after.starts_at
        lunches.append(shift.activities[1])
        assert shift.activities[0].queue_id == 1
    assert lunches[0].ends_at <= lunches[1].starts_at or lunches[1].ends_at <= lunches[0].starts_at
    assert solution.under_agent_minutes == 60  # two half hours one agent short


def test_agents_go_where_their_skills_are_needed():
    # Given one agent for either queue and one for queue 1 only, and one agent needed on each
    given = problem(
        [worker(1, queues=(1, 2), max_days=1), worker(2, queues=(1,), max_days=1)],
        [solver.Queue(1, 15, need(1, days=[0])), solver.Queue(2, 15, need(1, days=[0]))],
    )

    # When solved
    solution = solver.solve(given)

    # Then the versatile agent works queue 2 all day, the other queue 1, and everything is covered
    queue_of = {shift.agent_id: {activity.queue_id for activity in shift.activities} for shift in solution.shifts}
    assert queue_of == {1: {2}, 2: {1}}
    assert solution.unmet == []
    assert solution.coverage_percent == 100.0
    # where the greedy schedule, taking the versatile agent first onto queue 1, leaves queue 2's day unmet
    assert solver.solve(given, use_cp_sat=False).under_agent_minutes == 8 * 60


def test_a_week_with_the_clocks_going_forward():
    # Given the week in which British Summer Time starts (Sunday 29 March 2026) and demand on that Sunday
    week = dt.date(2026, 3, 23)
    given = problem([worker(weekdays=frozenset({6}))], [solver.Queue(1, 15, need(1, days=[6], week=week))], week=week)

    # When solved
    solution = solver.solve(given)

    # Then the Sunday's shift is 09:00–17:00 local (08:00–16:00 UTC) and covers it
    assert [(shift.starts_at, shift.ends_at) for shift in solution.shifts] == [
        (dt.datetime(2026, 3, 29, 8, tzinfo=dt.UTC), dt.datetime(2026, 3, 29, 16, tzinfo=dt.UTC))
    ]
    assert solution.unmet == []


def test_no_agents_or_no_templates_give_an_empty_schedule_with_everything_unmet():
    # Given a requirement and no templates
    given = problem([worker()], [solver.Queue(1, 15, need(1, days=[0]))], templates=())

    # When solved
    solution = solver.solve(given)

    # Then nothing is scheduled and the requirement (32 quarter-hours) is unmet, none coverable
    assert solution.status == "empty"
    assert solution.shifts == []
    assert len(solution.unmet) == 32 and not any(item.coverable for item in solution.unmet)
    assert "agent 1: no shift template fits their contract and time off this week." in solution.notes


def test_cp_sat_finds_the_optimum_and_never_does_worse_than_greedy():
    # Given three agents, each allowed one day, and a morning peak of three and an afternoon of one on Monday,
    # with 4-hour shifts starting any hour from 08:00 to 13:00
    four = solver.Template(2, 240, dt.time(8), dt.time(13), 60, (), "four")
    required = {**need(3, days=[0], start=8, end=12), **need(1, days=[0], start=12, end=17)}
    given = problem([worker(index, max_days=1) for index in (1, 2, 3)], [solver.Queue(1, 15, required)], [four])

    # When solved both ways
    greedy, best = solver.solve(given, use_cp_sat=False), solver.solve(given)

    # Then CP-SAT is optimal and no worse: 17 agent-hours required, 12 given, so 5 unmet whatever the starts
    assert best.status == "optimal"
    assert best.under_agent_minutes <= greedy.under_agent_minutes
    assert best.under_agent_minutes == 5 * 60
    assert best.over_agent_minutes == 0
