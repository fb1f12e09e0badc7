"""The demo's roster: contracts for the demo agents, shift templates, the bank holidays as special
days, a few time-off requests (one still pending), and the published schedules of the weeks the demo's
presence history was laid out from. Idempotent: what exists is left alone.

``wfm_demo_plan_load`` follows it (``manage.py load_demo_wfm`` runs both, after ``load_demo_routing``,
the presence history): the planning queues discovered from the history, their forecasts with backtests
and staffing requirements, next week's schedule of each team made by the solver and published, the
coverage of this week's, and the adherence of the days the history covers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cea.accounts.models import User
from cea.common.roles import Role
from engagement.routing.demo import BANK_HOLIDAYS
from engagement.routing.demo_presence import PlannedShift, planned_demo_shifts
from engagement.routing.models import AgentProfile
from engagement.wfm.forecasting.models import SpecialDay
from engagement.wfm.scheduling.models import (
    ActivityKind,
    AgentContract,
    RequestStatus,
    Schedule,
    ScheduleStatus,
    Shift,
    ShiftActivity,
    ShiftTemplate,
    TimeOff,
    TimeOffKind,
)

FULL_DAY_BREAKS = [
    {"kind": "break", "minutes": 15, "after_minutes": 120, "spread_minutes": 30},
    {"kind": "lunch", "minutes": 30, "after_minutes": 240, "spread_minutes": 30},
    {"kind": "break", "minutes": 15, "after_minutes": 360, "spread_minutes": 30},
]
# (name, label, minutes, earliest start, latest start, breaks)
TEMPLATES = (
    ("early", "Early (8 h)", 480, dt.time(7), dt.time(8, 30), FULL_DAY_BREAKS),
    ("day", "Day (8 h)", 480, dt.time(9), dt.time(11), FULL_DAY_BREAKS),
    ("late", "Late (8 h)", 480, dt.time(12), dt.time(14), FULL_DAY_BREAKS),
    (
        "part-time",
        "Part time (4 h)",
        240,
        dt.time(9),
        dt.time(16),
        [{"kind": "break", "minutes": 15, "after_minutes": 120, "spread_minutes": 30}],
    ),
)
PART_TIME_POSITIONS = (9, 10)  # the demo's "<team>.agent09" and "agent10": 16–24 hours over four days
# A bank holiday's volume, as a share of a usual day's (records' demo history has a tenth of the calls
# and half the chats).
HOLIDAY_VOLUME_FACTOR = 0.2
# (agent number, team's place among the demo teams, kind, days from the Monday of next week, days, status)
TIME_OFF = (
    (3, 0, TimeOffKind.HOLIDAY, 2, 2, RequestStatus.APPROVED),
    (5, 1, TimeOffKind.TRAINING, 0, 1, RequestStatus.APPROVED),
    (4, 2, TimeOffKind.SICK, -10, 2, RequestStatus.APPROVED),
    (7, 0, TimeOffKind.HOLIDAY, 8, 3, RequestStatus.REQUESTED),
)
AGENT_NUMBER = re.compile(r"\.agent(\d+)$")


def _demo_agents() -> list[tuple[User, int]]:
    """The demo's team agents (``<team>.agentNN``) with their number, in username order."""
    agents = User.objects.filter(role=Role.AGENT, username__regex=AGENT_NUMBER.pattern).order_by("username")
    return [(user, int(AGENT_NUMBER.search(user.username).group(1))) for user in agents]  # type: ignore[union-attr]


def _templates_ensure() -> int:
    created = 0
    for name, label, minutes, earliest, latest, breaks in TEMPLATES:
        _, made = ShiftTemplate.objects.get_or_create(
            name=name,
            defaults={
                "label": label,
                "length_minutes": minutes,
                "earliest_start": earliest,
                "latest_start": latest,
                "breaks": breaks,
            },
        )
        created += made
    return created


def _contracts_ensure(agents: list[tuple[User, int]]) -> int:
    created = 0
    for user, number in agents:
        profile, _ = AgentProfile.objects.get_or_create(user=user)
        part_time = number in PART_TIME_POSITIONS
        _, made = AgentContract.objects.get_or_create(
            agent=profile,
            defaults={
                "min_hours_week": 16 if part_time else 35,
                "max_hours_week": 24 if part_time else 40,
                "max_days_week": 4 if part_time else 5,
                "earliest_start": dt.time(7),
                "latest_end": dt.time(22),
            },
        )
        created += made
    return created


