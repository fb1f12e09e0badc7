"""REST API of weekly schedules, under /api/v1/engagement/wfm/schedules/.

Supervisors read and change their teams' schedules, admins all; integration clients read (API tokens
with ``insights:read``); agents are refused (their own published shifts are on the desk).
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.common.errors import ValidationFailed
from cea.common.serializers import DayField
from engagement.wfm.access import access_schedule, require_planner
from engagement.wfm.scheduling.selectors import schedule_coverage, schedule_shifts, schedules_list
from engagement.wfm.scheduling.serializers import (
    CoverageSerializer,
    GenerateInputSerializer,
    ScheduleDetailSerializer,
    ScheduleSerializer,
    ShiftSerializer,
)
from engagement.wfm.scheduling.services import schedule_generate, schedule_publish, team_of

MAX_LISTED = 200


def _detail(schedule) -> dict:
    data = dict(ScheduleSerializer(schedule).data)
    data["shifts"] = ShiftSerializer(schedule_shifts(schedule=schedule), many=True).data
    data["coverage"] = CoverageSerializer(schedule_coverage(schedule=schedule), many=True).data
    return data


class _ListQuery(serializers.Serializer):
    team = serializers.IntegerField(required=False)
    week_start = DayField(required=False)


class SchedulesApi(APIView):
    """The schedules the caller reads, newest week first (at most 200): filter by ``team`` and ``week_start``."""

    scope_resource = "insights"

    @extend_schema(
        parameters=[OpenApiParameter("team", int), OpenApiParameter("week_start", OpenApiTypes.DATE)],
        responses=ScheduleSerializer(many=True),
    )
    def get(self, request):
        query = _ListQuery(data=request.query_params)
        if not query.is_valid():
            raise ValidationFailed("Bad filter.", fields=query.errors)
        filters = query.validated_data
        found = schedules_list(user=request.user, team_id=filters.get("team"), week_start=filters.get("week_start"))
        schedules = found[:MAX_LISTED]
        return Response(ScheduleSerializer(schedules, many=True).data)


class ScheduleGenerateApi(APIView):
    """Generate a draft schedule for a team's week with the solver (it runs up to the time limit)."""

    scope_resource = "insights"

    @extend_schema(request=GenerateInputSerializer, responses={201: ScheduleDetailSerializer})
    def post(self, request):
        require_planner(request.user)
        serializer = GenerateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        team = team_of(data["team"])
        schedule = schedule_generate(
            user=request.user, team=team, week_start=data["week_start"], time_limit_seconds=data["time_limit_seconds"]
        )
        return Response(_detail(schedule), status=status.HTTP_201_CREATED)


class ScheduleApi(APIView):
    """One schedule with its shifts (and their activities) and its coverage per queue and interval."""

    scope_resource = "insights"

    @extend_schema(responses=ScheduleDetailSerializer)
    def get(self, request, schedule_id: str):
        return Response(_detail(access_schedule(request.user, schedule_id)))


class SchedulePublishApi(APIView):
    """Publish a draft: the team-week's published schedule before it is superseded."""

    scope_resource = "insights"

    @extend_schema(request=None, responses=ScheduleSerializer)
    def post(self, request, schedule_id: str):
        schedule = access_schedule(request.user, schedule_id, change=True)
        return Response(ScheduleSerializer(schedule_publish(user=request.user, schedule=schedule)).data)
