"""The demo's roster: templates, contracts, bank holidays, time off, and the published schedules of the
shifts the demo's presence was laid out from (the presence keeping to them, not exactly); written once."""

from __future__ import annotations

import datetime as dt
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from cea.accounts.models import Team
from engagement.routing.demo import BANK_HOLIDAYS
from engagement.routing.demo_presence import presence_demo_load
from engagement.routing.models import PresenceChange
from engagement.wfm.demo import wfm_demo_plan_load, wfm_demo_roster_load
from engagement.wfm.forecasting.models import ForecastRun, RunStatus, SpecialDay
from engagement.wfm.planning.models import PlanningQueue
from engagement.wfm.scheduling.models import AgentContract, Schedule, ScheduleStatus, Shift, ShiftTemplate, TimeOff
from engagement.wfm.staffing.models import StaffingRequirement
from records.demo.generator import DemoSize, load_demo_data
from tests.accounts.factories import UserFactory
from tests.engagement.factories import AgentProfileFactory

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 6, 10, 16, 0, tzinfo=dt.UTC)  # a Wednesday
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def demo():
    with override_settings(TIME_ZONE="Europe/London"):
        load_demo_data(
            size=DemoSize(customers=40, cases=0, interactions=200, days=21, queue_contacts=3000), seed=3, now=NOW
        )
        presence_demo_load(seed=3, days=21, now=NOW)
        yield wfm_demo_roster_load(days=21, now=NOW)


def test_the_roster_has_templates_contracts_holidays_and_time_off(demo):
    # Then the four templates, a contract per demo agent (two of ten part time), every bank holiday
    assert set(ShiftTemplate.objects.values_list("name", flat=True)) == {"early", "day", "late", "part-time"}
    assert ShiftTemplate.objects.get(name="late").breaks[1] == {
        "kind": "lunch",
        "minutes": 30,
        "after_minutes": 240,
        "spread_minutes": 30,
    }
    assert AgentContract.objects.count() == 40
    assert AgentContract.objects.filter(max_hours_week=24, max_days_week=4).count() == 8
    assert SpecialDay.objects.filter(planning_queue=None).count() == len(BANK_HOLIDAYS)
    # And four time-off requests, one still waiting for a decision
    assert TimeOff.objects.count() == 4
    assert list(TimeOff.objects.filter(status="requested").values_list("kind", flat=True)) == ["holiday"]
    assert demo["time_off"] == 4 and demo["contracts"] == 40


def test_the_presence_was_laid_out_from_published_schedules(demo):
    # Then each team has one published schedule per week of the history, the current one included
    schedules = Schedule.objects.filter(status="published")
    assert schedules.count() == demo["schedules"] == 4 * 4  # 21 days back from a Wednesday: four weeks
    assert {week.weekday() for week in schedules.values_list("week_start", flat=True)} == {0}
    shifts = list(Shift.objects.select_related("agent").prefetch_related("activities"))
    assert len(shifts) == demo["shifts"] > 300
    for shift in shifts:
        # And the activities tile each shift: contacts, a break, lunch and another break
        activities = list(shift.activities.all())
        assert activities[0].starts_at == shift.starts_at and activities[-1].ends_at == shift.ends_at
        assert all(one.ends_at == following.starts_at for one, following in pairwise(activities))
        assert [activity.kind for activity in activities if activity.kind != "work"] == ["break", "lunch", "break"]
        assert shift.ends_at - shift.starts_at == dt.timedelta(hours=8)
    # And the agents logged in about when their shift began: mostly on time, sometimes late
    delays = []
    for shift in shifts:
        login = (
            PresenceChange.objects.filter(
                agent=shift.agent,
                started_at__gte=shift.starts_at - dt.timedelta(minutes=30),
                started_at__lt=shift.ends_at,
            )
            .exclude(presence="offline")
            .order_by("started_at")
            .first()
        )
        assert login is not None
        delays.append((login.started_at - shift.starts_at).total_seconds() / 60)
    on_time = sum(-10 <= delay <= 5 for delay in delays)
    late = sum(delay > 5 for delay in delays)
    assert on_time > 0.7 * len(delays) and late > 0.05 * len(delays)
    # And lunches run long now and then
    lunches = [
        change.ended_at - change.started_at
        for change in PresenceChange.objects.filter(reason__code="lunch", ended_at__isnull=False)
    ]
    assert any(length > dt.timedelta(minutes=35) for length in lunches)
    assert sum(length <= dt.timedelta(minutes=35) for length in lunches) > 0.5 * len(lunches)


def test_a_second_load_writes_nothing(demo):
    # When it runs again
    with override_settings(TIME_ZONE="Europe/London"):
        again = wfm_demo_roster_load(days=21, now=NOW)
    # Then nothing is added
    assert again == {"templates": 0, "contracts": 0, "special_days": 0, "time_off": 0, "schedules": 0, "shifts": 0}
    assert Schedule.objects.count() == demo["schedules"] and TimeOff.objects.count() == 4


def test_the_plans_are_forecasts_requirements_next_weeks_schedules_and_the_demo_logins_shifts(demo):
    # Given the demo's logins (the agent and the supervisor in Retail Support, the administrator)
    retail = Team.objects.get(name="Retail Support")
    login = AgentProfileFactory(username="demo.agent", teams=[retail])
    UserFactory(username="demo.admin", role="admin")
    # When the plans are loaded on top of the roster, twice
    with override_settings(TIME_ZONE="Europe/London"):
        first = wfm_demo_plan_load(now=NOW, solver_seconds=2)
        again = wfm_demo_plan_load(now=NOW, solver_seconds=2)
    # Then the busy queues are planned, forecast and staffed through next week
    assert first["planning_queues"] == PlanningQueue.objects.count() > 0
    assert first["forecasts"] == ForecastRun.objects.filter(status=RunStatus.DONE).count() == first["planning_queues"]
    next_monday = dt.date(2026, 6, 15)
    assert StaffingRequirement.objects.filter(interval_start__date__gte=next_monday).exists()
    # And each planned team's next week is published by the solver
    teams = set(PlanningQueue.objects.values_list("team_id", flat=True))
    published = Schedule.objects.filter(week_start=next_monday, status=ScheduleStatus.PUBLISHED)
    assert set(published.values_list("team_id", flat=True)) == teams and first["schedules"] == len(teams)
    # And the demo agent has a shift now in this week's schedule, then 09:00-17:00 on the days left
    mine = Shift.objects.filter(agent=login, schedule__week_start=dt.date(2026, 6, 8)).order_by("starts_at")
    assert mine[0].starts_at <= NOW < mine[0].ends_at
    assert [shift.starts_at.astimezone(LONDON).strftime("%a %H:%M") for shift in mine[1:]] == [
        "Thu 09:00",
        "Fri 09:00",
        "Sat 09:00",
        "Sun 09:00",
    ]
    # And the second load adds nothing but the adherence days it rewrites
    assert (again["planning_queues"], again["forecasts"], again["schedules"]) == (0, 0, 0)
    assert mine.count() == 5 and Shift.objects.filter(agent=login, schedule__week_start=next_monday).exists()
