"""Check, then do, for workforce management: every interface of engagement/wfm fetches through here.

- **Planning figures** (planning queues, forecasts, requirements, schedules, coverage, adherence) are
  read by supervisors (their teams'), admins and integration clients (all); agents are refused.
  A planning queue with no team is read only by those who see every team.
- **Planning changes** (adjusting a forecast, generating, editing and publishing a schedule, deciding
  a swap or time off) are for supervisors, on their teams, and admins (``require_planner``).
- **An agent's own schedule** (their shifts, their swap and time-off requests) is theirs: they read
  only what is published, and ask only for themselves (``access_own_shift``).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from cea.accounts.types import AnyUser
from cea.common.errors import NotFound, PermissionDenied
from cea.common.roles import Role, can_supervise, role_of, sees_everything, team_ids_of
from engagement.routing.models import AgentProfile
from engagement.wfm.forecasting.models import SpecialDay
from engagement.wfm.planning.models import PlanningQueue
from engagement.wfm.scheduling.models import Schedule, ScheduleStatus, Shift, SwapRequest, TimeOff
from records.access import require_signed_in, row_id

READERS = (Role.SUPERVISOR, Role.ADMIN, Role.INTEGRATION)
ROSTERED = (Role.AGENT, Role.SUPERVISOR)  # who has shifts: the roles the router offers work to


def require_wfm_reader(user: AnyUser) -> None:
    """Supervisors, admins and integration clients read planning figures; anyone else ``PermissionDenied``."""
    require_signed_in(user)
    if role_of(user) not in READERS:
        raise PermissionDenied("Workforce planning is for supervisors and administrators.", code="not_a_planner")


def require_planner(user: AnyUser) -> None:
    """Supervisors and admins change plans; integration clients and agents ``PermissionDenied``."""
    require_signed_in(user)
    if not can_supervise(user):
        raise PermissionDenied("Only supervisors and administrators change plans.", code="not_a_planner")


def require_rostered(user: AnyUser) -> None:
    """Agents and supervisors have shifts of their own; anyone else ``PermissionDenied``."""
    require_signed_in(user)
    if role_of(user) not in ROSTERED:
        raise PermissionDenied("Schedules are for agents and supervisors.", code="not_an_agent")


# --- Planning queues ----------------------------------------------------------------------------


def planning_queues_visible_to(user: AnyUser) -> QuerySet[PlanningQueue]:
    """All for admins and clients; a supervisor's teams' queues; refused for anyone else."""
    require_wfm_reader(user)
    queues = PlanningQueue.objects.select_related("team", "skill")
    if sees_everything(user):
        return queues
    return queues.filter(team_id__in=team_ids_of(user))


def access_planning_queue(user: AnyUser, planning_queue_id: object) -> PlanningQueue:
    """The planning queue if ``user`` reads it: unknown ``NotFound``, another team's ``PermissionDenied``."""
    require_wfm_reader(user)
    pk = row_id(planning_queue_id)
    queue = PlanningQueue.objects.select_related("team", "skill").filter(pk=pk).first() if pk is not None else None
    if queue is None:
        raise NotFound(f"No planning queue with id {planning_queue_id}.")
    if not planning_queues_visible_to(user).filter(pk=queue.pk).exists():
        raise PermissionDenied("This planning queue belongs to a team you do not supervise.")
    return queue


def access_planned_queue(user: AnyUser, planning_queue_id: object) -> PlanningQueue:
    """As ``access_planning_queue``, for a change: ``user`` must be a planner too."""
    require_planner(user)
    return access_planning_queue(user, planning_queue_id)


# --- Agents and teams -----------------------------------------------------------------------------


def agents_planned_by(user: AnyUser) -> QuerySet[AgentProfile]:
    """The agents (and supervisors) whose schedules ``user`` reads: all for admins and clients, the members
    of a supervisor's teams; refused for anyone else."""
    require_wfm_reader(user)
    agents = AgentProfile.objects.select_related("user").filter(user__role__in=ROSTERED, user__is_active=True)
    if sees_everything(user):
        return agents
    return agents.filter(user__teams__in=team_ids_of(user)).distinct()


def access_planned_agent(user: AnyUser, agent_profile_id: object) -> AgentProfile:
    """An agent's profile for a planner's change: unknown ``NotFound``, another team's ``PermissionDenied``."""
    require_planner(user)
    pk = row_id(agent_profile_id)
    agent = (
        AgentProfile.objects.select_related("user").filter(pk=pk, user__role__in=ROSTERED).first()
        if pk is not None
        else None
    )
    if agent is None:
        raise NotFound(f"No agent with id {agent_profile_id}.")
    if not agents_planned_by(user).filter(pk=agent.pk).exists():
        raise PermissionDenied("This agent is not in a team you supervise.")
    return agent


def team_planned(user: AnyUser, team_id: int | None) -> bool:
    """Whether ``user`` reads the plans of ``team_id`` (``None``: the plans of no team, for those who see all)."""
    if role_of(user) not in READERS:
        return False
    if sees_everything(user):
        return True
    return team_id is not None and team_id in team_ids_of(user)


# --- Schedules and shifts -------------------------------------------------------------------------


def schedules_visible_to(user: AnyUser) -> QuerySet[Schedule]:
    """Schedules ``user`` reads as a planner: all for admins and clients, a supervisor's teams'."""
    require_wfm_reader(user)
    schedules = Schedule.objects.select_related("team")
    if sees_everything(user):
        return schedules
    return schedules.filter(team_id__in=team_ids_of(user))