def _special_days_ensure() -> int:
    created = 0
    for name, day in BANK_HOLIDAYS:
        _, made = SpecialDay.objects.get_or_create(
            planning_queue=None, day=day, defaults={"name": name, "volume_factor": HOLIDAY_VOLUME_FACTOR}
        )
        created += made
    return created


def _time_off_ensure(agents: list[tuple[User, int]], now: dt.datetime) -> int:
    """The demo's time off, for agents who have none yet; days are local, from next week's Monday."""
    zone = ZoneInfo(settings.TIME_ZONE)
    today = now.astimezone(zone).date()
    next_monday = today + dt.timedelta(days=7 - today.weekday())
    teams = sorted({team for user, _ in agents for team in user.teams.values_list("name", flat=True)})
    created = 0
    for number, team_place, kind, offset, days, status in TIME_OFF:
        if team_place >= len(teams):
            continue
        user = next(
            (user for user, own in agents if own == number and user.teams.filter(name=teams[team_place]).exists()),
            None,
        )
        if user is None:
            continue
        profile = AgentProfile.objects.get(user=user)
        if TimeOff.objects.filter(agent=profile).exists():
            continue
        starts = dt.datetime.combine(next_monday + dt.timedelta(days=offset), dt.time(), tzinfo=zone)
        TimeOff.objects.create(
            agent=profile,
            kind=kind,
            starts_at=starts,
            ends_at=starts + dt.timedelta(days=days),
            status=status,
            note="Demo",
            requested_by=user,
            decided_at=now if status == RequestStatus.APPROVED else None,
        )
        created += 1
    return created


def _activities(shift: Shift, plan: PlannedShift) -> list[ShiftActivity]:
    """Contacts between the planned breaks, the breaks and lunch: tiling the shift."""
    activities, cursor = [], plan.start
    for reason, start, end in plan.breaks:
        if start > cursor:
            activities.append(ShiftActivity(shift=shift, kind=ActivityKind.WORK, starts_at=cursor, ends_at=start))
        activities.append(ShiftActivity(shift=shift, kind=ActivityKind(reason), starts_at=start, ends_at=end))
        cursor = end
    if plan.end > cursor:
        activities.append(ShiftActivity(shift=shift, kind=ActivityKind.WORK, starts_at=cursor, ends_at=plan.end))
    return activities


def _schedules_load(*, days: int, now: dt.datetime) -> dict[str, int]:
    """Published schedules, per team and local week, of the shifts the demo's presence was laid out
    from, for the team-weeks without a published schedule."""
    zone = ZoneInfo(settings.TIME_ZONE)
    plans = planned_demo_shifts(days=days, now=now)
    profiles = dict(AgentProfile.objects.filter(user_id__in=plans).values_list("user_id", "pk"))
    teams: dict[int, int] = {}
    for user_id, team_id in User.teams.through.objects.filter(user_id__in=plans).values_list("user_id", "team_id"):
        teams.setdefault(user_id, team_id)  # an agent in several teams: scheduled with one
    weeks: dict[tuple[int, dt.date], list[tuple[int, PlannedShift]]] = defaultdict(list)
    for user_id, own in plans.items():
        if user_id not in teams or user_id not in profiles:
            continue
        for plan in own:
            day = plan.start.astimezone(zone).date()
            weeks[(teams[user_id], day - dt.timedelta(days=day.weekday()))].append((profiles[user_id], plan))
    published = set(
        Schedule.objects.filter(status=ScheduleStatus.PUBLISHED).values_list("team_id", "week_start").distinct()
    )
    schedules = shift_count = 0
    for (team_id, week_start), planned in sorted(weeks.items()):
        if (team_id, week_start) in published:
            continue
        schedule = Schedule.objects.create(
            team_id=team_id,
            week_start=week_start,
            status=ScheduleStatus.PUBLISHED,
            published_at=now,
            solver_status="demo history",
            notes=["The shifts the demo's presence history was laid out from."],
        )
        shifts = Shift.objects.bulk_create(
            [
                Shift(schedule=schedule, agent_id=agent_id, starts_at=plan.start, ends_at=plan.end)
                for agent_id, plan in planned
            ]
        )
        ShiftActivity.objects.bulk_create(
            [
                activity
                for shift, (_, plan) in zip(shifts, planned, strict=True)
                for activity in _activities(shift, plan)
            ]
        )
        schedules += 1
        shift_count += len(shifts)
    return {"schedules": schedules, "shifts": shift_count}


