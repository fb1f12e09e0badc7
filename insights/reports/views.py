"""Report pages: the KPI report (chart, table, comparison, permalink), its exports and drill-down.

Everyone signed in may open them: admins see every team's figures, supervisors their teams',
agents their own (``insights.access``, applied by the selectors). Asking by filter for a team or an
agent one may not see is refused (403) rather than answered with nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import cast
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from cea.accounts.models import User
from cea.common.days import local_midnight, local_today
from cea.common.errors import PermissionDenied, ValidationFailed
from cea.common.replica import reads_from_replica, replica_streamed
from cea.common.roles import Role, role_of, sees_everything, team_ids_of
from engagement.routing.selectors import presence_timeline
from insights.access import figures_scope
from insights.kpis.business_hours import EXPLANATION as BUSINESS_HOURS_EXPLANATION
from insights.kpis.definitions import KPIS
from insights.kpis.selectors import DIMENSIONS, Interval, kpi_series
from insights.reports.exports import (
    as_csv,
    conversation_rows,
    conversations_xlsx,
    report_rows,
    report_xlsx,
    selection_rows,
    streamed_csv,
)
from insights.reports.forms import GROUP_LABELS, ReportForm, TimelineForm
from insights.reports.selectors import (
    contacts_behind,
    report_contacts,
    report_filter_choices,
    team_kpi_figures,
    team_member_ids,
    team_names,
    user_names,
)
from insights.reports.tables import (
    BLANK,
    ReportTable,
    chart_data,
    chart_summary,
    format_value,
    interval_end,
    interval_label,
    report_table,
)
from insights.reports.timeline import agent_days, hours
from records.audit.access import customer_access_record
from records.interactions.models import Interaction

CONTACTS_PER_PAGE = 50
XLSX_MAX_ROWS = 1_048_576  # a worksheet's rows, its header included
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
            raise PermissionDenied(gettext("You can only report on your own teams."))
    for agent in filters.get("agent", []):
        if role_of(user) != Role.SUPERVISOR:
            if agent != user.pk:
                raise PermissionDenied(gettext("You can only see your own figures."))
        elif not User.objects.filter(pk=agent, teams__in=sorted(teams)).exists():
            raise PermissionDenied(gettext("You can only report on the agents of your teams."))


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
            gettext("Please correct the report's selection."),
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
@reads_from_replica
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


def _scope_words(user) -> str:
    """Whose contacts ``user``'s exports hold, in words (``insights.access.figures_scope``)."""
    scope = figures_scope(user)
    if scope.team_ids is not None:
        names = sorted(team_names(team_ids=scope.team_ids).values())
        return f"Contacts of the teams {', '.join(names)}" if names else "No team's contacts"
    if scope.agent_id is not None:
        return f"The contacts {user} handled"
    return "Every team's contacts"


def _selection(request: HttpRequest, form: ReportForm) -> list[list[object]]:
    """The form's range and filters (teams and agents by name) and the user's scope, stated in an export."""
    filters = form.filters
    names: dict[str, dict] = {
        "agent": user_names(user_ids=[cast(int, agent) for agent in filters.get("agent", [])]),
        "team": team_names(team_ids=[cast(int, team) for team in filters.get("team", [])]),
    }
    stated = [
        (str(GROUP_LABELS[name]), str(names[name].get(value, value) if name in names else value))
        for name, values in filters.items()
        for value in values
    ]
    return selection_rows(
        first_day=form.cleaned_data["start"],
        last_day=form.cleaned_data["end"],
        filters=stated,
        scope=_scope_words(request.user),
        exported_by=str(request.user),
    )


@login_required
@require_GET
@reads_from_replica
def report_export(request: HttpRequest, file_format: str) -> HttpResponse:
    """The current selection's table as CSV or XLSX (with the previous period's columns when compared)."""
    form = _form(request)
    table = _table(request, form)
    if file_format == "xlsx":
        response = HttpResponse(report_xlsx(table, selection=_selection(request, form)), content_type=XLSX)
    else:
        response = HttpResponse(as_csv(report_rows(table)), content_type="text/csv; charset=utf-8")
    _attachment(response, form, name="report", file_format=file_format)
    return response


@login_required
@require_GET
@reads_from_replica
def conversations_export(request: HttpRequest, file_format: str) -> HttpResponse | StreamingHttpResponse:
    """One row per conversation counted in the selection's range and filters, as the user may see them:
    CSV streamed, or XLSX with the same columns and a sheet stating the selection."""
    form = _form(request)
    contacts = report_contacts(
        user=request.user,
        start=form.range_start,
        end=form.range_end,
        dimensions=form.filters,
        business_hours_only=form.cleaned_data["business_hours"],
    ).order_by("counted_at", "id")
    _record_export(request, contacts, detail=f"conversations {file_format}")
    rows = contacts.iterator(chunk_size=2000)
    response: HttpResponse | StreamingHttpResponse
    if file_format == "xlsx" and contacts.count() >= XLSX_MAX_ROWS:
        raise ValidationFailed(
            f"A workbook holds at most {XLSX_MAX_ROWS - 1:,} conversations: export CSV or choose fewer days.",
            fields={"end": "Too many conversations for XLSX."},
        )
    if file_format == "xlsx":
        response = HttpResponse(conversations_xlsx(rows, selection=_selection(request, form)), content_type=XLSX)
    else:
        # The rows are read as the response streams, after the view (and its replica scope) has returned.
        response = StreamingHttpResponse(
            replica_streamed(streamed_csv(conversation_rows(rows))), content_type="text/csv; charset=utf-8"
        )
    _attachment(response, form, name="conversations", file_format=file_format)
    return response