def access_schedule(user: AnyUser, schedule_id: object, *, change: bool = False) -> Schedule:
    """A schedule ``user`` reads (``change``: and changes).

    Unknown: ``NotFound``; another team's: ``PermissionDenied``.
    """
    if change:
        require_planner(user)
    require_wfm_reader(user)
    pk = row_id(schedule_id)
    schedule = Schedule.objects.select_related("team").filter(pk=pk).first() if pk is not None else None
    if schedule is None:
        raise NotFound(f"No schedule with id {schedule_id}.")
    if not team_planned(user, schedule.team_id):
        raise PermissionDenied("This schedule belongs to a team you do not supervise.")
    return schedule


def own_published_shifts(user: AnyUser) -> QuerySet[Shift]:
    """The published shifts of the signed-in agent or supervisor."""
    require_rostered(user)
    published = Shift.objects.filter(schedule__status=ScheduleStatus.PUBLISHED)
    return published.filter(agent__user_id=int(user.pk or 0)).select_related("schedule", "template")


def access_own_shift(user: AnyUser, shift_id: object) -> Shift:
    """One of the user's own published shifts; anyone else's (or unknown, or unpublished) ``NotFound``."""
    pk = row_id(shift_id)
    shift = own_published_shifts(user).filter(pk=pk).first() if pk is not None else None
    if shift is None:
        raise NotFound(f"No shift of yours with id {shift_id}.")
    return shift


def access_planned_shift(user: AnyUser, shift_id: object) -> Shift:
    """A shift for a planner's edit: unknown ``NotFound``, another team's schedule ``PermissionDenied``."""
    require_planner(user)
    pk = row_id(shift_id)
    shift = Shift.objects.select_related("schedule", "agent__user").filter(pk=pk).first() if pk is not None else None
    if shift is None:
        raise NotFound(f"No shift with id {shift_id}.")
    access_schedule(user, shift.schedule_id, change=True)
    return shift


# --- Time off and swaps (issue 15, part D) --------------------------------------------------------


def time_off_visible_to(user: AnyUser) -> QuerySet[TimeOff]:
    """An agent's own time off; a planner's (or client's) agents' too. Anyone else ``PermissionDenied``."""
    require_signed_in(user)
    if role_of(user) not in READERS:
        require_rostered(user)
    match = Q(agent__user_id=int(user.pk or 0))
    if role_of(user) in READERS:
        match |= Q(agent__in=agents_planned_by(user))
    return TimeOff.objects.filter(match).select_related("agent__user").distinct()


def access_time_off(user: AnyUser, time_off_id: object) -> TimeOff:
    """Time off ``user`` reads: unknown (or a colleague's, for an agent) ``NotFound``; another team's
    (for a planner) ``PermissionDenied``."""
    pk = row_id(time_off_id)
    visible = time_off_visible_to(user)
    found = visible.filter(pk=pk).first() if pk is not None else None
    if found is not None:
        return found
    if pk is not None and role_of(user) in READERS and TimeOff.objects.filter(pk=pk).exists():
        raise PermissionDenied("This time off is of an agent in a team you do not supervise.")
    raise NotFound(f"No time off with id {time_off_id}.")


def swaps_visible_to(user: AnyUser) -> QuerySet[SwapRequest]:
    """Swaps ``user`` asked for or is asked; a planner's (or client's) teams' too."""
    require_signed_in(user)
    if role_of(user) not in READERS:
        require_rostered(user)
    own = int(user.pk or 0)
    match = Q(requester__user_id=own) | Q(counterpart__user_id=own)
    if role_of(user) in READERS:
        match = Q() if sees_everything(user) else match | Q(shift__schedule__team_id__in=team_ids_of(user))
    return SwapRequest.objects.filter(match).select_related(
        "requester__user", "counterpart__user", "shift__schedule", "counterpart_shift"
    )


def access_swap(user: AnyUser, swap_id: object) -> SwapRequest:
    """A swap ``user`` reads: unknown (or not theirs, for an agent) ``NotFound``; another team's (for a
    planner) ``PermissionDenied``."""
    pk = row_id(swap_id)
    found = swaps_visible_to(user).filter(pk=pk).first() if pk is not None else None
    if found is not None:
        return found
    if pk is not None and role_of(user) in READERS and SwapRequest.objects.filter(pk=pk).exists():
        raise PermissionDenied("This swap is in a team you do not supervise.")
    raise NotFound(f"No swap with id {swap_id}.")


# --- Special days (forecasting) --------------------------------------------------------------------


def special_days_visible_to(user: AnyUser) -> QuerySet[SpecialDay]:
    """Every queue's special days and those of the planning queues ``user`` reads."""
    visible = planning_queues_visible_to(user)
    return SpecialDay.objects.select_related("planning_queue").filter(
        Q(planning_queue__isnull=True) | Q(planning_queue__in=visible)
    )


def require_special_day_planner(user: AnyUser, planning_queue: PlanningQueue | None) -> None:
    """Who may set a special day: a planner of the queue; of every queue (``None``), admins only."""
    require_planner(user)
    if planning_queue is None and not sees_everything(user):
        raise PermissionDenied("Only administrators set special days for every queue.", code="not_a_planner")


def access_special_day(user: AnyUser, special_day_id: object, *, change: bool = False) -> SpecialDay:
    """A special day ``user`` reads (``change``: and changes). Unknown ``NotFound``; another team's queue's
    ``PermissionDenied``; changing every queue's day is for admins."""
    require_wfm_reader(user)
    pk = row_id(special_day_id)
    special = SpecialDay.objects.select_related("planning_queue").filter(pk=pk).first() if pk is not None else None
    if special is None:
        raise NotFound(f"No special day with id {special_day_id}.")
    if special.planning_queue_id is not None:
        access_planning_queue(user, special.planning_queue_id)
    if change:
        require_special_day_planner(user, special.planning_queue)
    return special
