"""Generating and publishing a team's weekly schedule.

``schedule_generate`` reads what the solver needs (the team's planning queues and their requirements,
its agents with their contracts, skills and approved time off, the active shift templates), runs
``engagement.wfm.scheduling.solver`` and writes a draft ``Schedule`` with its shifts, activities and
coverage. ``schedule_publish`` makes a draft the team-week's published schedule, superseding the one
published before.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cea.accounts.models import Team
from cea.accounts.types import AnyUser
from cea.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from cea.common.locks import transaction_lock
from engagement.routing.models import AgentProfile, AgentSkill
from engagement.wfm.access import ROSTERED, require_planner, team_planned
from engagement.wfm.planning.models import PlanningQueue
from engagement.wfm.scheduling import solver
from engagement.wfm.scheduling.coverage import schedule_coverage_refresh, week_bounds
from engagement.wfm.scheduling.editing import schedule_changed_on_commit
from engagement.wfm.scheduling.models import (
    AgentContract,
    RequestStatus,
    Schedule,
    ScheduleStatus,
    Shift,
    ShiftActivity,
    ShiftTemplate,
    TimeOff,
)
from engagement.wfm.staffing.models import StaffingRequirement

logger = logging.getLogger(__name__)

MAX_TIME_LIMIT_SECONDS = 300
SOLVER_WORKERS = 2


def _contract(contract: AgentContract | None) -> solver.Contract:
    contract = contract or AgentContract()  # the model's defaults: 0–40 h, 5 days, 07:00–22:00, 11 h rest
    return solver.Contract(
        min_minutes=contract.min_hours_week * 60,
        max_minutes=contract.max_hours_week * 60,
        max_days=contract.max_days_week,
        weekdays=frozenset(contract.weekdays or ()),
        earliest_start=contract.earliest_start,
        latest_end=contract.latest_end,
        min_rest_hours=contract.min_rest_hours,
    )


def _team_queues(team: Team | None) -> list[PlanningQueue]:
    queues = PlanningQueue.objects.filter(is_active=True)
    return list(queues.filter(team__isnull=True) if team is None else queues.filter(team=team))


def team_agents(team: Team | None) -> list[AgentProfile]:
    """The agents a team's schedule plans: active users of the team with a rostered role (agents and
    supervisors) who have a routing profile (no team: those of no team)."""
    agents = AgentProfile.objects.select_related("user", "contract").filter(
        user__role__in=ROSTERED, user__is_active=True
    )
    agents = agents.filter(user__teams__isnull=True) if team is None else agents.filter(user__teams=team)
    return list(agents.distinct().order_by("user__username"))


def _agents(
    agents: list[AgentProfile], queues: list[PlanningQueue], start: dt.datetime, end: dt.datetime
) -> tuple[solver.Agent, ...]:
    skills: dict[int, set[int]] = {}
    for agent_id, skill_id in AgentSkill.objects.filter(agent__in=agents).values_list("agent_id", "skill_id"):
        skills.setdefault(agent_id, set()).add(skill_id)
    time_off: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {}
    approved = TimeOff.objects.filter(
        agent__in=agents, status=RequestStatus.APPROVED, starts_at__lt=end, ends_at__gt=start
    ).values_list("agent_id", "starts_at", "ends_at")
    for agent_id, starts_at, ends_at in approved:
        time_off.setdefault(agent_id, []).append((starts_at, ends_at))
    return tuple(
        solver.Agent(
            id=agent.pk,
            contract=_contract(getattr(agent, "contract", None)),
            queues=frozenset(
                queue.pk for queue in queues if queue.skill_id is None or queue.skill_id in skills.get(agent.pk, ())
            ),
            time_off=tuple(time_off.get(agent.pk, ())),
            name=agent.user.get_full_name() or agent.user.username,
        )
        for agent in agents
    )


def _templates() -> tuple[solver.Template, ...]:
    return tuple(
        solver.Template(
            id=template.pk,
            length_minutes=template.length_minutes,
            earliest_start=template.earliest_start,
            latest_start=template.latest_start,
            start_step_minutes=template.start_step_minutes,
            breaks=tuple(
                solver.Break(
                    kind=str(one.get("kind", "break")),
                    minutes=int(one.get("minutes", 15)),
                    after_minutes=int(one.get("after_minutes", 0)),
                    spread_minutes=int(one.get("spread_minutes", 0)),
                )
                for one in template.breaks or ()
            ),
            name=template.label or template.name,
        )
        for template in ShiftTemplate.objects.filter(is_active=True).order_by("name")
    )


def team_of(team_id: int | None) -> Team | None:
    """The team with ``team_id`` (``None``: no team); unknown ``NotFound``."""
    if team_id is None:
        return None
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise NotFound(f"No team with id {team_id}.")
    return team


def schedule_problem(*, team: Team | None, week_start: dt.date, time_limit_seconds: float = 60) -> solver.Problem:
    """The solver's input for ``team``'s week starting ``week_start`` (a Monday, local)."""
    start, end = week_bounds(week_start)
    queues = _team_queues(team)
    required: dict[int, dict[dt.datetime, float]] = {queue.pk: {} for queue in queues}
    rows = StaffingRequirement.objects.filter(
        planning_queue__in=queues, interval_start__gte=start, interval_start__lt=end
    )
    for queue_id, interval_start, agents in rows.values_list(
        "planning_queue_id", "interval_start", "agents_with_shrinkage"
    ):
        required[queue_id][interval_start] = agents
    return solver.Problem(
        week_start=week_start,
        time_zone=settings.TIME_ZONE,
        agents=_agents(team_agents(team), queues, start, end),
        templates=_templates(),
        queues=tuple(
            solver.Queue(queue.pk, queue.interval_minutes, required[queue.pk], str(queue)) for queue in queues
        ),
        time_limit_seconds=time_limit_seconds,
        num_workers=SOLVER_WORKERS,
    )


def _validate(*, user: AnyUser, team: Team | None, week_start: object, time_limit_seconds: object) -> None:
    require_planner(user)
    if not team_planned(user, team.pk if team is not None else None):
        raise PermissionDenied("You do not plan this team's schedules.")
    fields = {}
    if not isinstance(week_start, dt.date) or week_start.weekday() != 0:
        fields["week_start"] = ["A week starts on a Monday."]
    if not isinstance(time_limit_seconds, int | float) or not 1 <= time_limit_seconds <= MAX_TIME_LIMIT_SECONDS:
        fields["time_limit_seconds"] = [f"Between 1 and {MAX_TIME_LIMIT_SECONDS} seconds."]
    if fields:
        raise ValidationFailed("The schedule cannot be generated.", fields=fields)


def _write(schedule: Schedule, solution: solver.Solution) -> None:
    shifts = Shift.objects.bulk_create(
        [
            Shift(
                schedule=schedule,
                agent_id=planned.agent_id,
                template_id=planned.template_id,
                starts_at=planned.starts_at,
                ends_at=planned.ends_at,
            )
            for planned in solution.shifts
        ],
        batch_size=1000,
    )
    ShiftActivity.objects.bulk_create(
        [
            ShiftActivity(
                shift=shift,
                kind=activity.kind,
                planning_queue_id=activity.queue_id,
                starts_at=activity.starts_at,
                ends_at=activity.ends_at,
            )
            for shift, planned in zip(shifts, solution.shifts, strict=True)
            for activity in planned.activities
        ],
        batch_size=2000,
    )


def schedule_generate(
    *, user: AnyUser, team: Team | None, week_start: dt.date, time_limit_seconds: float = 60
) -> Schedule:
    """A new draft schedule of ``team`` for the week from ``week_start`` (a Monday), as the solver makes it
    within ``time_limit_seconds`` (1–300), with its coverage. Never refused for want of a solution:
    what it cannot cover is in the coverage and the notes.

    Planners only (``PermissionDenied``), for a team they plan; a bad week or limit ``ValidationFailed``.
    The solver runs outside any transaction; the rows are written in one.
    """
    _validate(user=user, team=team, week_start=week_start, time_limit_seconds=time_limit_seconds)
    problem = schedule_problem(team=team, week_start=week_start, time_limit_seconds=time_limit_seconds)
    solution = solver.solve(problem)
    unmet_hours = solution.under_agent_minutes / 60
    notes = list(solution.notes)
    if unmet_hours:
        notes.append(
            f"{unmet_hours:.1f} agent-hours of requirement are not covered ({solution.coverage_percent:g} % covered)."
        )
    with transaction.atomic():
        schedule = Schedule.objects.create(
            team=team,
            week_start=week_start,
            created_by=user if user.is_authenticated else None,
            solver_status=solution.status,
            solve_seconds=solution.solve_seconds,
            time_limit_seconds=round(time_limit_seconds),
            notes=notes,
        )
        _write(schedule, solution)
        schedule_coverage_refresh(schedule=schedule)
    return schedule


def schedule_publish(*, user: AnyUser, schedule: Schedule) -> Schedule:
    """Publish a draft ``schedule``: the one published before for its team and week is superseded.

    Planners of its team only (``PermissionDenied``); anything but a draft ``Conflict``. Locks the
    team-week's published schedule (``select_for_update``) so two publishes cannot both win.
    """
    require_planner(user)
    if not team_planned(user, schedule.team_id):
        raise PermissionDenied("This schedule belongs to a team you do not supervise.")
    with transaction.atomic():
        # One publish of a team-week at a time, the first one too (when there is no published row to lock;
        # a schedule of no team is not covered by the unique index either).
        transaction_lock(f"wfm.publish:{schedule.team_id}:{schedule.week_start}")
        locked = Schedule.objects.select_for_update().get(pk=schedule.pk)
        if locked.status != ScheduleStatus.DRAFT:
            raise Conflict(f"Only a draft is published; this schedule is {locked.get_status_display().lower()}.")
        same_week = Schedule.objects.select_for_update().filter(
            week_start=locked.week_start, status=ScheduleStatus.PUBLISHED
        )
        same_week = (
            same_week.filter(team__isnull=True) if locked.team_id is None else same_week.filter(team=locked.team_id)
        )
        told = set(Shift.objects.filter(schedule__in=same_week).values_list("agent__user_id", flat=True))
        told |= set(Shift.objects.filter(schedule=locked).values_list("agent__user_id", flat=True))
        same_week.update(status=ScheduleStatus.SUPERSEDED, updated_at=timezone.now())
        locked.status = ScheduleStatus.PUBLISHED
        locked.published_at = timezone.now()
        locked.published_by = user if user.is_authenticated else None
        locked.save(update_fields=["status", "published_at", "published_by", "updated_at"])
        schedule_id = locked.pk
        transaction.on_commit(lambda: logger.info("Schedule %s published", schedule_id))
        for user_id in sorted(told):  # their desks' schedule panels reload
            schedule_changed_on_commit(user_id=user_id, what="schedule")
    return locked
