"""The demo's roster: contracts for the demo agents, shift templates, the bank holidays as special
days, a few time-off requests (one still pending), and the published schedules of the weeks the demo's
presence history was laid out from. Idempotent: what exists is left alone.

The lead's ``load_demo_wfm`` runs this after ``load_demo_routing`` (the presence history), then the
planning queues' discovery, forecasts, requirements and the schedules of this week and next.
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
