"""Staffing pages at /wfm/staffing/: the calculator (a what-if, answered in place with htmx) and a
planning queue's requirement per interval of a day (a table and its bar-chart twin)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from cea.common.days import local_day_bounds, parse_day
from cea.common.errors import ApplicationError, ValidationFailed
from engagement.wfm.access import access_planning_queue, planning_queues_visible_to
from engagement.wfm.pages import wfm_page
from engagement.wfm.planning.models import IntervalMinutes, StaffingModel, TargetKind
from engagement.wfm.staffing.calculator import calculator_problems, calculator_start, demand_of, staffing_calculate
from engagement.wfm.staffing.selectors import requirement_day_totals, requirements_between

CHART_WIDTH, CHART_HEIGHT = 960, 160


class CalculatorForm(forms.Form):
    volume = forms.FloatField(min_value=0, max_value=1_000_000, label=_("Contacts in the interval"))
    aht_seconds = forms.FloatField(min_value=1, max_value=86_400, label=_("Average handle time (seconds)"))
    interval_minutes = forms.TypedChoiceField(
        choices=IntervalMinutes.choices, coerce=int, initial=15, label=_("Interval minutes")
    )
    model = forms.ChoiceField(choices=StaffingModel.choices, initial=StaffingModel.ERLANG_C, label=_("Model"))
    target_kind = forms.ChoiceField(
        choices=TargetKind.choices, initial=TargetKind.SERVICE_LEVEL, label=_("Target kind")
    )
    service_level_percent = forms.IntegerField(min_value=1, max_value=99, initial=80, label=_("Service level (%)"))
    service_level_seconds = forms.IntegerField(min_value=1, max_value=3600, initial=20, label=_("…answered within (s)"))
    asa_seconds = forms.IntegerField(min_value=1, max_value=3600, required=False, label=_("ASA target (s)"))
    patience_seconds = forms.IntegerField(
        min_value=1, max_value=86_400, required=False, label=_("Average patience (s, Erlang A)")
    )
    concurrency = forms.IntegerField(min_value=1, max_value=10, initial=1, label=_("Contacts at once (chat)"))
    max_occupancy_percent = forms.IntegerField(min_value=1, max_value=100, initial=85, label=_("Maximum occupancy (%)"))
    shrinkage_percent = forms.IntegerField(min_value=0, max_value=95, initial=30, label=_("Shrinkage (%)"))

    def clean(self):
        cleaned = super().clean() or {}
        if not self.errors:
            for name, messages in calculator_problems(cleaned).items():
                self.add_error(name, messages)
        return cleaned


def _day_of(request: HttpRequest) -> dt.date | None:
    """The ``day`` query parameter (YYYY-MM-DD) or None when absent or malformed."""
    try:
        return parse_day(request.GET.get("day", ""), field="day")
    except ValidationFailed:
        return None


@wfm_page
@require_http_methods(["GET", "POST"])
def calculator_page(request: HttpRequest) -> HttpResponse:
    """GET: the form (``?planning_queue=<id>&day=YYYY-MM-DD`` starts from that queue's busiest interval);
    POST: the answer (the result fragment for htmx, the whole page otherwise; 400 with the form's errors)."""
    start: dict = {}
    if request.method == "GET" and request.GET.get("planning_queue"):
        planning_queue = access_planning_queue(request.user, request.GET["planning_queue"])
        start = calculator_start(planning_queue=planning_queue, day=_day_of(request))
    form = CalculatorForm(request.POST) if request.method == "POST" else CalculatorForm(initial=start)
    calculation, status = None, 200
    if request.method == "POST":
        if form.is_valid():
            try:
                calculation = staffing_calculate(
                    demand=demand_of(form.cleaned_data), shrinkage_percent=form.cleaned_data["shrinkage_percent"]
                )
            except ApplicationError as refusal:
                form.add_error(None, refusal.message)
        status = 200 if calculation else 400
    context = {
        "form": form,
        "calculation": calculation,
        "start": start,
        "planning_queues": planning_queues_visible_to(request.user),
    }
    if request.headers.get("HX-Request") == "true" and request.method == "POST":
        return render(request, "engagement/wfm/staffing/partials/result.html", context, status=status)
    return render(request, "engagement/wfm/staffing/calculator.html", context, status=status)


def _bars(rows: list, peak: float) -> list[dict]:
    """The chart's bars: agents with shrinkage (outline) and on contacts (filled), scaled to the peak."""
    if not rows:
        return []
    width = CHART_WIDTH / len(rows)
    scale = (CHART_HEIGHT - 10) / peak if peak else 0
    return [
        {
            "x": round(index * width, 2),
            "width": round(max(width - 1, 1), 2),
            "scheduled_height": round(row.agents_with_shrinkage * scale, 2),
            "scheduled_y": round(CHART_HEIGHT - row.agents_with_shrinkage * scale, 2),
            "agents_height": round(row.agents * scale, 2),
            "agents_y": round(CHART_HEIGHT - row.agents * scale, 2),
            "row": row,
        }
        for index, row in enumerate(rows)
    ]


@wfm_page
@require_GET
def requirements_page(request: HttpRequest, planning_queue_id: int) -> HttpResponse:
    """A planning queue's requirement per interval of ``?day=`` (local; today by default)."""
    planning_queue = access_planning_queue(request.user, planning_queue_id)
    day = _day_of(request) or timezone.localdate()
    start, end = local_day_bounds(day)
    rows = list(requirements_between(planning_queue=planning_queue, start=start, end=end))
    totals = requirement_day_totals(rows, planning_queue.interval_minutes)
    peak = max((row.agents_with_shrinkage for row in rows), default=0)
    context = {
        "planning_queue": planning_queue,
        "day": day,
        "previous_day": day - dt.timedelta(days=1),
        "next_day": day + dt.timedelta(days=1),
        "rows": rows,
        "totals": totals,
        "bars": _bars(rows, peak),
        "chart_width": CHART_WIDTH,
        "chart_height": CHART_HEIGHT,
    }
    return render(request, "engagement/wfm/staffing/requirements.html", context)
