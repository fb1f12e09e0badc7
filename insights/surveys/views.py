"""Survey pages: the public one-time answer page (``/s/<token>/``, no sign-in), the report
(``/insights/surveys/``, supervisors their teams, admins all) with its CSV, and the eNPS pulse."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from cea.common.errors import ApplicationError, PermissionDenied, ValidationFailed
from cea.common.roles import Role, role_of, sees_everything, team_ids_of
from insights.access import figures_scope
from insights.reports.exports import as_csv
from insights.surveys.models import SCALES, SkipReason
from insights.surveys.selectors import (
    PULSE_MIN_GROUP,
    pulse_answered,
    pulse_figures,
    survey_report,
    survey_responses,
    surveys_selected,
)
from insights.surveys.serializers import survey_query
from insights.surveys.services import MAX_COMMENT, pulse_answer, pulse_period, survey_answer, survey_by_token


def _score(value: str | None) -> object:
    try:
        return int(value or "")
    except ValueError:
        return value


@require_http_methods(["GET", "POST"])
def survey_public_page(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's one-time survey: a plain form (works without JavaScript), CSRF-protected."""
    try:
        survey = survey_by_token(token=token)
    except ApplicationError as closed:
        return render(request, "insights/surveys/closed.html", {"error": closed}, status=closed.status_code)
    low, high = SCALES[survey.kind]
    context: dict[str, Any] = {"survey": survey, "scale": range(low, high + 1), "max_comment": MAX_COMMENT}
    if request.method == "POST":
        try:
            survey_answer(token=token, score=_score(request.POST.get("score")), comment=request.POST.get("comment", ""))
        except ValidationFailed as error:
            context.update(error=error, comment=request.POST.get("comment", ""))
            return render(request, "insights/surveys/answer.html", context, status=400)
        except ApplicationError as closed:
            return render(request, "insights/surveys/closed.html", {"error": closed}, status=closed.status_code)
        return render(request, "insights/surveys/thanks.html", {})
    return render(request, "insights/surveys/answer.html", context)


def _require_report_reader(user) -> None:
    if role_of(user) not in (Role.SUPERVISOR, Role.ADMIN):
        raise PermissionDenied("The survey report is for supervisors and administrators.")


def _selection(request: HttpRequest) -> tuple[dict, Any]:
    scope = figures_scope(request.user)
    _require_report_reader(request.user)
    query = survey_query(request.GET, blank_is_unset=True)
    group_by = query.pop("group_by")
    return {"group_by": group_by, **query}, surveys_selected(scope=scope, **query)


@login_required
@require_GET
def survey_report_page(request: HttpRequest) -> HttpResponse:
    figures_scope(request.user)
    _require_report_reader(request.user)
    context: dict[str, Any] = {"selection": request.GET, "skip_reasons": SkipReason.choices}
    try:
        query, surveys = _selection(request)
    except ValidationFailed as error:
        context["error"] = error
    else:
        context.update(
            query=query,
            report=survey_report(surveys=surveys, group_by=query["group_by"]),
            responses=survey_responses(surveys=surveys),
        )
    return render(request, "insights/surveys/report.html", context)


@login_required
@require_GET
def survey_report_export(request: HttpRequest) -> HttpResponse:
    """The report's groups as CSV (its table twin), with the formulas' parts in their own columns."""
    query, surveys = _selection(request)
    report = survey_report(surveys=surveys, group_by=query["group_by"])
    header = [
        query["group_by"], "sent", "responses", "response rate %", "csat responses", "csat satisfied (4-5)",
        "csat %", "nps responses", "promoters (9-10)", "detractors (0-6)", "nps", "ces responses", "ces average",
    ]  # fmt: skip
    rows: list[list[Any]] = [header] + [
        [
            group.key,
            group.sent,
            group.responses,
            group.response_rate,
            group.csat_responses,
            group.csat_satisfied,
            group.csat,
            group.nps_responses,
            group.promoters,
            group.detractors,
            group.nps,
            group.ces_responses,
            group.ces,
        ]
        for group in [*report.groups, report.total]
    ]
    response = HttpResponse(as_csv(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="surveys-{query["start"]}-to-{query["end"]}.csv"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def pulse_page(request: HttpRequest) -> HttpResponse:
    """Agents and supervisors answer the month's eNPS; supervisors and admins see the results of
    groups of at least five answers."""
    role = role_of(request.user)
    if role not in (Role.AGENT, Role.SUPERVISOR, Role.ADMIN):
        raise PermissionDenied("The employee pulse is for agents, supervisors and administrators.")
    period = pulse_period(timezone.localdate())
    context: dict[str, Any] = {"period": period, "scale": range(0, 11), "min_group": PULSE_MIN_GROUP}
    status = 200
    if request.method == "POST":
        try:
            pulse_answer(actor=request.user, score=_score(request.POST.get("score")))
            context["answered"] = True
        except ApplicationError as error:
            context["error"] = error
            status = error.status_code
    if "answered" not in context and role in (Role.AGENT, Role.SUPERVISOR):
        context["answered"] = pulse_answered(user_id=request.user.pk, period=period)
    if role in (Role.SUPERVISOR, Role.ADMIN):
        team_ids = None if sees_everything(request.user) else team_ids_of(request.user)
        context["total"], context["teams"] = pulse_figures(period=period, team_ids=team_ids)
    return render(request, "insights/surveys/pulse.html", context, status=status)