@transaction.atomic
def wfm_demo_roster_load(*, days: int = 90, now: dt.datetime | None = None) -> dict[str, int]:
    """Load the demo's roster where it does not exist yet (see the module); return what was created.

    Run after the demo's presence history (``load_demo_routing``): its schedules are the shifts that
    history was laid out from, for the last ``days`` days up to today.
    """
    now = now or timezone.now()
    agents = _demo_agents()
    return {
        "templates": _templates_ensure(),
        "contracts": _contracts_ensure(agents),
        "special_days": _special_days_ensure(),
        "time_off": _time_off_ensure(agents, now),
        **_schedules_load(days=days, now=now),
    }


# Discovery's threshold for the demo: the busy voice and chat queues (records' demo history gives the main
# ones over a hundred contacts a day), not the trickle of every team's other channels.
DEMO_MIN_CONTACTS_PER_DAY = 20.0
DEMO_FORECAST_DAYS = 14  # through the end of next week, which the solver schedules
DEMO_SOLVER_SECONDS = 3  # a demo team of ten: CP-SAT settles within seconds; make run waits for it
DEMO_ADHERENCE_DAYS = 28


def _demo_planner() -> User:
    """Who the demo's plans are made by: the demo's administrator (``ensure_demo_logins``), else any admin."""
    planner = (
        User.objects.filter(username="demo.admin").first()
        or User.objects.filter(is_active=True, role=Role.ADMIN).order_by("pk").first()
        or User.objects.filter(is_active=True, is_superuser=True).order_by("pk").first()
    )
    if planner is None:
        raise RuntimeError("The demo's plans need an administrator: run ensure_demo_logins first.")
    return planner


def _forecasts_load(*, now: dt.datetime, report) -> int:
    """Each active planning queue with no finished forecast yet: its forecast and its requirement."""
    from engagement.wfm.forecasting.models import ForecastRun, RunStatus
    from engagement.wfm.forecasting.services import forecast_run
    from engagement.wfm.planning.models import PlanningQueue
    from engagement.wfm.staffing.services import requirements_compute

    done = 0
    for queue in PlanningQueue.objects.filter(is_active=True).order_by("pk"):
        if ForecastRun.objects.filter(planning_queue=queue, status=RunStatus.DONE).exists():
            continue
        run = forecast_run(planning_queue=queue, days_ahead=DEMO_FORECAST_DAYS, now=now)
        if run.status != RunStatus.DONE or run.horizon_start is None or run.horizon_end is None:
            report(f"  forecast of {queue} failed: {run.error}")
            continue
        requirements_compute(planning_queue=queue, start=run.horizon_start, end=run.horizon_end)
        report(f"  {queue}: {run.methods} in {run.fit_seconds or 0:.1f} s")
        done += 1
    return done


DEMO_LOGIN_USERNAMES = ("demo.agent", "demo.supervisor")


