"""What agents ask of their schedule, and what planners decide: time off and shift swaps.

Time off: an agent asks (``requested``), a planner of their team approves or rejects; a planner may
enter it for an agent, approved at once. Approved time off trims or removes the agent's shifts it
overlaps (draft and published schedules) and rewrites those schedules' coverage. The agent (or a
planner) cancels a request, or approved time off that has not started (shifts it removed are not put
back: the planner adds them again if wanted).

Swaps: an agent offers one of their published, future shifts to a colleague of the same team, for one
of the colleague's shifts or for nothing (a give-away). The colleague accepts or declines; then a
planner approves (the shifts change hands) or rejects. Approval re-checks that both shifts are still
as they were, that neither agent ends up with overlapping shifts or a shift in their approved time
off, and both contracts (a breach is refused unless the planner overrides it).

Every decision is pushed to the agents' desks after commit (``schedule.changed``).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from cea.accounts.types import AnyUser
from cea.common.errors import Conflict, PermissionDenied, ValidationFailed
from engagement.routing.models import AgentProfile
from engagement.routing.presence import agent_profile_for
from engagement.wfm.access import access_planned_agent, access_schedule, require_planner, require_rostered
from engagement.wfm.scheduling.coverage import schedule_coverage_refresh
from engagement.wfm.scheduling.editing import (
    approved_time_off,
    contract_warnings,
    local,
    overlapping_shifts,
    schedule_changed_on_commit,
    shifts_clear_for_time_off,
    signed_in,
    skill_warnings,
    week_shifts,
)
from engagement.wfm.scheduling.models import (
    RequestStatus,
    ScheduleStatus,
    Shift,
    SwapRequest,
    TimeOff,
    TimeOffKind,
)

MAX_TIME_OFF_DAYS = 31
OPEN_SWAP = (RequestStatus.REQUESTED, RequestStatus.ACCEPTED)


# --- Time off -------------------------------------------------------------------------------------


def time_off_problems(
    agent: AgentProfile, starts_at: dt.datetime, ends_at: dt.datetime, kind: str
) -> dict[str, list[str]]:
    """Why time off of ``agent`` at ``[starts_at, ends_at)`` cannot be asked for or entered, by field."""
    problems: dict[str, list[str]] = {}
    if kind not in TimeOffKind.values:
        problems["kind"] = [f"Choose one of {', '.join(TimeOffKind.values)}."]
    if ends_at <= starts_at:
        problems["ends_at"] = ["Time off must end after it starts."]
    elif ends_at - starts_at > dt.timedelta(days=MAX_TIME_OFF_DAYS):
        problems["ends_at"] = [f"Ask for at most {MAX_TIME_OFF_DAYS} days at a time."]
    if ends_at <= timezone.now():
        problems.setdefault("ends_at", []).append("Time off must end in the future.")
    clash = (
        TimeOff.objects.filter(agent=agent, status__in=(RequestStatus.REQUESTED, RequestStatus.APPROVED))
        .filter(starts_at__lt=ends_at, ends_at__gt=starts_at)
        .first()
    )
    if clash is not None:
        problems.setdefault("starts_at", []).append(
            f"It overlaps time off already {clash.status} from {local(clash.starts_at):%a %d %b %H:%M}."
        )
    return problems


def _time_off_create(
    *,
    agent: AgentProfile,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    kind: str,
    note: str,
    requested_by: AnyUser,
    status: str,
) -> TimeOff:
    AgentProfile.objects.select_for_update().filter(pk=agent.pk).first()  # one request of an agent at a time
    problems = time_off_problems(agent, starts_at, ends_at, kind)
    if problems:
        raise ValidationFailed("The time off cannot be saved as it is.", fields=problems)
    return TimeOff.objects.create(
        agent=agent,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        note=note[:300],
        status=status,
        requested_by=signed_in(requested_by),
    )


@transaction.atomic
def time_off_request(
    *, user: AnyUser, starts_at: dt.datetime, ends_at: dt.datetime, kind: str = TimeOffKind.HOLIDAY, note: str = ""
) -> TimeOff:
    """The signed-in agent (or supervisor) asks for time off; a planner of their team decides."""
    require_rostered(user)
    agent = agent_profile_for(user)
    return _time_off_create(
        agent=agent,
        starts_at=starts_at,
        ends_at=ends_at,
        kind=kind,
        note=note,
        requested_by=user,
        status=RequestStatus.REQUESTED,
    )


@transaction.atomic
def time_off_enter(
    *,
    planner: AnyUser,
    agent: AgentProfile,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    kind: str = TimeOffKind.HOLIDAY,
    note: str = "",
) -> TimeOff:
    """A planner enters time off for an agent of their team: approved at once, shifts cleared. Not
    their own: another planner decides that (``PermissionDenied``)."""
    access_planned_agent(planner, agent.pk)
    if agent.user_id == planner.pk:
        raise PermissionDenied("Another planner enters your own time off.", code="own_request")
    time_off = _time_off_create(
        agent=agent,
        starts_at=starts_at,
        ends_at=ends_at,
        kind=kind,
        note=note,
        requested_by=planner,
        status=RequestStatus.REQUESTED,
    )
    _approve(planner, time_off)
    return time_off


def _approve(planner: AnyUser, time_off: TimeOff) -> None:
    time_off.status, time_off.decided_by, time_off.decided_at = (
        RequestStatus.APPROVED,
        signed_in(planner),
        timezone.now(),
    )
    time_off.save(update_fields=["status", "decided_by", "decided_at"])
    shifts_clear_for_time_off(
        planner=planner, agent=time_off.agent, starts_at=time_off.starts_at, ends_at=time_off.ends_at
    )
    schedule_changed_on_commit(user_id=time_off.agent.user_id, what="time_off")


@transaction.atomic
def time_off_decide(*, planner: AnyUser, time_off: TimeOff, approve: bool) -> TimeOff:
    """Approve (shifts it overlaps are trimmed or removed) or reject a requested time off.

    Only a planner of the agent's team, never for themselves; only a request still ``requested``
    (``Conflict`` otherwise)."""
    agent = access_planned_agent(planner, time_off.agent_id)
    if agent.user_id == planner.pk:
        raise PermissionDenied("Another planner decides your own time off.", code="own_request")
    locked = TimeOff.objects.select_for_update().select_related("agent__user").get(pk=time_off.pk)
    if locked.status != RequestStatus.REQUESTED:
        raise Conflict(f"This time off is already {locked.get_status_display().lower()}.")
    if approve:
        _approve(planner, locked)
    else:
        locked.status, locked.decided_by, locked.decided_at = RequestStatus.REJECTED, signed_in(planner), timezone.now()
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        schedule_changed_on_commit(user_id=locked.agent.user_id, what="time_off")
    return locked


@transaction.atomic
def time_off_cancel(*, user: AnyUser, time_off: TimeOff) -> TimeOff:
    """The agent (or a planner of their team) withdraws a request, or approved time off not yet started."""
    if time_off.agent.user_id != user.pk:
        access_planned_agent(user, time_off.agent_id)
    locked = TimeOff.objects.select_for_update().get(pk=time_off.pk)
    if locked.status not in (RequestStatus.REQUESTED, RequestStatus.APPROVED):
        raise Conflict(f"This time off is already {locked.get_status_display().lower()}.")
    if locked.status == RequestStatus.APPROVED and locked.starts_at <= timezone.now():
        raise Conflict("Time off that has started cannot be cancelled.")
    locked.status = RequestStatus.CANCELLED
    locked.save(update_fields=["status"])
    schedule_changed_on_commit(user_id=time_off.agent.user_id, what="time_off")
    return locked


# --- Swaps ----------------------------------------------------------------------------------------


def _swappable(shift: Shift, owner: AgentProfile, field: str) -> None:
    if shift.agent_id != owner.pk or shift.schedule.status != ScheduleStatus.PUBLISHED:
        raise ValidationFailed("Only a published shift of its agent can be swapped.", fields={field: "Not theirs."})
    if shift.starts_at <= timezone.now():
        raise ValidationFailed("A shift that has started cannot be swapped.", fields={field: "Already started."})


@transaction.atomic
def swap_request(
    *, user: AnyUser, shift: Shift, counterpart: AgentProfile, counterpart_shift: Shift | None = None, note: str = ""
) -> SwapRequest:
    """The signed-in agent offers ``shift`` to ``counterpart`` (for ``counterpart_shift``, or for nothing)."""
    require_rostered(user)
    requester = agent_profile_for(user)
    _swappable(shift, requester, "shift")
    if counterpart.pk == requester.pk:
        raise ValidationFailed("Swap with a colleague, not yourself.", fields={"counterpart": "That is you."})
    team_id = shift.schedule.team_id
    if team_id is not None and not counterpart.user.teams.filter(pk=team_id).exists():
        raise ValidationFailed("Swap within your team.", fields={"counterpart": "Not in the shift's team."})
    if counterpart_shift is not None:
        _swappable(counterpart_shift, counterpart, "counterpart_shift")
        if counterpart_shift.schedule.team_id != team_id:
            raise ValidationFailed("Swap within your team.", fields={"counterpart_shift": "Another team's shift."})
    Shift.objects.select_for_update().filter(pk=shift.pk).first()
    if SwapRequest.objects.filter(shift=shift, status__in=OPEN_SWAP).exists():
        raise Conflict("This shift already has an open swap request.")
    swap = SwapRequest.objects.create(
        requester=requester, shift=shift, counterpart=counterpart, counterpart_shift=counterpart_shift, note=note[:300]
    )
    schedule_changed_on_commit(user_id=counterpart.user_id, what="swap")
    return swap


def _locked_swap(swap: SwapRequest, *expected: str) -> SwapRequest:
    locked = (
        SwapRequest.objects.select_for_update().select_related("requester__user", "counterpart__user").get(pk=swap.pk)
    )
    if locked.status not in expected:
        raise Conflict(f"This swap is already {locked.get_status_display().lower()}.")
    return locked


@transaction.atomic
def swap_respond(*, user: AnyUser, swap: SwapRequest, accept: bool) -> SwapRequest:
    """The colleague asked accepts (it goes to a planner) or declines (it ends)."""
    if swap.counterpart.user_id != user.pk:
        raise PermissionDenied("Only the colleague asked answers a swap.", code="not_the_counterpart")
    locked = _locked_swap(swap, RequestStatus.REQUESTED)
    locked.status = RequestStatus.ACCEPTED if accept else RequestStatus.REJECTED
    if not accept:
        locked.decided_at = timezone.now()
    locked.save(update_fields=["status", "decided_at"])
    schedule_changed_on_commit(user_id=locked.requester.user_id, what="swap")
    return locked


@transaction.atomic
def swap_cancel(*, user: AnyUser, swap: SwapRequest) -> SwapRequest:
    """The agent who asked withdraws a swap not yet decided."""
    if swap.requester.user_id != user.pk:
        raise PermissionDenied("Only the agent who asked withdraws a swap.", code="not_the_requester")
    locked = _locked_swap(swap, *OPEN_SWAP)
    locked.status = RequestStatus.CANCELLED
    locked.save(update_fields=["status"])
    schedule_changed_on_commit(user_id=locked.counterpart.user_id, what="swap")
    return locked


def swap_problems(swap: SwapRequest) -> tuple[list[str], list[str]]:
    """What refuses the swap (overlaps, time off, shifts no longer as asked) and how it breaches the two
    agents' contracts and skills (refused unless overridden), as it would be made now."""
    shift, theirs = swap.shift, swap.counterpart_shift
    requester, counterpart = swap.requester, swap.counterpart
    refusals: list[str] = []
    if shift.agent_id != requester.pk or (theirs is not None and theirs.agent_id != counterpart.pk):
        refusals.append("A shift of the swap has changed hands since it was asked.")
    for moved, taker in ((shift, counterpart), (theirs, requester)):
        if moved is None:
            continue
        if moved.schedule.status != ScheduleStatus.PUBLISHED:
            refusals.append("A shift of the swap is no longer in a published schedule.")
        if moved.starts_at <= timezone.now():
            refusals.append(f"The shift of {local(moved.starts_at):%a %d %b %H:%M} has started: it stays as worked.")
        excluding = [pk for pk in (shift.pk, theirs.pk if theirs else None) if pk is not None]
        if overlapping_shifts(taker, moved.starts_at, moved.ends_at, schedule=moved.schedule, excluding=excluding):
            refusals.append(f"{taker.user} already works at {local(moved.starts_at):%a %d %b %H:%M}.")
        if approved_time_off(taker, moved.starts_at, moved.ends_at):
            refusals.append(f"{taker.user} has approved time off at {local(moved.starts_at):%a %d %b %H:%M}.")
    return refusals, _contract_breaches(swap)


