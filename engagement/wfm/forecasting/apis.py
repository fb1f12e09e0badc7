"""REST API of forecasting, under /api/v1/engagement/wfm/forecasts/ and …/wfm/special-days/.

Readers: supervisors (their teams' planning queues), admins and integration clients (all; tokens need
``insights:read``); agents 403. Changes (adjustments, runs, special days) are for supervisors and
admins; every queue's special days for admins only.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.common.errors import ValidationFailed
from cea.common.tasks import send_on_commit
from engagement.wfm.access import (
    access_planned_queue,
    access_planning_queue,
    access_special_day,
    planning_queues_visible_to,
    require_special_day_planner,
    special_days_visible_to,
)
from engagement.wfm.forecasting.models import RunKind
from engagement.wfm.forecasting.selectors import forecast_intervals, latest_run
from engagement.wfm.forecasting.serializers import (
    AdjustmentInputSerializer,
    ForecastIntervalSerializer,
    IntervalRangeSerializer,
    PlanningQueueForecastSerializer,
    SpecialDayInputSerializer,
    SpecialDaySerializer,
)
from engagement.wfm.forecasting.services import (
    forecast_adjust,
    special_day_create,
    special_day_delete,
    special_day_update,
)
from engagement.wfm.forecasting.tasks import forecast_queue
from engagement.wfm.planning.models import PlanningQueue


class ForecastApi(APIView):
    scope_resource = "insights"


def _with_run(queue: PlanningQueue) -> dict:
    return {
        "id": queue.pk,
        "queue": queue.queue,
        "channel": queue.channel,
        "interval_minutes": queue.interval_minutes,
        "latest_run": latest_run(planning_queue=queue),
    }


class ForecastsApi(ForecastApi):
    """The planning queues the caller reads, each with its latest finished run and backtest."""

    @extend_schema(responses=PlanningQueueForecastSerializer(many=True))
    def get(self, request: Request) -> Response:
        queues = planning_queues_visible_to(request.user)
        return Response(PlanningQueueForecastSerializer([_with_run(q) for q in queues], many=True).data)


class ForecastDetailApi(ForecastApi):
    @extend_schema(responses=PlanningQueueForecastSerializer)
    def get(self, request: Request, planning_queue_id: str) -> Response:
        queue = access_planning_queue(request.user, planning_queue_id)
        return Response(PlanningQueueForecastSerializer(_with_run(queue)).data)


class ForecastIntervalsApi(ForecastApi):
    """The forecast intervals in ``[start, end)`` (at most 62 days): the model's figures and the planned ones."""

    @extend_schema(parameters=[IntervalRangeSerializer], responses=ForecastIntervalSerializer(many=True))
    def get(self, request: Request, planning_queue_id: str) -> Response:
        queue = access_planning_queue(request.user, planning_queue_id)
        query = IntervalRangeSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        intervals = forecast_intervals(planning_queue=queue, **query.validated_data).select_related("special_day")
        return Response(ForecastIntervalSerializer(intervals, many=True).data)


class ForecastAdjustApi(ForecastApi):
    """Adjust (or clear) the planned figures of the intervals in ``[start, end)``; answers the count changed."""

    @extend_schema(request=AdjustmentInputSerializer, responses={200: dict})
    def post(self, request: Request, planning_queue_id: str) -> Response:
        queue = access_planned_queue(request.user, planning_queue_id)
        data = AdjustmentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changed = forecast_adjust(user=request.user, planning_queue=queue, **data.validated_data)
        return Response({"changed": changed})


class ForecastRunApi(ForecastApi):
    """Queue a run of the queue's forecast (Celery); 202 — read the queue's forecast for the result."""

    @extend_schema(request=None, responses={202: dict})
    def post(self, request: Request, planning_queue_id: str) -> Response:
        queue = access_planned_queue(request.user, planning_queue_id)
        send_on_commit(forecast_queue, queue.pk, kind=RunKind.MANUAL, user_id=request.user.pk)
        return Response({"queued": True, "planning_queue": queue.pk}, status=status.HTTP_202_ACCEPTED)


class SpecialDaysApi(ForecastApi):
    """Special days the caller reads (every queue's and their queues'), and a new one."""

    @extend_schema(responses=SpecialDaySerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(SpecialDaySerializer(special_days_visible_to(request.user), many=True).data)

    @extend_schema(request=SpecialDayInputSerializer, responses={201: SpecialDaySerializer})
    def post(self, request: Request) -> Response:
        data = SpecialDayInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        queue_id = values.pop("planning_queue")
        queue = access_planned_queue(request.user, queue_id) if queue_id is not None else None
        require_special_day_planner(request.user, queue)
        special = special_day_create(planning_queue=queue, **values)
        return Response(SpecialDaySerializer(special).data, status=status.HTTP_201_CREATED)


class SpecialDayApi(ForecastApi):
    @extend_schema(responses=SpecialDaySerializer)
    def get(self, request: Request, special_day_id: str) -> Response:
        return Response(SpecialDaySerializer(access_special_day(request.user, special_day_id)).data)

    @extend_schema(request=SpecialDayInputSerializer, responses=SpecialDaySerializer)
    def put(self, request: Request, special_day_id: str) -> Response:
        special = access_special_day(request.user, special_day_id, change=True)
        data = SpecialDayInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if values.pop("planning_queue") != special.planning_queue_id:
            raise ValidationFailed(
                "A special day stays with its queue.", fields={"planning_queue": "Delete it and add a new one."}
            )
        return Response(SpecialDaySerializer(special_day_update(special_day=special, **values)).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, special_day_id: str) -> Response:
        special_day_delete(special_day=access_special_day(request.user, special_day_id, change=True))
        return Response(status=status.HTTP_204_NO_CONTENT)
