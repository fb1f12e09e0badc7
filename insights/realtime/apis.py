"""REST API of the real-time figures: ``GET /api/v1/insights/realtime/queues/`` (``?team=<id>``).

For supervisors (the queues of their teams and the shared queues of no team), admins and
integration clients (every queue); agents get 403. API tokens need ``insights:read``.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.common.errors import PermissionDenied
from insights.access import realtime_team_ids_of
from insights.realtime.selectors import realtime_queues
from insights.realtime.serializers import QueueFiguresSerializer, TeamFilterSerializer


class RealtimeQueuesApi(APIView):
    """Each queue now: waiting and offered work, the longest wait; today (since local midnight) and the last 15
    minutes: queued, answered, abandoned, short abandons, service level (under the queue's own formula, stated in
    words in ``service_level_variant``) and ASA."""

    scope_resource = "insights"

    # The query's serializer is its schema too: the bounds the API checks are the ones it documents.
    @extend_schema(parameters=[TeamFilterSerializer], responses=QueueFiguresSerializer(many=True))
    def get(self, request):
        query = TeamFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        team_ids = realtime_team_ids_of(request.user)
        team = query.validated_data.get("team")
        if team is not None:
            if team_ids is not None and team not in team_ids:
                raise PermissionDenied("These are the figures of a team you do not supervise.")
            team_ids = frozenset({team})
        return Response(QueueFiguresSerializer(realtime_queues(team_ids=team_ids), many=True).data)
