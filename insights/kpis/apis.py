"""REST API of the KPIs: series for any KPI × interval × grouping, and the registry.

Any signed-in user may ask: the figures are scoped by ``insights.access`` (admins all, supervisors
their teams, agents their own). API tokens need ``insights:read``.
"""

from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.common.replica import reads_from_replica
from insights.kpis.definitions import KPIS
from insights.kpis.selectors import DIMENSIONS, kpi_series
from insights.kpis.serializers import (
    KpiDefinitionSerializer,
    KpiSeriesQuerySerializer,
    KpiSeriesSerializer,
)


class KpiSeriesApi(APIView):
    """KPI figures by interval (local time, DST handled) and grouping, read from the rollups."""

    scope_resource = "insights"

    @extend_schema(parameters=[KpiSeriesQuerySerializer], responses=KpiSeriesSerializer)
    @reads_from_replica
    def get(self, request):
        serializer = KpiSeriesQuerySerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        filters = {name: sorted(data[name]) for name in DIMENSIONS if data.get(name)}
        series = kpi_series(
            user=request.user,
            kpis=[name for name in KPIS if name in data["kpis"]],
            start=data["start"],
            end=data["end"],
            interval=data["interval"],
            group_by=[name for name in DIMENSIONS if name in data["group_by"]],
            filters=filters,
            compare=data["compare"],
            business_hours_only=data["business_hours_only"],
        )
        return Response(KpiSeriesSerializer(asdict(series)).data)


class KpiDefinitionListApi(APIView):
    """Every KPI: its unit, formula, numerator and denominator (docs/kpis.md explains them)."""

    scope_resource = "insights"

    @extend_schema(responses=KpiDefinitionSerializer(many=True))
    def get(self, request):
        definitions = [
            {
                "name": kpi.name,
                "label": kpi.label,
                "unit": kpi.unit.value,
                "formula": kpi.formula,
                "numerator": kpi.numerator_text,
                "denominator": kpi.denominator_text,
            }
            for kpi in KPIS.values()
        ]
        return Response(KpiDefinitionSerializer(definitions, many=True).data)
