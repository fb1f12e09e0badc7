"""Pages of the people side of schedules (issue 15, part D), under /wfm/:

- ``my-schedule/``: the signed-in agent's published week, their time off and swaps, and the forms to
  ask for more; ``my-schedule/panel/``: the same, today and the week, as the desk's panel.
- ``requests/``: a planner's requests to decide (time off, accepted swaps) and a form to enter time off.
- ``schedules/<id>/agents/<agent_profile_id>/``: one agent's week in a schedule, to edit its shifts.

Forms post plainly and redirect back with a message (post/redirect/get); a refusal re-renders the page
with the service's message and the form's field errors (400), nothing written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from cea.common.days import parse_day
from cea.common.errors import ApplicationError, ValidationFailed
from cea.common.forms import cleaned_or_raise
from engagement.routing.models import AgentProfile
from engagement.wfm.access import (
    access_planned_agent,
    access_planned_shift,
    access_schedule,
    access_swap,
    access_time_off,
    agents_planned_by,
    require_planner,
    require_rostered,
)
from engagement.wfm.scheduling import roster_selectors as selectors
from engagement.wfm.scheduling.editing import shift_create, shift_delete, shift_update, team_queues
from engagement.wfm.scheduling.models import Shift
from engagement.wfm.scheduling.requests import (
    swap_cancel,
    swap_decide,
    swap_request,
    swap_respond,
    time_off_cancel,
    time_off_decide,
    time_off_enter,
    time_off_request,
)
from engagement.wfm.scheduling.roster_forms import (
    DecideForm,
    RespondForm,
    ShiftForm,
    SwapRequestForm,
    TimeOffEnterForm,
    TimeOffRequestForm,
)


def _checked(check: Callable) -> Callable:
    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            check(request.user)
            return view(request, *args, **kwargs)

        return login_required(checked)

    return decorate


rostered_view = _checked(require_rostered)
planner_view = _checked(require_planner)


def _week_param(request: HttpRequest) -> dt.date:
    try:
        day = parse_day(request.GET.get("week", ""), field="week")
    except ValidationFailed:
        day = timezone.localdate()
    return selectors.monday_of(day)


def _refused(request: HttpRequest, error: ApplicationError) -> HttpResponse | None:
    """A refusal of a form shows on the page; others (403, 404) are the middleware's."""
    if isinstance(error, ValidationFailed) or error.status_code == 409:
        return None
    raise error


# --- The agent's own schedule -------------------------------------------------------------------


def _swap_form(user, data=None) -> SwapRequestForm:
    return SwapRequestForm(
        data,
        shifts=Shift.objects.filter(pk__in=[shift.pk for shift in selectors.my_future_shifts(user=user)]),
        colleagues=AgentProfile.objects.filter(pk__in=[agent.pk for agent in selectors.swap_colleagues(user=user)])
        .select_related("user")
        .order_by("user__username"),
        colleagues_shifts=Shift.objects.filter(
            pk__in=[shift.pk for shift in selectors.colleagues_future_shifts(user=user)]
        )
        .select_related("agent__user")
        .order_by("starts_at"),
    )


def _my_schedule(request: HttpRequest, *, status: int = 200, error=None, **forms) -> HttpResponse:
    week_start = _week_param(request)
    context = {
        "week_start": week_start,
        "previous_week": week_start - dt.timedelta(days=7),
        "next_week": week_start + dt.timedelta(days=7),
        "days": selectors.my_week(user=request.user, week_start=week_start),
        "time_off": selectors.my_time_off(user=request.user),
        "swaps": selectors.my_swaps(user=request.user),
        "time_off_form": forms.get("time_off_form") or TimeOffRequestForm(),
        "swap_form": forms.get("swap_form") or _swap_form(request.user),
        "error": error,
        "me": request.user.pk,
    }
    return render(request, "engagement/wfm/roster/my_schedule.html", context, status=status)


@rostered_view
@require_GET
def my_schedule_page(request: HttpRequest) -> HttpResponse:
    return _my_schedule(request)


@rostered_view
@require_GET
def desk_schedule_fragment(request: HttpRequest) -> HttpResponse:
    """The desk's panel: today's shifts with their activities, and the week at a glance."""
    days = selectors.my_week(user=request.user, week_start=selectors.monday_of(timezone.localdate()))
    today = next((day for day in days if day.is_today), None)
    return render(request, "engagement/wfm/roster/desk_panel.html", {"days": days, "today": today})


