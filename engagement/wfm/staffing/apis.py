"""REST API of staffing, under /api/v1/engagement/wfm/staffing/.

- ``POST staffing/calculate/``: the calculator (a what-if; it writes nothing, so a token needs only
  ``insights:read``).
- ``GET staffing/planning-queues/<id>/requirements/?day=YYYY-MM-DD``: a planning queue's requirement per
  interval of a local day, with the day's totals.

Supervisors (their teams' queues), admins and integration clients read; agents are refused.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.common.days import local_day_bounds
from engagement.wfm.access import access_planning_queue, require_wfm_reader
from engagement.wfm.staffing.calculator import demand_of, staffing_calculate
from engagement.wfm.staffing.selectors import requirement_day_totals, requirements_between
from engagement.wfm.staffing.serializers import (
    CalculateInputSerializer,
    CalculationSerializer,
    RequirementDayInputSerializer,
    RequirementDaySerializer,
)


class CalculateApi(APIView):
    """One interval's required agents for a what-if, with the figures three agents either side."""

    scope_resource = "insights"
    scope_read_methods = ("POST",)

    @extend_schema(request=CalculateInputSerializer, responses=CalculationSerializer)
    def post(self, request):
        require_wfm_reader(request.user)
        serializer = CalculateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        calculation = staffing_calculate(demand=demand_of(values), shrinkage_percent=values["shrinkage_percent"])
        return Response(CalculationSerializer(calculation).data)


class RequirementDayApi(APIView):
    """A planning queue's requirement per interval of one local day."""

    scope_resource = "insights"

    @extend_schema(
        parameters=[OpenApiParameter("day", str, description="YYYY-MM-DD, local")],
        responses=RequirementDaySerializer,
    )
    def get(self, request, planning_queue_id: str):
        planning_queue = access_planning_queue(request.user, planning_queue_id)
        query = RequirementDayInputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        day = query.validated_data["day"]
        start, end = local_day_bounds(day)
        rows = list(requirements_between(planning_queue=planning_queue, start=start, end=end))
        body = {
            "planning_queue": planning_queue,
            "day": day,
            "totals": requirement_day_totals(rows, planning_queue.interval_minutes),
            "requirements": rows,
        }
        return Response(RequirementDaySerializer(body).data)
