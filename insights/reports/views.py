"""Report pages: the KPI report (chart, table, comparison, permalink), its exports and drill-down.

Everyone signed in may open them: admins see every team's figures, supervisors their teams',
agents their own (``insights.access``, applied by the selectors). Asking by filter for a team or an
agent one may not see is refused (403) rather than answered with nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from cea.accounts.models import User
from cea.common.errors import PermissionDenied, ValidationFailed
from cea.common.roles import Role, role_of, sees_everything, team_ids_of
from engagement.routing.selectors import presence_timeline
from insights.kpis.business_hours import EXPLANATION as BUSINESS_HOURS_EXPLANATION
from insights.kpis.selectors import DIMENSIONS, Interval, kpi_series
from insights.reports.exports import as_csv, conversation_rows, report_rows, report_xlsx, streamed_csv
from insights.reports.forms import GROUP_LABELS, ReportForm, TimelineForm, local_midnight, local_today
from insights.reports.selectors import (
    report_contacts,
    report_filter_choices,
    team_kpi_figures,
    team_member_ids,
    user_names,
)
from insights.reports.tables import (
    ReportTable,
    chart_data,
    chart_summary,
    format_value,
    interval_end,
    interval_label,
    report_table,
)
from insights.reports.timeline import agent_days, hours

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _require_visible(user, filters: dict[str, list[str | int]]) -> None:
    """Refuse a team or agent filter outside what ``user`` may see (``PermissionDenied``)."""
    if sees_everything(user):
        return
    teams = team_ids_of(user)
    for team in filters.get("team", []):
        if team not in teams:
            raise PermissionDenied("You can only report on your own teams.")
    for agent in filters.get("agent", []):
        if role_of(user) != Role.SUPERVISOR:
            if agent != user.pk:
                raise PermissionDenied("You can only see your own figures.")
        elif not User.objects.filter(pk=agent, teams__in=sorted(teams)).exists():
            raise PermissionDenied("You can only report on the agents of your teams.")


def _form(request: HttpRequest) -> ReportForm:
    """The selection in the query string; without one, the last seven days' defaults (and the range and
    interval default when a link gives only KPIs and a grouping). Refused beyond what the user may see."""
    data = request.GET.copy()
    for name, value in ReportForm.initial_data().items():
        if name not in data and (not request.GET or name in ("start", "end", "interval")):
            data.setlist(name, value if isinstance(value, list) else [str(value)])
    form = ReportForm(data)
    if not form.is_valid():
        raise ValidationFailed(
            "Please correct the report's selection.",
            fields={name: [str(error) for error in errors] for name, errors in form.errors.items()},
        )
    _require_visible(request.user, form.filters)
    return form


def _table(request: HttpRequest, form: ReportForm) -> ReportTable:
    series = kpi_series(
        user=request.user,
        kpis=form.cleaned_data["kpis"],
        start=form.range_start,
        end=form.range_end,
        interval=form.cleaned_data["interval"],
        group_by=form.group_by_list,
        filters=form.filters,
        compare=form.cleaned_data["compare"],
        business_hours_only=form.cleaned_data["business_hours"],
    )
    return report_table(series=series, group_by=form.cleaned_data["group_by"], filters=form.filters)


@login_required
@require_GET
def report_page(request: HttpRequest) -> HttpResponse:
    """The report for the selection in the query string (a permalink); htmx swaps only the result."""
    try:
        form = _form(request)
        table = _table(request, form)
    except ValidationFailed as error:
        if _htmx(request):
            raise
        # The whole page, so that the selection can be corrected in place.
        form = ReportForm(request.GET)
        teams, agents = report_filter_choices(user=request.user)
        form.offer_choices(teams=teams, agents=agents)
        context = {"form": form, "error": error}
        return render(request, "insights/reports/report.html", context, status=400)
    context = {
        "form": form,
        "table": table,
        "chart": chart_data(table) if table.rows else None,
        "chart_summary": chart_summary(table),
        "query": _query(cast(QueryDict, form.data)),
        "business_hours_explanation": BUSINESS_HOURS_EXPLANATION,
    }
    teams, agents = report_filter_choices(user=request.user)
    form.offer_choices(teams=teams, agents=agents)
    template = "insights/reports/partials/result.html" if _htmx(request) else "insights/reports/report.html"
    response = render(request, template, context)
    if _htmx(request):
        response["HX-Push-Url"] = f"{request.path}?{context['query']}"
    return response


def _query(data: QueryDict) -> str:
    """The selection as a query string (``data``: the form's, defaults included): the permalink's and the exports'."""
    query = QueryDict(mutable=True)
    for name in ReportForm.base_fields:
        values = [value for value in data.getlist(name) if value != ""]
        if values:
            query.setlist(name, values)
    return query.urlencode()


@login_required
@require_GET
def report_export(request: HttpRequest, file_format: str) -> HttpResponse:
    """The current selection's table as CSV or XLSX (with the previous period's columns when compared)."""
    form = _form(request)
    table = _table(request, form)
    name = f"report-{form.cleaned_data['start']:%Y%m%d}-{form.cleaned_data['end']:%Y%m%d}"
    if table.series.business_hours_only:
        name += "-business-hours"
    if file_format == "xlsx":
        response = HttpResponse(report_xlsx(table), content_type=XLSX)
    else:
        response = HttpResponse(as_csv(report_rows(table)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.{file_format}"'
    return response


@login_required
@require_GET
def conversations_export(request: HttpRequest) -> StreamingHttpResponse:
    """One row per conversation counted in the selection's range and filters, as the user may see them."""
    form = _form(request)
    contacts = report_contacts(
        user=request.user,
        start=form.range_start,
        end=form.range_end,
        dimensions=form.filters,
        business_hours_only=form.cleaned_data["business_hours"],
    ).order_by("counted_at", "id")
    response = StreamingHttpResponse(
        streamed_csv(conversation_rows(contacts.iterator(chunk_size=2000))), content_type="text/csv; charset=utf-8"
    )
    name = f"conversations-{form.cleaned_data['start']:%Y%m%d}-{form.cleaned_data['end']:%Y%m%d}"
    if form.cleaned_data["business_hours"]:
        name += "-business-hours"
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def _drill_dimensions(request: HttpRequest) -> dict[str, list[str | int]]:
    dimensions: dict[str, list[str | int]] = {}
    for name in DIMENSIONS:
        value = request.GET.get(name, "")
        if name in request.GET.getlist("blank"):
            dimensions[name] = [""]
        elif value:
            if name in ("team", "agent"):
                if not value.isdigit():
                    raise ValidationFailed("Unknown selection.", fields={name: "Give an id."})
                dimensions[name] = [int(value)]
            else:
                dimensions[name] = [value]
    return dimensions


@login_required
@require_GET
def report_contacts_page(request: HttpRequest) -> HttpResponse:
    """The contacts behind one figure: the interval starting at ``at`` and the group and filters given."""
    try:
        at = dt.datetime.fromisoformat(request.GET.get("at", ""))
    except ValueError:
        raise ValidationFailed("Which interval?", fields={"at": "Give the interval's start (ISO 8601)."}) from None
    interval = request.GET.get("interval", Interval.DAY.value)
    if at.tzinfo is None or interval not in [choice.value for choice in Interval]:
        raise ValidationFailed("Which interval?", fields={"at": "Give an interval and its start with its offset."})
    dimensions = _drill_dimensions(request)
    _require_visible(request.user, {name: values for name, values in dimensions.items() if values != [""]})
    end = interval_end(at, interval)
    business_hours = request.GET.get("business_hours") == "on"
    contacts = report_contacts(
        user=request.user, start=at, end=end, dimensions=dimensions, business_hours_only=business_hours
    )
    page = Paginator(contacts, 50).get_page(request.GET.get("page"))
    context = {
        "business_hours_explanation": BUSINESS_HOURS_EXPLANATION if business_hours else "",
        "page": page,
        "interval_label": interval_label(at, interval),
        "dimensions": [(GROUP_LABELS[name], values[0] or "(none)") for name, values in dimensions.items()],
        "query": _without_page(request.GET),
    }
    return render(request, "insights/reports/contacts.html", context)


def _without_page(query: QueryDict) -> str:
    kept = query.copy()
    kept.pop("page", None)
    return kept.urlencode()


DESK_KPIS = ["handled", "aht", "occupancy"]


@login_required
@require_GET
def desk_panel_fragment(request: HttpRequest) -> HttpResponse:
    """The agent's own figures today (handled, AHT, occupancy) against their teams', for the desk."""
    today = local_today()
    start, end = local_midnight(today), local_midnight(today + dt.timedelta(days=1))
    own_series = kpi_series(
        user=request.user,
        kpis=DESK_KPIS,
        start=start,
        end=end,
        interval=Interval.DAY.value,
        filters={"agent": [cast(int, request.user.pk)]},
    )
    own = {name: value.value for row in own_series.rows for name, value in row.values.items()}
    team = team_kpi_figures(team_ids=team_ids_of(request.user), kpis=DESK_KPIS, start=start, end=end)
    figures = [
        {
            "label": info.label,
            "formula": info.formula,
            "own": format_value(info.unit, own.get(info.name, 0 if info.unit == "count" else None)),
            "team": (
                format_value("per_agent", team["handled_per_agent"])
                if info.name == "handled"
                else format_value(info.unit, team[info.name])
            ),
        }
        for info in own_series.kpis
    ]
    return render(request, "insights/reports/partials/desk_panel.html", {"figures": figures, "today": today})


def _timeline_user_ids(user, *, team: int | None, agent: int | None) -> list[int] | None:
    """Whose timelines ``user`` asks for and may see (``None``: every agent); ``PermissionDenied`` beyond."""
    _require_visible(user, {"team": [team] if team else [], "agent": [agent] if agent else []})
    if agent:
        return [agent]
    if team:
        return team_member_ids(team_ids=[team])
    if sees_everything(user):
        return None
    if role_of(user) == Role.SUPERVISOR:
        return team_member_ids(team_ids=team_ids_of(user))
    return [user.pk]


@login_required
@require_GET
def agent_timeline_page(request: HttpRequest) -> HttpResponse:
    """Each agent's state per day: logged in, available, busy, after-contact, away by reason, and a bar."""
    form = TimelineForm(request.GET)
    if not form.is_valid():
        raise ValidationFailed(
            "Please correct the selection.",
            fields={name: [str(error) for error in errors] for name, errors in form.errors.items()},
        )
    first, last = form.cleaned_data["start"], form.cleaned_data["end"]
    user_ids = _timeline_user_ids(request.user, team=form.cleaned_data["team"], agent=form.cleaned_data["agent"])
    spans = presence_timeline(
        start=local_midnight(first),
        end=local_midnight(last + dt.timedelta(days=1)),
        now=timezone.now(),
        user_ids=user_ids,
    )
    days = agent_days(spans=spans, first_day=first, last_day=last)
    names = user_names(user_ids={day.user_id for day in days})
    rows = [
        {
            "name": names.get(day.user_id, f"#{day.user_id}"),
            "day": day,
            "logged_in": hours(day.logged_in),
            "available": hours(day.available),
            "busy": hours(day.busy),
            "after_contact": hours(day.after_contact),
            "away": hours(day.away_total),
            "away_reasons": [(reason, hours(seconds)) for reason, seconds in sorted(day.away.items())],
        }
        for day in days
    ]
    return render(request, "insights/reports/agents.html", {"form": form, "rows": rows})
