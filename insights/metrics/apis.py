"""REST API of the engagement metrics, under /api/v1/insights/metrics/ (tokens need ``insights:read``).

Supervisors read their teams' customers, admins and clients every customer; agents are refused.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.common.replica import reads_from_replica
from insights.access import customer_insight_team_ids
from insights.metrics.selectors import engagement_metrics
from insights.metrics.serializers import EngagementMetricsQuerySerializer, EngagementMetricsSerializer


class EngagementMetricsApi(APIView):
    """Engagement rate and churn by month, by persona and channel, retention by cohort, lifetime value."""

    scope_resource = "insights"

    @extend_schema(parameters=[EngagementMetricsQuerySerializer], responses=EngagementMetricsSerializer)
    @reads_from_replica
    def get(self, request):
        team_ids = customer_insight_team_ids(request.user, "Engagement metrics")
        query = EngagementMetricsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        metrics = engagement_metrics(team_ids=team_ids, **query.validated_data)
        return Response(EngagementMetricsSerializer(metrics).data)
