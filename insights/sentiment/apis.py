"""REST API of the sentiment report: ``GET /api/v1/insights/sentiment/?start=&end=&group_by=``.

The interactions' sentiment (VADER, English only: docs/sentiment.md) started in the period, in total
and grouped by ``group_by`` (queue, agent, team, channel or day), and the strongly negative turns of
the period. Admins and integration clients (``insights:read``) see every team, supervisors their
teams, agents their own contacts. A bad period is 400 with the field's reason.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.common.errors import ValidationFailed
from cea.common.serializers import CharField
from insights.access import figures_scope
from insights.sentiment.forms import SentimentQueryForm
from insights.sentiment.selectors import negative_turns, sentiment_by, sentiment_total


def form_errors(form) -> ValidationFailed:
    return ValidationFailed(
        "The query is not valid.", fields={name: "; ".join(errors) for name, errors in form.errors.items()}
    )


# The schema of one row, one class (inline: a field called ``label`` would shadow DRF's own).
SentimentRowSerializer = inline_serializer(
    "SentimentRow",
    {
        "key": CharField(),
        "label": CharField(),
        "interactions": serializers.IntegerField(),
        "scored": serializers.IntegerField(),
        "not_scored": serializers.IntegerField(),
        "average": serializers.FloatField(allow_null=True),
        "positive": serializers.IntegerField(),
        "neutral": serializers.IntegerField(),
        "negative": serializers.IntegerField(),
    },
).__class__


class SentimentReportApi(APIView):
    """Sentiment distribution and average of the caller's interactions, grouped by one dimension."""

    scope_resource = "insights"

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "start", OpenApiTypes.DATE, description="First day (YYYY-MM-DD); default 30 days before end"
            ),
            OpenApiParameter("end", OpenApiTypes.DATE, description="Last day, included; default today"),
            OpenApiParameter("group_by", str, enum=["queue", "agent", "team", "channel", "day"]),
        ],
        responses=inline_serializer(
            "SentimentReport",
            {
                "start": serializers.DateField(),
                "end": serializers.DateField(),
                "group_by": CharField(),
                "total": SentimentRowSerializer(),
                "rows": SentimentRowSerializer(many=True),
                "negative_turns": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    def get(self, request):
        scope = figures_scope(request.user)
        form = SentimentQueryForm(request.query_params)
        if not form.is_valid():
            raise form_errors(form)
        start, end = form.range_start, form.range_end
        group_by = form.cleaned_data.get("group_by") or "queue"
        return Response(
            {
                "start": form.cleaned_data["start"],
                "end": form.cleaned_data["end"],
                "group_by": group_by,
                "total": sentiment_total(scope=scope, start=start, end=end).as_json(),
                "rows": [row.as_json() for row in sentiment_by(scope=scope, dimension=group_by, start=start, end=end)],
                "negative_turns": [
                    {
                        "at": turn.at,
                        "conversation": turn.conversation_id,
                        "queue": turn.queue,
                        "team": turn.team_id,
                        "agent": turn.agent_id,
                        "score": turn.score,
                        "threshold": turn.threshold,
                        "priority_raised_by": turn.priority_raised_by,
                        "supervisor_alerted": turn.supervisor_alerted,
                    }
                    for turn in negative_turns(scope=scope, start=start, end=end)
                ],
            }
        )
