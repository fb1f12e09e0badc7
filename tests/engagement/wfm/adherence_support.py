"""Helpers of the adherence tests: published shifts built with the models, presence history as routing
records it (``PresenceChange`` rows, the profile's presence matching the open one)."""

from __future__ import annotations

from datetime import datetime, timedelta

from engagement.routing.models import AgentProfile, PresenceChange, ReasonCode
from engagement.wfm.scheduling.models import Schedule, ScheduleStatus, Shift, ShiftActivity


def published_shift(
    agent: AgentProfile,
    *,
    team,
    starts_at: datetime,
    activities: list[tuple[str, int]],
    status: str = ScheduleStatus.PUBLISHED,
) -> Shift:
    """A shift of ``agent`` in ``team``'s schedule of that week (made ``status`` if none), its
    ``activities`` given as (kind, minutes) one after another from ``starts_at``."""
    local_day = starts_at.date()
    monday = local_day - timedelta(days=local_day.weekday())
    schedule = Schedule.objects.filter(team=team, week_start=monday, status=status).first()
    if schedule is None:
        schedule = Schedule.objects.create(team=team, week_start=monday, status=status)
    total = sum(minutes for _, minutes in activities)
    shift = Shift.objects.create(
        schedule=schedule, agent=agent, starts_at=starts_at, ends_at=starts_at + timedelta(minutes=total)
    )
    cursor = starts_at
    for kind, minutes in activities:
        end = cursor + timedelta(minutes=minutes)
        ShiftActivity.objects.create(shift=shift, kind=kind, starts_at=cursor, ends_at=end)
        cursor = end
    return shift


def presence_history(agent: AgentProfile, spans: list[tuple[str, str, datetime]]) -> None:
    """Record (presence, reason code, from) one after another; the last stays open and is the profile's."""
    PresenceChange.objects.filter(agent=agent).delete()
    for index, (presence, reason_code, started_at) in enumerate(spans):
        ended_at = spans[index + 1][2] if index + 1 < len(spans) else None
        reason = ReasonCode.objects.get(code=reason_code) if reason_code else None
        PresenceChange.objects.create(
            agent=agent, presence=presence, reason=reason, started_at=started_at, ended_at=ended_at
        )
    presence, reason_code, started_at = spans[-1]
    AgentProfile.objects.filter(pk=agent.pk).update(
        presence=presence,
        reason=ReasonCode.objects.get(code=reason_code) if reason_code else None,
        presence_since=started_at,
    )
