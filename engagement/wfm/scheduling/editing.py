"""A planner's edits of a schedule's shifts, and the checks every change of shifts shares (edits, swaps,
time off approved).

A shift is refused (``ValidationFailed``, nothing written) when it is not inside its schedule's week,
overlaps another shift of the agent, collides with the agent's approved time off, or its activities do
not tile it (each starting where the previous ended, from the shift's start to its end; a queue only on
contacts, and only one of the schedule's team). A breach of the agent's contract (window, weekdays,
hours and days a week, rest between shifts) is a warning, not a refusal: the planner decides.

Every change rewrites the schedule's coverage (``coverage.schedule_coverage_refresh``) and, when the
schedule is published, tells the agent's desk after commit (``schedule.changed`` on ``agent.<user id>``).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from cea.accounts.models import User
from cea.accounts.types import AnyUser
from cea.common.errors import PermissionDenied, ValidationFailed
from cea.common.live import push_on_commit
from engagement.routing.live import agent_group
from engagement.routing.models import AgentProfile, AgentSkill
from engagement.wfm.access import access_planned_agent, access_schedule, team_planned
from engagement.wfm.planning.models import PlanningQueue
from engagement.wfm.scheduling.coverage import schedule_coverage_refresh, week_bounds
from engagement.wfm.scheduling.models import (
    ActivityKind,
    AgentContract,
    RequestStatus,
    Schedule,
    ScheduleStatus,
    Shift,
    ShiftActivity,
    TimeOff,
)

MAX_SHIFT_HOURS = 16
LIVE_STATUSES = (ScheduleStatus.DRAFT, ScheduleStatus.PUBLISHED)  # superseded schedules are history


@dataclass(frozen=True)
class ActivityPlan:
    """One activity as a planner (or a form) gives it: what, when, on which planning queue (contacts only)."""

    kind: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    planning_queue_id: int | None = None


@dataclass
class ShiftEdit:
    """A shift as saved, with the contract's warnings it raised."""

    shift: Shift
    warnings: list[str] = field(default_factory=list)


def local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment, ZoneInfo(settings.TIME_ZONE))


# --- Pushes ---------------------------------------------------------------------------------------


def schedule_changed_on_commit(*, user_id: int, what: str) -> None:
    """After commit, tell the agent's desk that their schedule or one of their requests changed."""
    push_on_commit(agent_group(user_id), {"type": "schedule.changed", "what": what})


def _tell_agents(agents: Iterable[AgentProfile], schedule: Schedule) -> None:
    if schedule.status == ScheduleStatus.PUBLISHED:
        for user_id in sorted({agent.user_id for agent in agents}):
            schedule_changed_on_commit(user_id=user_id, what="schedule")


# --- Checks ---------------------------------------------------------------------------------------


def tiling_problems(starts_at: dt.datetime, ends_at: dt.datetime, activities: Sequence[ActivityPlan]) -> list[str]:
    """What is wrong with ``activities`` as the tiling of the shift ``[starts_at, ends_at)`` (empty: nothing)."""
    if not activities:
        return ["A shift needs at least one activity."]
    problems, edge = [], starts_at
    for activity in sorted(activities, key=lambda plan: plan.starts_at):
        if activity.kind not in ActivityKind.values:
            problems.append(f"Unknown activity {activity.kind!r}.")
        if activity.ends_at <= activity.starts_at:
            problems.append(f"An activity ends before it starts ({local(activity.starts_at):%H:%M}).")
        if activity.starts_at != edge:
            problems.append(f"Activities must follow each other without gaps or overlaps (at {local(edge):%H:%M}).")
        if activity.planning_queue_id is not None and activity.kind != ActivityKind.WORK:
            problems.append("Only contacts are on a planning queue.")
        edge = max(edge, activity.ends_at)
    if edge != ends_at:
        problems.append("The activities must end when the shift ends.")
    return problems