def _contract_breaches(swap: SwapRequest) -> list[str]:
    shift, theirs = swap.shift, swap.counterpart_shift
    breaches: list[str] = []
    for taker, gains, loses in ((swap.counterpart, shift, theirs), (swap.requester, theirs, shift)):
        week = [
            (start, end)
            for start, end in week_shifts(taker, shift.schedule)
            if loses is None or (start, end) != (loses.starts_at, loses.ends_at)
        ]
        if gains is not None:
            if gains.schedule_id != shift.schedule_id:
                week += week_shifts(taker, gains.schedule)
            week.append((gains.starts_at, gains.ends_at))
            breaches += skill_warnings(taker, gains)
        breaches += [f"{taker.user}: {warning}" for warning in contract_warnings(taker, sorted(set(week)))]
    return breaches


@transaction.atomic
def swap_decide(*, planner: AnyUser, swap: SwapRequest, approve: bool, override_contract: bool = False) -> SwapRequest:
    """A planner of the shift's team approves an accepted swap (the shifts change hands) or rejects it.

    Refused (``ValidationFailed``, nothing moved) when a shift changed since, either agent would overlap
    or work in approved time off, or — unless ``override_contract`` — either contract or skill is breached.
    """
    require_planner(planner)
    access_schedule(planner, swap.shift.schedule_id, change=True)
    if planner.pk in (swap.requester.user_id, swap.counterpart.user_id):
        raise PermissionDenied("Another planner decides a swap of your own.", code="own_request")
    locked = _locked_swap(swap, RequestStatus.ACCEPTED)
    locked.decided_by, locked.decided_at = signed_in(planner), timezone.now()
    if not approve:
        locked.status = RequestStatus.REJECTED
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        _tell_both(locked)
        return locked
    shifts = [locked.shift_id] + ([locked.counterpart_shift_id] if locked.counterpart_shift_id else [])
    list(Shift.objects.select_for_update().filter(pk__in=shifts))
    locked.shift.refresh_from_db()
    if locked.counterpart_shift is not None:
        locked.counterpart_shift.refresh_from_db()
    refusals, breaches = swap_problems(locked)
    if refusals or (breaches and not override_contract):
        fields = {"swap": refusals} if refusals else {"contract": breaches}
        raise ValidationFailed("The swap cannot be made as it is.", fields=fields)
    _move(locked, planner)
    locked.status = RequestStatus.APPROVED
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    _tell_both(locked)
    return locked


def _move(swap: SwapRequest, planner: AnyUser) -> None:
    now = timezone.now()
    moves = [(swap.shift, swap.counterpart)]
    if swap.counterpart_shift is not None:
        moves.append((swap.counterpart_shift, swap.requester))
    for shift, taker in moves:
        shift.agent, shift.edited_by, shift.edited_at = taker, signed_in(planner), now
        shift.save(update_fields=["agent", "edited_by", "edited_at"])
    for schedule in {shift.schedule_id: shift.schedule for shift, _ in moves}.values():
        schedule_coverage_refresh(schedule=schedule)


def _tell_both(swap: SwapRequest) -> None:
    for user_id in (swap.requester.user_id, swap.counterpart.user_id):
        schedule_changed_on_commit(user_id=user_id, what="swap")
