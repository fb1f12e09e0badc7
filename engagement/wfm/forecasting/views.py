"""Forecasting's pages at /wfm/forecasts/: every planning queue's forecast quality, and one queue's forecast
against what happened, its backtest, adjustments, special days and "run now".

Readers: supervisors (their teams' queues), admins (all); agents 403, anonymous users the sign-in page.
Changes (adjust, special days, run) are for planners. The pages read what runs stored: the fitting
happens in Celery (``forecast_queue``), never in the request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from cea.common.days import local_midnight, parse_day
from cea.common.forms import cleaned_or_raise
from cea.common.roles import can_supervise, sees_everything
from cea.common.tasks import send_on_commit
from engagement.wfm.access import (
    access_planned_queue,
    access_planning_queue,
    access_special_day,
    planning_queues_visible_to,
    require_special_day_planner,
    require_wfm_reader,
)
from engagement.wfm.forecasting.models import ForecastRun, RunKind
from engagement.wfm.forecasting.selectors import (
    ForecastVsActual,
    backtest_table,
    latest_run,
    run_summary,
    special_days_of,
)
from engagement.wfm.forecasting.selectors import forecast_vs_actual as forecast_vs_actual_rows
from engagement.wfm.forecasting.services import forecast_adjust, special_day_create, special_day_delete
from engagement.wfm.forecasting.tasks import forecast_queue

CHART_WIDTH = 960
CHART_HEIGHT = 200


class AdjustForm(forms.Form):
    day = forms.DateField(label=_("Day"))
    start_time = forms.TimeField(label=_("Start time"))
    end_time = forms.TimeField(label=_("End time"), help_text=_("Exclusive; 00:00 is the end of the day"))
    volume = forms.FloatField(required=False, min_value=0, label=_("Volume"))
    volume_percent = forms.FloatField(required=False, min_value=0, max_value=1000, label=_("Volume percent"))
    aht_seconds = forms.FloatField(required=False, min_value=0, label=_("AHT seconds"))
    note = forms.CharField(required=False, max_length=200, label=_("Note"))
    clear = forms.BooleanField(required=False, label=_("Clear"))


class SpecialDayForm(forms.Form):
    day = forms.DateField(label=_("Day"))
    name = forms.CharField(max_length=100, label=_("Name"))
    volume_factor = forms.FloatField(min_value=0, max_value=10, initial=1.0, label=_("Volume factor"))
    aht_factor = forms.FloatField(min_value=0.01, max_value=10, initial=1.0, label=_("AHT factor"))
    every_queue = forms.BooleanField(required=False, label=_("Every queue"))


def wfm_reader_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in (else the sign-in page), and a reader of planning figures (else 403)."""

    @wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        require_wfm_reader(request.user)
        return view(request, *args, **kwargs)

    return login_required(checked)


def _back(request: HttpRequest, planning_queue_id: int, **query: str) -> HttpResponse:
    url = reverse("engagement:wfm-forecast", args=[planning_queue_id])
    if query:
        url += "?" + "&".join(f"{name}={value}" for name, value in query.items())
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url, status=303)


# --- The list ---------------------------------------------------------------------------------------


@wfm_reader_view
@require_GET
def forecasts_page(request: HttpRequest) -> HttpResponse:
    rows = []
    for queue in planning_queues_visible_to(request.user):
        run = latest_run(planning_queue=queue)
        rows.append({"queue": queue, "run": run, "summary": run_summary(run=run) if run else []})
    return render(request, "engagement/wfm/forecasts.html", {"rows": rows})


# --- One queue --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chart:
    planned: str  # SVG polyline points
    actual: str
    peak: float
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT


def _chart(rows: list[ForecastVsActual]) -> Chart:
    peak = max([r.planned_volume or 0 for r in rows] + [r.actual_contacts or 0 for r in rows] + [1.0])
    scale_x = CHART_WIDTH / max(1, len(rows) - 1)

    def point(i: int, value: float) -> str:
        return f"{i * scale_x:.1f},{CHART_HEIGHT - value / peak * CHART_HEIGHT:.1f}"

    planned = " ".join(point(i, r.planned_volume) for i, r in enumerate(rows) if r.planned_volume is not None)
    actual = " ".join(point(i, r.actual_contacts) for i, r in enumerate(rows) if r.actual_contacts is not None)
    return Chart(planned=planned, actual=actual, peak=peak)