def _queue_problems(schedule: Schedule, activities: Sequence[ActivityPlan]) -> list[str]:
    wanted = {plan.planning_queue_id for plan in activities if plan.planning_queue_id is not None}
    if not wanted:
        return []
    found = set(team_queues(schedule.team_id).filter(pk__in=wanted).values_list("pk", flat=True))
    return [f"Planning queue {pk} is not one of this team's." for pk in sorted(wanted - found)]


def team_queues(team_id: int | None) -> QuerySet[PlanningQueue]:
    """The active planning queues of a team (``None``: those of no team)."""
    queues = PlanningQueue.objects.filter(is_active=True)
    return queues.filter(team__isnull=True) if team_id is None else queues.filter(team_id=team_id)


def signed_in(user: AnyUser) -> User:
    """``user`` as a signed-in ``User`` (the access checks have refused anyone else)."""
    if not isinstance(user, User):
        raise PermissionDenied("Sign in first.", code="not_authenticated")
    return user


def overlapping_shifts(
    agent: AgentProfile, starts_at: dt.datetime, ends_at: dt.datetime, *, schedule: Schedule, excluding: Iterable[int]
) -> list[Shift]:
    """The agent's other shifts overlapping ``[starts_at, ends_at)``: in the same schedule, or in another
    team's published one (a draft and the published schedule of the same week are alternatives, not both)."""
    where = Q(schedule=schedule) | Q(schedule__status=ScheduleStatus.PUBLISHED) & ~Q(schedule__team_id=schedule.team_id)
    return list(
        Shift.objects.filter(where, agent=agent, starts_at__lt=ends_at, ends_at__gt=starts_at).exclude(
            pk__in=list(excluding)
        )
    )


def approved_time_off(agent: AgentProfile, starts_at: dt.datetime, ends_at: dt.datetime) -> list[TimeOff]:
    return list(
        TimeOff.objects.filter(agent=agent, status=RequestStatus.APPROVED, starts_at__lt=ends_at, ends_at__gt=starts_at)
    )


def shift_problems(
    *, schedule: Schedule, agent: AgentProfile, starts_at: dt.datetime, ends_at: dt.datetime, excluding: Iterable[int]
) -> dict[str, list[str]]:
    """The refusals a shift of ``agent`` at ``[starts_at, ends_at)`` in ``schedule`` meets, by field."""
    week_start, week_end = week_bounds(schedule.week_start)
    problems: dict[str, list[str]] = {}
    if ends_at <= starts_at:
        problems.setdefault("ends_at", []).append("The shift must end after it starts.")
    elif ends_at - starts_at > dt.timedelta(hours=MAX_SHIFT_HOURS):
        problems.setdefault("ends_at", []).append(f"A shift is at most {MAX_SHIFT_HOURS} hours.")
    if starts_at < week_start or starts_at >= week_end:
        problems.setdefault("starts_at", []).append(f"The shift must start in the week of {schedule.week_start}.")
    for other in overlapping_shifts(agent, starts_at, ends_at, schedule=schedule, excluding=excluding):
        problems.setdefault("starts_at", []).append(
            f"It overlaps the agent's shift of {local(other.starts_at):%a %d %b %H:%M}–{local(other.ends_at):%H:%M}."
        )
    for absence in approved_time_off(agent, starts_at, ends_at):
        problems.setdefault("starts_at", []).append(
            f"The agent has approved time off from {local(absence.starts_at):%a %d %b %H:%M}."
        )
    return problems


def contract_of(agent: AgentProfile) -> AgentContract:
    """The agent's contract, or the default one (unsaved) when they have none."""
    return AgentContract.objects.filter(agent=agent).first() or AgentContract(agent=agent)


