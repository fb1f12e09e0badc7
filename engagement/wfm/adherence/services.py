"""Adherence, written: exceptions opened and closed as agents go out of and back into adherence, the
live rows pushed, and each day's ``AdherenceDay`` rebuilt.

- ``adherence_agent_update``: one agent now (after their presence changed).
- ``adherence_sweep``: every agent on a published shift now, or with an open exception (every minute:
  the schedule moves on without any presence change — lunch starts at 12:00 whether or not the
  agent goes).
- ``adherence_days_rebuild``: one local day's figures for every agent with a published shift that day.

An exception opens when an agent has been out of adherence for ``CEA_ADHERENCE_EXCEPTION_MINUTES``
(from when the run out began) and closes when the run ends (at its end). Each agent's exceptions are
changed under a transaction-scoped advisory lock of that agent, so the sweep and a presence change's
task never open two.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cea.common.days import local_day_bounds
from cea.common.locks import transaction_lock
from engagement.routing.models import AgentProfile
from engagement.wfm.adherence.engine import OUT, OutRun, figures, out_runs, segments
from engagement.wfm.adherence.live import adherence_push_on_commit
from engagement.wfm.adherence.models import AdherenceDay, AdherenceException
from engagement.wfm.adherence.selectors import (
    AgentLive,
    live_json,
    live_states,
    published_shifts_between,
    timelines,
)

# The sweep looks at agents whose published shift ended up to this long ago, to close what their
# shift's end closed.
SWEEP_TAIL = timedelta(hours=1)


def exception_threshold() -> timedelta:
    return timedelta(minutes=settings.CEA_ADHERENCE_EXCEPTION_MINUTES)


def _lock_agent(agent_id: int) -> None:
    transaction_lock(f"wfm.adherence:{agent_id}")


def _run_holding(runs: list[OutRun], moment: datetime) -> OutRun | None:
    return next((run for run in runs if run.start <= moment < run.end), None)


def _exceptions_sync(*, row: AgentLive, now: datetime) -> tuple[int, int]:
    """Open or close the agent's exception for their live state; (opened, closed). Holds the agent's lock."""
    runs = out_runs(row.segments)
    current = runs[-1] if runs and runs[-1].end == now and row.state.status == OUT else None
    window_start = row.segments[0].start if row.segments else now
    opened = closed = 0
    still_open = False
    for exception in AdherenceException.objects.filter(agent_id=row.agent_id, ended_at__isnull=True):
        if current is not None and current.start <= max(exception.started_at, window_start):
            still_open = True
            continue
        run = _run_holding(runs, max(exception.started_at, window_start))
        exception.ended_at = max(exception.started_at, run.end if run is not None else now)
        exception.save(update_fields=["ended_at"])
        closed += 1
    if current is not None and not still_open and now - current.start >= exception_threshold():
        AdherenceException.objects.create(
            agent_id=row.agent_id,
            shift_id=current.shift_id,
            scheduled=current.scheduled,
            actual=current.actual[:60],
            started_at=current.start,
        )
        opened += 1
    return opened, closed


def _update(agents: Iterable[AgentProfile], *, now: datetime) -> dict[str, int]:
    """Read every agent's live row at once, then bring each one's exception up to date under its lock."""
    done = {"agents": 0, "opened": 0, "closed": 0}
    rows = []
    for row in live_states(agents=agents, now=now):
        _lock_agent(row.agent_id)
        opened, closed = _exceptions_sync(row=row, now=now)
        if opened or closed:
            still_open = AdherenceException.objects.filter(agent_id=row.agent_id, ended_at__isnull=True)
            row = replace(row, open_exception_id=still_open.values_list("pk", flat=True).first())
        rows.append(live_json(row))
        done["agents"] += 1
        done["opened"] += opened
        done["closed"] += closed
    adherence_push_on_commit(rows)
    return done


@transaction.atomic
def adherence_agent_update(*, agent_id: int, now: datetime | None = None) -> dict[str, int]:
    """Bring one agent's exception up to date with their state now and push their live row.
    An unknown agent: nothing (the task may run after the agent was deleted)."""
    agents = AgentProfile.objects.select_related("user").filter(pk=agent_id)
    return _update(agents, now=now or timezone.now())


@transaction.atomic
def adherence_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Every agent on a published shift now (or whose shift ended within the last hour) or with an open
    exception: exceptions opened and closed, rows pushed. Returns counts (agents, opened, closed)."""
    now = now or timezone.now()
    on_shift = published_shifts_between(start=now - SWEEP_TAIL, end=now).values("agent_id")
    with_open = AdherenceException.objects.filter(ended_at__isnull=True).values("agent_id")
    agents = (
        AgentProfile.objects.select_related("user")
        .filter(Q(pk__in=on_shift) | Q(pk__in=with_open))
        .order_by("pk")  # the locks, always in one order
    )
    return _update(agents, now=now)


@transaction.atomic
def adherence_days_rebuild(*, day: date, now: datetime | None = None) -> int:
    """Write ``AdherenceDay`` for every agent with a published shift on the local ``day`` (only up to
    ``now`` for today; nothing for a day not begun) and delete the day's rows of agents no longer
    scheduled. ``team_id`` is the team of the agent's schedule that day. Returns the rows written."""
    now = now or timezone.now()
    start, end = local_day_bounds(day)
    end = min(end, now)
    if end <= start:
        return 0
    teams: dict[int, int | None] = {}
    for shift in published_shifts_between(start=start, end=end).order_by("starts_at"):
        teams.setdefault(shift.agent_id, shift.schedule.team_id)
    lines = timelines(agent_ids=teams, start=start, end=end)
    minimum = exception_threshold()
    rows = []
    for agent_id, line in lines.items():
        pieces = segments(line.scheduled, line.presence, start=start, end=end)
        measured = figures(pieces)
        rows.append(
            AdherenceDay(
                agent_id=agent_id,
                day=day,
                team_id=teams[agent_id],
                scheduled_seconds=measured.scheduled_seconds,
                in_adherence_seconds=measured.in_adherence_seconds,
                scheduled_work_seconds=measured.scheduled_work_seconds,
                worked_seconds=measured.worked_seconds,
                exceptions=len(out_runs(pieces, minimum=minimum)),
            )
        )
    AdherenceDay.objects.filter(day=day).exclude(agent_id__in=list(teams)).delete()
    AdherenceDay.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["agent", "day"],
        update_fields=[
            "team_id",
            "scheduled_seconds",
            "in_adherence_seconds",
            "scheduled_work_seconds",
            "worked_seconds",
            "exceptions",
        ],
    )
    return len(rows)
