"""The engagement metrics page (/insights/metrics/) and its CSV exports, for supervisors and admins.

Supervisors see their teams' customers, admins every customer (``insights.access``); agents 403.
The query is the API's (``EngagementMetricsQuerySerializer``), so the page's URL is its permalink.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from cea.common.channels import Channel
from cea.common.errors import ValidationFailed
from cea.common.replica import reads_from_replica
from insights.access import customer_insight_team_ids
from insights.metrics.selectors import LAPSE_DAYS, REVENUE_EVENT_KINDS, EngagementMetrics, Rate, engagement_metrics
from insights.metrics.serializers import NO_PERSONA, EngagementMetricsQuerySerializer
from insights.reports.exports import as_csv
from records.customers.selectors import customer_personas_in_use

TABLES = ("months", "personas", "channels", "cohorts", "stages")


def _query(request: HttpRequest) -> dict[str, Any]:
    query = EngagementMetricsQuerySerializer(data=request.GET)
    if not query.is_valid():
        fields = {name: " ".join(str(error) for error in errors) for name, errors in query.errors.items()}
        raise ValidationFailed(gettext("The selection is not valid."), fields=fields)
    return dict(query.validated_data)


def _percent(rate: Rate) -> float | None:
    return None if rate.value is None else round(100 * rate.value, 1)


def chart_data(metrics: EngagementMetrics) -> dict[str, Any]:
    """What static/insights/metrics.js draws: rates by month, retention by cohort, engagement by persona."""
    return {
        "months": [month.month.strftime("%Y-%m") for month in metrics.months],
        "engagement": [_percent(month.engagement) for month in metrics.months],
        "churn": [_percent(month.churn) for month in metrics.months],
        "cohorts": [cohort.month.strftime("%Y-%m") for cohort in metrics.cohorts],
        "retention": [
            [offset, index, None if value is None else round(100 * value, 1)]
            for index, cohort in enumerate(metrics.cohorts)
            for offset, value in enumerate(cohort.retention)
        ],
        "personas": [group.key or "no persona" for group in metrics.by_persona],
        "persona_engagement": [_percent(group.engagement) for group in metrics.by_persona],
    }


@login_required
@require_GET
@reads_from_replica
def engagement_metrics_page(request: HttpRequest) -> HttpResponse:
    team_ids = customer_insight_team_ids(request.user, "Engagement metrics")
    context: dict[str, Any] = {
        "channels": Channel.choices,
        "personas": customer_personas_in_use(team_ids=team_ids),
        "no_persona": NO_PERSONA,
        "lapse_days": LAPSE_DAYS,
        "revenue_kinds": REVENUE_EVENT_KINDS,
        "selection": request.GET,
    }
    try:
        query = _query(request)
    except ValidationFailed as error:
        context["error"] = error
    else:
        metrics = engagement_metrics(team_ids=team_ids, **query)
        context.update(metrics=metrics, chart=chart_data(metrics), query=query)
    template = "insights/metrics/partials/result.html" if request.headers.get("HX-Request") == "true" else None
    return render(request, template or "insights/metrics/engagement.html", context)


def _rows(metrics: EngagementMetrics, table: str) -> list[list[Any]]:
    if table == "months":
        return [["month", "customers", "engaged", "engagement rate", "active at start", "lapsed", "churn rate"]] + [
            [
                m.month.strftime("%Y-%m"),
                m.engagement.whole,
                m.engagement.part,
                m.engagement.value,
                m.churn.whole,
                m.churn.part,
                m.churn.value,
            ]
            for m in metrics.months
        ]
    if table in ("personas", "channels"):
        groups = metrics.by_persona if table == "personas" else metrics.by_channel
        return [[table[:-1], "customers", "engaged", "engagement rate"]] + [
            [group.key, group.engagement.whole, group.engagement.part, group.engagement.value] for group in groups
        ]
    if table == "stages":
        return [
            [
                "stage",
                "entered",
                "in it now",
                "conversion",
                "drop-off",
                "median days",
                "sentiment",
                "satisfaction",
                "effort",
            ]
        ] + [
            [
                stage.key,
                stage.entered,
                stage.current,
                stage.conversion,
                stage.drop_off,
                stage.median_days,
                stage.sentiment,
                stage.satisfaction,
                stage.effort,
            ]
            for stage in metrics.stages
        ]
    span = max((len(cohort.retained) for cohort in metrics.cohorts), default=0)
    return [["cohort", "size", "lapsed", "churn rate", *[f"month {k}" for k in range(span)]]] + [
        [cohort.month.strftime("%Y-%m"), cohort.size, cohort.lapsed, cohort.churn.value, *cohort.retention]
        for cohort in metrics.cohorts
    ]


@login_required
@require_GET
@reads_from_replica
def engagement_metrics_export(request: HttpRequest) -> HttpResponse:
    """One table of the page as CSV: ``table`` is months, personas, channels, cohorts or stages."""
    team_ids = customer_insight_team_ids(request.user, "Engagement metrics")
    table = request.GET.get("table", "months")
    if table not in TABLES:
        raise ValidationFailed(f"No table {table!r}.", fields={"table": f"One of {', '.join(TABLES)}."})
    query = _query(request)
    metrics = engagement_metrics(team_ids=team_ids, **query)
    response = HttpResponse(as_csv(_rows(metrics, table)), content_type="text/csv; charset=utf-8")
    name = f"engagement-{table}-{metrics.first_month:%Y-%m}-to-{metrics.last_month:%Y-%m}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