def contract_warnings(agent: AgentProfile, shifts: Sequence[tuple[dt.datetime, dt.datetime]]) -> list[str]:
    """How the agent's shifts of a week (``(start, end)`` pairs) breach their contract, in words."""
    contract = contract_of(agent)
    warnings: list[str] = []
    ordered = sorted(shifts)
    for starts_at, ends_at in ordered:
        start, end = local(starts_at), local(ends_at)
        label = f"{start:%a %d %b}"
        if start.time() < contract.earliest_start:
            warnings.append(f"{label}: starts at {start:%H:%M}, before the contract's {contract.earliest_start:%H:%M}.")
        day_start = dt.datetime.combine(start.date(), dt.time(), tzinfo=start.tzinfo)
        latest = dt.datetime.combine(start.date(), contract.latest_end, tzinfo=start.tzinfo)
        if contract.latest_end == dt.time():  # 00:00 is the end of the day, as the solver reads it
            latest += dt.timedelta(days=1)
        if end - day_start > latest - day_start:
            warnings.append(f"{label}: ends at {end:%H:%M}, after the contract's {contract.latest_end:%H:%M}.")
        if contract.weekdays and start.weekday() not in contract.weekdays:
            warnings.append(f"{label}: not one of the contract's working days.")
    hours = sum((end - start).total_seconds() for start, end in ordered) / 3600
    if hours > contract.max_hours_week:
        warnings.append(f"{hours:g} hours this week, above the contract's {contract.max_hours_week}.")
    days = len({local(start).date() for start, _ in ordered})
    if days > contract.max_days_week:
        warnings.append(f"{days} days this week, above the contract's {contract.max_days_week}.")
    for (_, previous_end), (next_start, _) in itertools.pairwise(ordered):
        rest = (next_start - previous_end).total_seconds() / 3600
        if rest < contract.min_rest_hours:
            warnings.append(
                f"{local(next_start):%a %d %b}: {rest:g} hours of rest before it, under the contract's "
                f"{contract.min_rest_hours}."
            )
    return warnings


def skill_warnings(agent: AgentProfile, shift: Shift) -> list[str]:
    """The planning queues of ``shift``'s contacts that need a skill ``agent`` does not have."""
    needed = {
        activity.planning_queue.skill_id: str(activity.planning_queue)
        for activity in shift.activities.select_related("planning_queue")
        if activity.planning_queue is not None and activity.planning_queue.skill_id is not None
    }
    held = set(AgentSkill.objects.filter(agent=agent, skill_id__in=needed).values_list("skill_id", flat=True))
    return [f"{agent.user} lacks the skill {queue} needs." for skill, queue in needed.items() if skill not in held]


def week_shifts(agent: AgentProfile, schedule: Schedule) -> list[tuple[dt.datetime, dt.datetime]]:
    return list(Shift.objects.filter(schedule=schedule, agent=agent).values_list("starts_at", "ends_at"))


# --- Edits ----------------------------------------------------------------------------------------


def _editable(planner: AnyUser, schedule: Schedule, agent: AgentProfile) -> None:
    access_schedule(planner, schedule.pk, change=True)
    access_planned_agent(planner, agent.pk)
    if schedule.status not in LIVE_STATUSES:
        raise ValidationFailed("A superseded schedule is history: edit the published one.", code="superseded")
    if schedule.team_id is not None and not agent.user.teams.filter(pk=schedule.team_id).exists():
        raise ValidationFailed("The agent is not in this schedule's team.", fields={"agent": "Not in the team."})


def _validated(
    *,
    schedule: Schedule,
    agent: AgentProfile,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    activities: Sequence[ActivityPlan],
    excluding: Iterable[int] = (),
) -> None:
    problems = shift_problems(schedule=schedule, agent=agent, starts_at=starts_at, ends_at=ends_at, excluding=excluding)
    tiling = tiling_problems(starts_at, ends_at, activities) + _queue_problems(schedule, activities)
    if tiling:
        problems["activities"] = tiling
    if problems:
        raise ValidationFailed("The shift cannot be saved as it is.", fields=problems)


def _write_activities(shift: Shift, activities: Sequence[ActivityPlan]) -> None:
    shift.activities.all().delete()
    ShiftActivity.objects.bulk_create(
        ShiftActivity(
            shift=shift,
            kind=plan.kind,
            planning_queue_id=plan.planning_queue_id,
            starts_at=plan.starts_at,
            ends_at=plan.ends_at,
        )
        for plan in sorted(activities, key=lambda plan: plan.starts_at)
    )