def _record_export(request: HttpRequest, contacts, *, detail: str) -> None:
    """The access log's entry for the customers an export names (one statement; the ids are read in SQL)."""
    customer_ids = contacts.exclude(customer_id=None).order_by().values_list("customer_id", flat=True).distinct()
    customer_access_record(actor=request.user, customer_ids=customer_ids, surface="export", detail=detail)


def _attachment(
    response: HttpResponse | StreamingHttpResponse, form: ReportForm, *, name: str, file_format: str
) -> None:
    """Make ``response`` a download named for the selection: its range, and whether business hours only."""
    data = form.cleaned_data
    hours = "-business-hours" if data["business_hours"] else ""
    filename = f"{name}-{data['start']:%Y%m%d}-{data['end']:%Y%m%d}{hours}.{file_format}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'


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


def _drill_contacts(request: HttpRequest) -> tuple[QuerySet[Interaction], dict[str, object]]:
    """The contacts behind one figure (the interval starting at ``at``, the group and filters given, as
    the user may see them; oldest first) and what the page says of them. ``ValidationFailed`` for a
    malformed interval, id or KPI; ``PermissionDenied`` for a team or agent beyond the user's."""
    try:
        at = dt.datetime.fromisoformat(request.GET.get("at", ""))
    except ValueError:
        raise ValidationFailed("Which interval?", fields={"at": "Give the interval's start (ISO 8601)."}) from None
    interval = request.GET.get("interval", Interval.DAY.value)
    if at.tzinfo is None or interval not in [choice.value for choice in Interval]:
        raise ValidationFailed("Which interval?", fields={"at": "Give an interval and its start with its offset."})
    kpi = request.GET.get("kpi", "")
    if kpi and kpi not in KPIS:
        raise ValidationFailed("Which figure?", fields={"kpi": f"Unknown KPI {kpi!r}."})
    dimensions = _drill_dimensions(request)
    _require_visible(request.user, {name: values for name, values in dimensions.items() if values != [""]})
    business_hours = request.GET.get("business_hours") == "on"
    contacts = report_contacts(
        user=request.user,
        start=at,
        end=interval_end(at, interval),
        dimensions=dimensions,
        business_hours_only=business_hours,
    )
    counted = contacts.count()
    behind = ""
    if kpi:
        contacts, behind = contacts_behind(contacts=contacts, kpi=kpi)
    about = {
        "at": at,
        "business_hours_explanation": BUSINESS_HOURS_EXPLANATION if business_hours else "",
        "interval_label": interval_label(at, interval),
        "kpi": KPIS[kpi] if kpi else None,
        "behind": behind,
        "counted": counted,
        "dimensions": [(GROUP_LABELS[name], values[0] or BLANK) for name, values in dimensions.items()],
    }
    return contacts, about


@login_required
@require_GET
@reads_from_replica
def report_contacts_page(request: HttpRequest) -> HttpResponse:
    """The contacts behind one figure, 50 a page, each linked to its record in the console (supervisors and
    admins) and its customer's 360; htmx swaps only the list when the page changes."""
    contacts, about = _drill_contacts(request)
    page = Paginator(contacts, CONTACTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        **about,
        "page": page,
        "query": _without_page(request.GET),
        "console": request.user.is_staff and role_of(request.user) in (Role.SUPERVISOR, Role.ADMIN),
    }
    if _htmx(request):
        response = render(request, "insights/reports/partials/contacts_list.html", context)
        response["HX-Push-Url"] = request.get_full_path()
        return response
    return render(request, "insights/reports/contacts.html", context)


@login_required
@require_GET
@reads_from_replica
def report_contacts_export(request: HttpRequest) -> StreamingHttpResponse:
    """The contacts behind one figure as CSV, one row per conversation (the per-conversation export's columns)."""
    contacts, about = _drill_contacts(request)
    _record_export(request, contacts, detail="report contacts csv")
    rows = conversation_rows(contacts.iterator(chunk_size=2000))
    response = StreamingHttpResponse(replica_streamed(streamed_csv(rows)), content_type="text/csv; charset=utf-8")
    at = cast(dt.datetime, about["at"]).astimezone(ZoneInfo(settings.TIME_ZONE))
    response["Content-Disposition"] = f'attachment; filename="contacts-{at:%Y%m%d-%H%M}.csv"'
    return response


def _without_page(query: QueryDict) -> str:
    kept = query.copy()
    kept.pop("page", None)
    return kept.urlencode()


DESK_KPIS = ["handled", "aht", "occupancy"]


@login_required
@require_GET
@reads_from_replica
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
@reads_from_replica
def agent_timeline_page(request: HttpRequest) -> HttpResponse:
    """Each agent's state per day: logged in, available, busy, after-contact, away by reason, and a bar."""
    form = TimelineForm(request.GET)
    if not form.is_valid():
        raise ValidationFailed(
            gettext("Please correct the selection."),
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