def _back(request: HttpRequest, name: str, message: str, **kwargs) -> HttpResponse:
    messages.success(request, message)
    return redirect(reverse(f"engagement:{name}", kwargs=kwargs or None))


@rostered_view
@require_POST
def time_off_request_action(request: HttpRequest) -> HttpResponse:
    form = TimeOffRequestForm(request.POST)
    try:
        time_off_request(user=request.user, **cleaned_or_raise(form))
    except ApplicationError as error:
        _refused(request, error)
        return _my_schedule(request, status=error.status_code, error=error, time_off_form=form)
    return _back(request, "wfm-my-schedule", "Time off asked for: your supervisor decides.")


@rostered_view
@require_POST
def swap_request_action(request: HttpRequest) -> HttpResponse:
    form = _swap_form(request.user, request.POST)
    try:
        swap_request(user=request.user, **cleaned_or_raise(form))
    except ApplicationError as error:
        _refused(request, error)
        return _my_schedule(request, status=error.status_code, error=error, swap_form=form)
    return _back(request, "wfm-my-schedule", "Swap asked: your colleague answers, then your supervisor decides.")


def _my_action(request: HttpRequest, action: Callable[[], object], done: str) -> HttpResponse:
    try:
        action()
    except ApplicationError as error:
        _refused(request, error)
        return _my_schedule(request, status=error.status_code, error=error)
    return _back(request, "wfm-my-schedule", done)


@rostered_view
@require_POST
def time_off_cancel_action(request: HttpRequest, time_off_id: int) -> HttpResponse:
    time_off = access_time_off(request.user, time_off_id)
    return _my_action(request, lambda: time_off_cancel(user=request.user, time_off=time_off), "Time off cancelled.")


@rostered_view
@require_POST
def swap_respond_action(request: HttpRequest, swap_id: int) -> HttpResponse:
    swap = access_swap(request.user, swap_id)
    accept = request.POST.get("decision") == "accept"
    cleaned_or_raise(RespondForm(request.POST))
    done = "Swap accepted: a supervisor decides." if accept else "Swap declined."
    return _my_action(request, lambda: swap_respond(user=request.user, swap=swap, accept=accept), done)


@rostered_view
@require_POST
def swap_cancel_action(request: HttpRequest, swap_id: int) -> HttpResponse:
    swap = access_swap(request.user, swap_id)
    return _my_action(request, lambda: swap_cancel(user=request.user, swap=swap), "Swap withdrawn.")


# --- The planner's requests -------------------------------------------------------------------------


def _requests(request: HttpRequest, *, status: int = 200, error=None, enter_form=None) -> HttpResponse:
    context = {
        "requests": selectors.requests_to_decide(user=request.user),
        "enter_form": enter_form or TimeOffEnterForm(agents=agents_planned_by(request.user)),
        "error": error,
    }
    return render(request, "engagement/wfm/roster/requests.html", context, status=status)


@planner_view
@require_GET
def requests_page(request: HttpRequest) -> HttpResponse:
    return _requests(request)


def _planner_action(request: HttpRequest, action: Callable[[], object], done: str) -> HttpResponse:
    try:
        action()
    except ApplicationError as error:
        _refused(request, error)
        return _requests(request, status=error.status_code, error=error)
    return _back(request, "wfm-requests", done)


@planner_view
@require_POST
def time_off_decide_action(request: HttpRequest, time_off_id: int) -> HttpResponse:
    time_off = access_time_off(request.user, time_off_id)
    approve = cleaned_or_raise(DecideForm(request.POST))["decision"] == "approve"
    return _planner_action(
        request,
        lambda: time_off_decide(planner=request.user, time_off=time_off, approve=approve),
        f"Time off of {time_off.agent.user} {'approved' if approve else 'rejected'}.",
    )


@planner_view
@require_POST
def swap_decide_action(request: HttpRequest, swap_id: int) -> HttpResponse:
    swap = access_swap(request.user, swap_id)
    data = cleaned_or_raise(DecideForm(request.POST))
    approve = data["decision"] == "approve"
    return _planner_action(
        request,
        lambda: swap_decide(
            planner=request.user, swap=swap, approve=approve, override_contract=data["override_contract"]
        ),
        f"Swap {'approved' if approve else 'rejected'}.",
    )


@planner_view
@require_POST
def time_off_enter_action(request: HttpRequest) -> HttpResponse:
    form = TimeOffEnterForm(request.POST, agents=agents_planned_by(request.user))
    try:
        data = cleaned_or_raise(form)
        time_off_enter(planner=request.user, **data)
    except ApplicationError as error:
        _refused(request, error)
        return _requests(request, status=error.status_code, error=error, enter_form=form)
    return _back(request, "wfm-requests", f"Time off of {data['agent'].user} entered and approved.")