def _after_edit(planner: AnyUser, shift: Shift) -> ShiftEdit:
    schedule_coverage_refresh(schedule=shift.schedule)
    _tell_agents([shift.agent], shift.schedule)
    warnings = contract_warnings(shift.agent, week_shifts(shift.agent, shift.schedule))
    return ShiftEdit(shift=shift, warnings=warnings + skill_warnings(shift.agent, shift))


def default_activities(
    starts_at: dt.datetime, ends_at: dt.datetime, planning_queue_id: int | None
) -> list[ActivityPlan]:
    """Contacts for the whole shift (on ``planning_queue_id``, or any of the agent's queues)."""
    return [ActivityPlan(ActivityKind.WORK, starts_at, ends_at, planning_queue_id)]


def activities_with_breaks(
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    planning_queue_id: int | None,
    breaks: Sequence[tuple[str, dt.datetime, int]],
) -> list[ActivityPlan]:
    """Contacts on ``planning_queue_id`` around ``breaks`` (``(kind, start, minutes)``), as a form gives them;
    a break outside the shift or overlapping another makes a tiling the service refuses."""
    plans, edge = [], starts_at
    for kind, start, minutes in sorted(breaks, key=lambda item: item[1]):
        if start > edge:
            plans.append(ActivityPlan(ActivityKind.WORK, edge, start, planning_queue_id))
        plans.append(ActivityPlan(kind, start, start + dt.timedelta(minutes=minutes)))
        edge = max(edge, start + dt.timedelta(minutes=minutes))
    if edge < ends_at or not plans:
        plans.append(ActivityPlan(ActivityKind.WORK, edge, ends_at, planning_queue_id))
    return plans


@transaction.atomic
def shift_create(
    *,
    planner: AnyUser,
    schedule: Schedule,
    agent: AgentProfile,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    activities: Sequence[ActivityPlan] | None = None,
) -> ShiftEdit:
    """Add a shift for ``agent`` to ``schedule`` (activities: contacts throughout when not given)."""
    _editable(planner, schedule, agent)
    Schedule.objects.select_for_update().filter(pk=schedule.pk).first()  # one edit of a schedule at a time
    plans = list(activities) if activities is not None else default_activities(starts_at, ends_at, None)
    _validated(schedule=schedule, agent=agent, starts_at=starts_at, ends_at=ends_at, activities=plans)
    shift = Shift.objects.create(
        schedule=schedule,
        agent=agent,
        starts_at=starts_at,
        ends_at=ends_at,
        edited_by=signed_in(planner),
        edited_at=timezone.now(),
    )
    _write_activities(shift, plans)
    return _after_edit(planner, shift)


@transaction.atomic
def shift_update(
    *,
    planner: AnyUser,
    shift: Shift,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    activities: Sequence[ActivityPlan] | None = None,
) -> ShiftEdit:
    """Move or reshape ``shift``; without ``activities`` its activities are clipped to the new times and
    the gaps filled with contacts on the queue it worked most."""
    schedule = shift.schedule
    _editable(planner, schedule, shift.agent)
    Schedule.objects.select_for_update().filter(pk=schedule.pk).first()
    plans = list(activities) if activities is not None else reshaped_activities(shift, starts_at, ends_at)
    _validated(
        schedule=schedule,
        agent=shift.agent,
        starts_at=starts_at,
        ends_at=ends_at,
        activities=plans,
        excluding=[shift.pk],
    )
    shift.starts_at, shift.ends_at = starts_at, ends_at
    shift.edited_by, shift.edited_at = signed_in(planner), timezone.now()
    shift.save(update_fields=["starts_at", "ends_at", "edited_by", "edited_at"])
    _write_activities(shift, plans)
    return _after_edit(planner, shift)


@transaction.atomic
def shift_delete(*, planner: AnyUser, shift: Shift) -> None:
    """Remove ``shift`` from its schedule (open swap requests of it go with it)."""
    schedule = shift.schedule
    _editable(planner, schedule, shift.agent)
    Schedule.objects.select_for_update().filter(pk=schedule.pk).first()
    agent = shift.agent
    shift.delete()
    schedule_coverage_refresh(schedule=schedule)
    _tell_agents([agent], schedule)


