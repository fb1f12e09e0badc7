"""What the schedule tests stand on: a team's planning queue with a requirement, its agents, a shift
template (rows made directly: the services that own them are other parts')."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from cea.common.channels import Channel
from engagement.wfm.planning.models import PlanningQueue
from engagement.wfm.scheduling.models import AgentContract, ShiftTemplate
from engagement.wfm.staffing.models import StaffingRequirement
from tests.engagement.factories import AgentProfileFactory

WEEK = dt.date(2026, 3, 2)  # a Monday (GMT)
LONDON = ZoneInfo("Europe/London")


def local(day: int, hour: float, week: dt.date = WEEK) -> dt.datetime:
    start = dt.datetime.combine(week + dt.timedelta(days=day), dt.time(), tzinfo=LONDON)
    return (start + dt.timedelta(minutes=round(hour * 60))).astimezone(dt.UTC)


def planning_queue(team, name: str = "support", **fields) -> PlanningQueue:
    return PlanningQueue.objects.create(queue=name, channel=Channel.VOICE, team=team, interval_minutes=15, **fields)


def requirement(queue: PlanningQueue, agents: float, *, days=range(5), start: float = 9, end: float = 17) -> None:
    """``agents`` (with shrinkage) in every quarter-hour from ``start`` to ``end`` (local) of ``days`` of WEEK."""
    StaffingRequirement.objects.bulk_create(
        StaffingRequirement(
            planning_queue=queue,
            interval_start=local(day, start + quarter / 4),
            volume=10,
            aht_seconds=300,
            agents=round(agents),
            agents_with_shrinkage=agents,
        )
        for day in days
        for quarter in range(round((end - start) * 4))
    )


def day_template(**fields) -> ShiftTemplate:
    """09:00–17:00, starting at 09:00 only, a 30-minute lunch after four hours (no spread)."""
    values = {
        "name": "day",
        "length_minutes": 480,
        "earliest_start": dt.time(9),
        "latest_start": dt.time(9),
        "breaks": [{"kind": "lunch", "minutes": 30, "after_minutes": 240, "spread_minutes": 0}],
    }
    return ShiftTemplate.objects.create(**{**values, **fields})


def rostered(team, username: str, **contract):
    """An agent of ``team`` with a routing profile and, given ``contract`` fields, a contract."""
    profile = AgentProfileFactory(username=username, teams=[team])
    if contract:
        AgentContract.objects.create(agent=profile, **contract)
    return profile