def _logins_rostered(schedule: Schedule, *, now: dt.datetime) -> int:
    """Shifts for the demo's own logins (``ensure_demo_logins``) in their team's schedule, which the
    presence history (this week) or the solver (next week: it may leave a login without one, as the
    demand asks) does not give them. This week: today one from the hour before ``now`` for eight
    hours, each later day 09:00-17:00; a later week: Monday to Friday 09:00-17:00; each with a break,
    lunch and a break. So whoever signs in as the demo agent sees their shift on the desk and in their
    schedule, and the live adherence page moves as they change presence. Those who have a shift in the
    schedule already are left alone."""
    zone = ZoneInfo(settings.TIME_ZONE)
    profiles = AgentProfile.objects.filter(
        user__username__in=DEMO_LOGIN_USERNAMES, user__teams=schedule.team_id
    ).exclude(shifts__schedule=schedule)
    today = timezone.localdate(now)
    if schedule.week_start <= today:
        starts = [now.replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=1)]
        days = range((today - schedule.week_start).days + 1, 7)
    else:
        starts, days = [], range(5)
    starts += [
        dt.datetime.combine(schedule.week_start + dt.timedelta(days=offset), dt.time(9), tzinfo=zone) for offset in days
    ]
    minute = dt.timedelta(minutes=1)
    created = 0
    for profile in profiles:
        for start in starts:
            breaks = (
                ("break", start + 120 * minute, start + 135 * minute),
                ("lunch", start + 240 * minute, start + 270 * minute),
                ("break", start + 360 * minute, start + 375 * minute),
            )
            plan = PlannedShift(start=start, end=start + 480 * minute, breaks=breaks)
            shift = Shift.objects.create(schedule=schedule, agent=profile, starts_at=plan.start, ends_at=plan.end)
            ShiftActivity.objects.bulk_create(_activities(shift, plan))
            created += 1
    return created


def _schedules_plan(*, now: dt.datetime, report, solver_seconds: float) -> int:
    """Next week's schedule of each team with planning queues, by the solver, published (where the team
    has none published yet); this week's coverage rewritten against the requirement just computed."""
    from cea.accounts.models import Team
    from engagement.wfm.scheduling.coverage import schedule_coverage_refresh
    from engagement.wfm.scheduling.services import schedule_generate, schedule_publish

    planner = _demo_planner()
    this_week = timezone.localdate(now) - dt.timedelta(days=timezone.localdate(now).weekday())
    next_week = this_week + dt.timedelta(days=7)
    published = 0
    for team in Team.objects.filter(planning_queues__is_active=True).distinct().order_by("name"):
        this_weeks = list(Schedule.objects.filter(team=team, week_start=this_week, status=ScheduleStatus.PUBLISHED))
        logins = AgentProfile.objects.filter(user__username__in=DEMO_LOGIN_USERNAMES, user__teams=team)
        if not this_weeks and logins.exists():  # the history ended last week (loaded on a Monday, early)
            this_weeks = [
                Schedule.objects.create(
                    team=team,
                    week_start=this_week,
                    status=ScheduleStatus.PUBLISHED,
                    published_at=now,
                    solver_status="demo logins",
                    notes=["The demo logins' shifts: the demo's history has none this week yet."],
                )
            ]
        for schedule in this_weeks:
            _logins_rostered(schedule, now=now)
            schedule_coverage_refresh(schedule=schedule)
        if Schedule.objects.filter(team=team, week_start=next_week, status=ScheduleStatus.PUBLISHED).exists():
            continue
        draft = schedule_generate(user=planner, team=team, week_start=next_week, time_limit_seconds=solver_seconds)
        _logins_rostered(draft, now=now)
        schedule_publish(user=planner, schedule=draft)
        unmet = draft.under_minutes / 60
        report(f"  {team.name}, week of {next_week}: {draft.solver_status}, {unmet:.0f} agent-h unmet")
        published += 1
    return published


def wfm_demo_plan_load(
    *, now: dt.datetime | None = None, report=lambda line: None, solver_seconds: float = DEMO_SOLVER_SECONDS
) -> dict[str, int]:
    """The demo's plans on top of its roster (see the module); return what was made. Idempotent: a queue
    with a forecast, a team-week with a published schedule are left alone."""
    from engagement.wfm.adherence.services import adherence_days_rebuild
    from engagement.wfm.planning.services import planning_queues_discover

    now = now or timezone.now()
    queues = planning_queues_discover(min_contacts_per_day=DEMO_MIN_CONTACTS_PER_DAY, now=now)
    report(f"Planning queues discovered: {len(queues)}")
    forecasts = _forecasts_load(now=now, report=report)
    schedules = _schedules_plan(now=now, report=report, solver_seconds=solver_seconds)
    today = timezone.localdate(now)
    days = sum(
        adherence_days_rebuild(day=today - dt.timedelta(days=back), now=now) for back in range(DEMO_ADHERENCE_DAYS)
    )
    return {"planning_queues": len(queues), "forecasts": forecasts, "schedules": schedules, "adherence_days": days}