def reshaped_activities(shift: Shift, starts_at: dt.datetime, ends_at: dt.datetime) -> list[ActivityPlan]:
    """``shift``'s activities clipped to ``[starts_at, ends_at)``, gaps filled with contacts on its main queue."""
    existing = list(shift.activities.all())
    main = _main_queue(existing)
    plans, edge = [], starts_at
    for activity in existing:
        start, end = max(activity.starts_at, starts_at), min(activity.ends_at, ends_at)
        if end <= start:
            continue
        if start > edge:
            plans.append(ActivityPlan(ActivityKind.WORK, edge, start, main))
        plans.append(ActivityPlan(activity.kind, start, end, activity.planning_queue_id))
        edge = end
    if edge < ends_at:
        plans.append(ActivityPlan(ActivityKind.WORK, edge, ends_at, main))
    return plans


def _main_queue(activities: Sequence[ShiftActivity]) -> int | None:
    minutes: dict[int | None, float] = {}
    for activity in activities:
        if activity.kind == ActivityKind.WORK:
            seconds = (activity.ends_at - activity.starts_at).total_seconds()
            minutes[activity.planning_queue_id] = minutes.get(activity.planning_queue_id, 0) + seconds
    return max(minutes, key=lambda pk: minutes[pk]) if minutes else None


# --- Time off cuts shifts -------------------------------------------------------------------------


def _cut(shift: Shift, starts_at: dt.datetime, ends_at: dt.datetime) -> None:
    """Take ``[starts_at, ends_at)`` out of ``shift``: shortened, split in two, or removed."""
    before = (shift.starts_at, min(shift.ends_at, starts_at)) if shift.starts_at < starts_at else None
    after = (max(shift.starts_at, ends_at), shift.ends_at) if shift.ends_at > ends_at else None
    if before is None and after is None:
        shift.delete()
        return
    if after is not None:
        tail = Shift.objects.create(
            schedule=shift.schedule,
            agent=shift.agent,
            template=shift.template,
            starts_at=after[0],
            ends_at=after[1],
            edited_at=timezone.now(),
        )
        _write_activities(tail, reshaped_activities(shift, *after))
    if before is None:
        shift.delete()
        return
    _write_activities(shift, reshaped_activities(shift, *before))
    shift.ends_at, shift.edited_at = before[1], timezone.now()
    shift.save(update_fields=["ends_at", "edited_at"])


def shifts_clear_for_time_off(
    *, planner: AnyUser, agent: AgentProfile, starts_at: dt.datetime, ends_at: dt.datetime
) -> list[Schedule]:
    """Trim or remove the agent's shifts (in draft and published schedules) that overlap approved time
    off ``[starts_at, ends_at)``, from now on (what was worked stays as it was); rewrite the coverage of
    the schedules touched, which it returns. ``PermissionDenied`` if one of those schedules is a team's
    that ``planner`` does not plan (an agent of two teams: each team's planner keeps their schedule)."""
    starts_at = max(starts_at, timezone.now())
    shifts = list(
        Shift.objects.select_related("schedule", "schedule__team")
        .select_for_update(of=("self",))
        .filter(agent=agent, schedule__status__in=LIVE_STATUSES, starts_at__lt=ends_at, ends_at__gt=starts_at)
    )
    for shift in shifts:
        if not team_planned(planner, shift.schedule.team_id):
            team = shift.schedule.team.name if shift.schedule.team else "no team"
            raise PermissionDenied(
                f"This time off overlaps a shift in {team}'s schedule, which you do not plan: its planner decides it.",
                code="other_teams_schedule",
            )
    touched = {shift.schedule_id: shift.schedule for shift in shifts}
    for shift in shifts:
        _cut(shift, starts_at, ends_at)
    for schedule in touched.values():
        schedule_coverage_refresh(schedule=schedule)
        _tell_agents([agent], schedule)
    return sorted(touched.values(), key=lambda schedule: schedule.pk)
