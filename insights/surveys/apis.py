"""Surveys' REST API under /api/v1/insights/surveys/.

- ``GET /api/v1/insights/surveys/``: the figures (tokens need ``insights:read``); admins and clients
  every survey, supervisors their teams', agents their own contacts'.
- ``POST /api/v1/insights/surveys/answers/``: a customer's answer with the survey's one-time token
  (no sign-in: the token is the credential). The chat widget posts here from customers' sites, so
  it answers cross-origin requests (no cookies are involved).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.common.errors import ValidationFailed
from insights.access import figures_scope
from insights.surveys.selectors import survey_report, surveys_selected
from insights.surveys.serializers import (
    SurveyAnsweredSerializer,
    SurveyAnswerSerializer,
    SurveyQuerySerializer,
    SurveyReportSerializer,
    survey_query,
)
from insights.surveys.services import survey_answer


class SurveyReportApi(APIView):
    """CSAT, response rate, NPS and CES, overall and by agent, queue, channel or team."""

    scope_resource = "insights"

    @extend_schema(parameters=[SurveyQuerySerializer], responses=SurveyReportSerializer)
    def get(self, request):
        scope = figures_scope(request.user)
        query = survey_query(request.query_params)
        group_by = query.pop("group_by")
        report = survey_report(surveys=surveys_selected(scope=scope, **query), group_by=group_by)
        return Response(SurveyReportSerializer(report).data)


class SurveyAnswerApi(APIView):
    """Answer a survey once with its token (the chat widget, or any client holding the link)."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    parser_classes = [JSONParser, FormParser]

    @extend_schema(
        operation_id="insights_survey_answer",
        request=SurveyAnswerSerializer,
        responses={
            201: SurveyAnsweredSerializer,
            400: OpenApiResponse(description="A score off the scale or a comment too long"),
            404: OpenApiResponse(description="No survey has this token"),
            410: OpenApiResponse(description="Already answered, or expired"),
        },
    )
    def post(self, request):
        answer = SurveyAnswerSerializer(data=request.data)
        if not answer.is_valid():
            fields = {name: " ".join(str(e) for e in errors) for name, errors in answer.errors.items()}
            raise ValidationFailed("The answer is invalid.", fields=fields)
        survey = survey_answer(**answer.validated_data)
        return Response(SurveyAnsweredSerializer(survey).data, status=status.HTTP_201_CREATED)

    @extend_schema(exclude=True)
    def options(self, request, *args, **kwargs):
        return Response(status=status.HTTP_204_NO_CONTENT)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Access-Control-Allow-Origin"] = "*"
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        return response
