"""REST API of planning queues, under /api/v1/engagement/wfm/planning-queues/.

Supervisors read and change their teams' queues, admins all; integration clients read all (a token
needs ``insights:read``: planning figures are read with the KPIs); agents are refused. Discovery
(creating queues from the interaction history) is for admins.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.common.errors import PermissionDenied
from cea.common.roles import is_admin
from engagement.wfm.access import access_planned_queue, access_planning_queue, planning_queues_visible_to
from engagement.wfm.planning.serializers import (
    DiscoverInputSerializer,
    PlanningQueueSerializer,
    PlanningQueueUpdateSerializer,
)
from engagement.wfm.planning.services import planning_queue_update, planning_queues_discover


class PlanningQueueListApi(APIView):
    """The planning queues the caller reads."""

    scope_resource = "insights"

    @extend_schema(responses=PlanningQueueSerializer(many=True))
    def get(self, request):
        return Response(PlanningQueueSerializer(planning_queues_visible_to(request.user), many=True).data)


class PlanningQueueDetailApi(APIView):
    """One planning queue; PATCH changes its target, model, caps or team (planners)."""

    scope_resource = "insights"

    @extend_schema(responses=PlanningQueueSerializer)
    def get(self, request, planning_queue_id: str):
        return Response(PlanningQueueSerializer(access_planning_queue(request.user, planning_queue_id)).data)

    @extend_schema(request=PlanningQueueUpdateSerializer, responses=PlanningQueueSerializer)
    def patch(self, request, planning_queue_id: str):
        planning_queue = access_planned_queue(request.user, planning_queue_id)
        serializer = PlanningQueueUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changed = planning_queue_update(user=request.user, planning_queue=planning_queue, **serializer.validated_data)
        return Response(PlanningQueueSerializer(changed).data)


class PlanningQueueDiscoverApi(APIView):
    """Create planning queues for the history's queues and channels not planned yet (admins)."""

    scope_resource = "insights"

    @extend_schema(request=DiscoverInputSerializer, responses={201: PlanningQueueSerializer(many=True)})
    def post(self, request):
        if not is_admin(request.user):
            raise PermissionDenied("Only administrators discover planning queues.", code="not_an_admin")
        serializer = DiscoverInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = planning_queues_discover(**serializer.validated_data)
        return Response(PlanningQueueSerializer(created, many=True).data, status=status.HTTP_201_CREATED)
