"""The schedule pages at /wfm/schedules/: the list with a generate form, and one schedule (agents × days,
coverage by hour, what is unmet, the solver's status and notes, publish).

Supervisors (their teams) and admins (all); agents and integration clients get 403, anonymous users the
sign-in page. Objects are fetched through ``engagement.wfm.access``; the services check again.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from cea.common.errors import ValidationFailed
from engagement.wfm.access import access_schedule, require_planner, require_wfm_reader
from engagement.wfm.scheduling.selectors import (
    coverage_strips,
    schedule_grid,
    schedule_unmet,
    schedules_list,
    teams_planned_by,
)
from engagement.wfm.scheduling.services import MAX_TIME_LIMIT_SECONDS, schedule_generate, schedule_publish, team_of

UNMET_SHOWN = 200
DAY_NAMES = tuple(WEEKDAYS_ABBR[day] for day in range(7))  # Mon … Sun, in the page's language (Django's catalog)


class GenerateForm(forms.Form):
    team = forms.IntegerField()
    week_start = forms.DateField(help_text=_("A Monday"))
    time_limit_seconds = forms.IntegerField(min_value=1, max_value=MAX_TIME_LIMIT_SECONDS, initial=60)

    def clean_week_start(self):
        week_start = self.cleaned_data["week_start"]
        if week_start.weekday() != 0:
            raise forms.ValidationError(_("A week starts on a Monday."))
        return week_start


def _list(request: HttpRequest, form: GenerateForm, *, status: int = 200) -> HttpResponse:
    context = {
        "schedules": schedules_list(user=request.user)[:100],
        "teams": teams_planned_by(request.user),
        "form": form,
        "max_time_limit": MAX_TIME_LIMIT_SECONDS,
    }
    return render(request, "engagement/wfm/schedules.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def schedules_page(request: HttpRequest) -> HttpResponse:
    """GET: the list and the form; POST: generate (the solver runs up to the form's time limit)."""
    if request.method == "GET":
        require_wfm_reader(request.user)
        require_planner(request.user)
        return _list(request, GenerateForm(initial={"time_limit_seconds": 60}))
    require_planner(request.user)
    form = GenerateForm(request.POST)
    if not form.is_valid():
        return _list(request, form, status=400)
    data = form.cleaned_data
    try:
        schedule = schedule_generate(
            user=request.user,
            team=team_of(data["team"]),
            week_start=data["week_start"],
            time_limit_seconds=data["time_limit_seconds"],
        )
    except ValidationFailed as error:
        for name, messages in error.fields.items():
            for message in messages:
                form.add_error(name if name in form.fields else None, message)
        return _list(request, form, status=400)
    return redirect("engagement:wfm-schedule", schedule_id=schedule.pk)


@login_required
def schedule_page(request: HttpRequest, schedule_id: int) -> HttpResponse:
    schedule = access_schedule(request.user, schedule_id)
    context = {
        "schedule": schedule,
        "grid": schedule_grid(schedule=schedule),
        "strips": coverage_strips(schedule=schedule),
        "unmet": list(schedule_unmet(schedule=schedule)[:UNMET_SHOWN]),
        "unmet_shown": UNMET_SHOWN,
        "day_names": DAY_NAMES,
        "can_publish": schedule.status == "draft",
    }
    return render(request, "engagement/wfm/schedule.html", context)


@login_required
@require_POST
def schedule_publish_action(request: HttpRequest, schedule_id: int) -> HttpResponse:
    schedule = access_schedule(request.user, schedule_id, change=True)
    schedule_publish(user=request.user, schedule=schedule)
    return redirect("engagement:wfm-schedule", schedule_id=schedule.pk)