def _day_of(request: HttpRequest) -> date:
    raw = request.GET.get("day")
    if not raw:
        return timezone.localdate()
    return parse_day(raw, field="day")


@wfm_reader_view
@require_GET
def forecast_page(request: HttpRequest, planning_queue_id: int) -> HttpResponse:
    queue = access_planning_queue(request.user, planning_queue_id)
    day = _day_of(request)
    span = 7 if request.GET.get("span") == "week" else 1
    start = local_midnight(day)
    rows = forecast_vs_actual_rows(planning_queue=queue, start=start, end=local_midnight(day + timedelta(days=span)))
    run = latest_run(planning_queue=queue)
    attempt = latest_run(planning_queue=queue, done=False)
    context = {
        "queue": queue,
        "day": day,
        "span": span,
        "previous": day - timedelta(days=span),
        "next": day + timedelta(days=span),
        "rows": rows,
        "chart": _chart(rows),
        "total_planned": sum(r.planned_volume or 0 for r in rows),
        "total_actual": sum(r.actual_contacts or 0 for r in rows),
        "run": run,
        "attempt": attempt if attempt and (run is None or attempt.pk != run.pk) else None,
        "summary": run_summary(run=run) if run else [],
        "backtest": backtest_table(run=run) if run else [],
        "intraday": ForecastRun.objects.filter(planning_queue=queue, kind=RunKind.INTRADAY).first(),
        "special_days": special_days_of(planning_queue=queue).filter(day__gte=timezone.localdate() - timedelta(days=7)),
        "can_plan": can_supervise(request.user),
        "can_plan_every_queue": can_supervise(request.user) and sees_everything(request.user),
        "queued": request.GET.get("queued") == "1",
        "adjust_form": AdjustForm(initial={"day": day}),
        "special_form": SpecialDayForm(initial={"day": day}),
    }
    return render(request, "engagement/wfm/forecast.html", context)


def _local(day: date, at: time) -> datetime:
    # 00:00 as an end time is the end of that day
    return local_midnight(day + timedelta(days=1)) if at == time() else timezone.make_aware(datetime.combine(day, at))


@login_required
@require_POST
def forecast_adjust_action(request: HttpRequest, planning_queue_id: int) -> HttpResponse:
    queue = access_planned_queue(request.user, planning_queue_id)
    data = cleaned_or_raise(AdjustForm(request.POST))
    start = timezone.make_aware(datetime.combine(data["day"], data["start_time"]))
    forecast_adjust(
        user=request.user,
        planning_queue=queue,
        start=start,
        end=_local(data["day"], data["end_time"]),
        volume=data["volume"],
        volume_percent=data["volume_percent"],
        aht_seconds=data["aht_seconds"],
        note=data["note"],
        clear=data["clear"],
    )
    return _back(request, queue.pk, day=data["day"].isoformat())


@login_required
@require_POST
def forecast_run_action(request: HttpRequest, planning_queue_id: int) -> HttpResponse:
    """Queue a run of this queue's forecast (Celery); the page says it is queued."""
    queue = access_planned_queue(request.user, planning_queue_id)
    send_on_commit(forecast_queue, queue.pk, kind=RunKind.MANUAL, user_id=request.user.pk)
    return _back(request, queue.pk, queued="1")


@login_required
@require_POST
def special_day_create_action(request: HttpRequest, planning_queue_id: int) -> HttpResponse:
    queue = access_planned_queue(request.user, planning_queue_id)
    data = cleaned_or_raise(SpecialDayForm(request.POST))
    target = None if data["every_queue"] else queue
    require_special_day_planner(request.user, target)
    special_day_create(
        planning_queue=target,
        day=data["day"],
        name=data["name"],
        volume_factor=data["volume_factor"],
        aht_factor=data["aht_factor"],
    )
    return _back(request, queue.pk, day=data["day"].isoformat())


@login_required
@require_POST
def special_day_delete_action(request: HttpRequest, planning_queue_id: int, special_day_id: int) -> HttpResponse:
    queue = access_planned_queue(request.user, planning_queue_id)
    special = access_special_day(request.user, special_day_id, change=True)
    special_day_delete(special_day=special)
    return _back(request, queue.pk)