# --- One agent's week in a schedule -----------------------------------------------------------------


def _agent_week(request: HttpRequest, schedule, agent, *, status: int = 200, error=None, form=None) -> HttpResponse:
    week = selectors.agent_week(schedule=schedule, agent=agent)
    for day in week.days:
        for shift in day.shifts:
            form_of_shift = ShiftForm(queues=_queues(schedule), initial=_shift_initial(shift), prefix=f"s{shift.pk}")
            shift.edit_form = form_of_shift  # type: ignore[attr-defined]  # the template's per-shift form
    context = {
        "week": week,
        "agents": selectors.schedule_agents(user=request.user, schedule=schedule),
        "form": form or ShiftForm(queues=_queues(schedule), initial={"day": schedule.week_start}),
        "error": error,
        "warnings": request.session.pop("wfm_warnings", []),
    }
    return render(request, "engagement/wfm/roster/agent_week.html", context, status=status)


def _queues(schedule):
    return team_queues(schedule.team_id)


def _shift_initial(shift: Shift) -> dict:
    start, end = timezone.localtime(shift.starts_at), timezone.localtime(shift.ends_at)
    initial: dict = {"day": start.date(), "start": start.time(), "end": end.time()}
    for activity in shift.activities.all():
        if activity.kind in ("break", "lunch") and f"{activity.kind}_at" not in initial:
            initial[f"{activity.kind}_at"] = timezone.localtime(activity.starts_at).time()
            initial[f"{activity.kind}_minutes"] = int((activity.ends_at - activity.starts_at).total_seconds() // 60)
        elif activity.kind == "work" and activity.planning_queue_id and "planning_queue" not in initial:
            initial["planning_queue"] = activity.planning_queue_id
    return initial


@planner_view
@require_GET
def agent_week_page(request: HttpRequest, schedule_id: int, agent_profile_id: int) -> HttpResponse:
    schedule = access_schedule(request.user, schedule_id)
    agent = access_planned_agent(request.user, agent_profile_id)
    return _agent_week(request, schedule, agent)


def _edited(request: HttpRequest, schedule, agent, edit, done: str) -> HttpResponse:
    request.session["wfm_warnings"] = edit.warnings if edit is not None else []
    return _back(request, "wfm-agent-week", done, schedule_id=schedule.pk, agent_profile_id=agent.pk)


@planner_view
@require_POST
def shift_create_action(request: HttpRequest, schedule_id: int, agent_profile_id: int) -> HttpResponse:
    schedule = access_schedule(request.user, schedule_id, change=True)
    agent = access_planned_agent(request.user, agent_profile_id)
    form = ShiftForm(request.POST, queues=_queues(schedule))
    try:
        cleaned_or_raise(form)
        starts_at, ends_at, activities = form.plan()
        edit = shift_create(
            planner=request.user,
            schedule=schedule,
            agent=agent,
            starts_at=starts_at,
            ends_at=ends_at,
            activities=activities,
        )
    except ApplicationError as error:
        _refused(request, error)
        return _agent_week(request, schedule, agent, status=error.status_code, error=error, form=form)
    return _edited(request, schedule, agent, edit, "Shift added.")


@planner_view
@require_POST
def shift_update_action(request: HttpRequest, shift_id: int) -> HttpResponse:
    shift = access_planned_shift(request.user, shift_id)
    form = ShiftForm(request.POST, queues=_queues(shift.schedule), prefix=f"s{shift.pk}")
    try:
        cleaned_or_raise(form)
        starts_at, ends_at, activities = form.plan()
        edit = shift_update(
            planner=request.user, shift=shift, starts_at=starts_at, ends_at=ends_at, activities=activities
        )
    except ApplicationError as error:
        _refused(request, error)
        return _agent_week(request, shift.schedule, shift.agent, status=error.status_code, error=error)
    return _edited(request, shift.schedule, shift.agent, edit, "Shift changed.")


@planner_view
@require_POST
def shift_delete_action(request: HttpRequest, shift_id: int) -> HttpResponse:
    shift = access_planned_shift(request.user, shift_id)
    schedule, agent = shift.schedule, shift.agent
    try:
        shift_delete(planner=request.user, shift=shift)
    except ApplicationError as error:
        _refused(request, error)
        return _agent_week(request, schedule, agent, status=error.status_code, error=error)
    return _edited(request, schedule, agent, None, "Shift removed.")
