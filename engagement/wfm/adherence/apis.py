"""REST API of adherence, under /api/v1/engagement/wfm/adherence/: the live rows, the days, the exceptions.

Read by supervisors (their teams' agents), admins and integration clients (all; API tokens need
``insights:read``, the scope of figures: there is no ``wfm`` scope); agents are refused with 403.
Everything goes through ``engagement.wfm.access``.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.common.serializers import validated
from engagement.wfm.adherence.selectors import adherence_live, days_visible_to, exceptions_visible_to, live_json
from engagement.wfm.adherence.serializers import (
    AdherenceDaySerializer,
    AdherenceExceptionSerializer,
    DaysQuerySerializer,
    ExceptionsQuerySerializer,
    LiveQuerySerializer,
    LiveRowSerializer,
)

EXCEPTIONS_SHOWN = 500


class AdherenceLiveApi(APIView):
    """Each agent now: the activity scheduled, the presence, in or out of adherence and since when,
    today's adherence and conformance so far (``?team=``: one team's agents)."""

    scope_resource = "insights"  # no wfm scope yet: figures, read like the KPIs

    @extend_schema(parameters=[LiveQuerySerializer], responses=LiveRowSerializer(many=True))
    def get(self, request):
        query = validated(LiveQuerySerializer, request.query_params)
        rows = adherence_live(user=request.user, team_id=query.get("team"))
        return Response(LiveRowSerializer([live_json(row) for row in rows], many=True).data)


class AdherenceDaysApi(APIView):
    """Adherence and conformance per agent and local day, ``start``–``end`` inclusive (default: the last
    7 days), of the caller's teams (by the team the agent was in that day)."""

    scope_resource = "insights"  # no wfm scope yet: figures, read like the KPIs

    @extend_schema(parameters=[DaysQuerySerializer], responses=AdherenceDaySerializer(many=True))
    def get(self, request):
        query = validated(DaysQuerySerializer, request.query_params)
        days = days_visible_to(request.user).filter(day__gte=query["start"], day__lte=query["end"])
        if "agent" in query:
            days = days.filter(agent_id=query["agent"])
        if "team" in query:
            days = days.filter(team_id=query["team"])
        return Response(AdherenceDaySerializer(days.order_by("day", "agent__user__username"), many=True).data)


class AdherenceExceptionsApi(APIView):
    """Exceptions (out of adherence longer than ``CEA_ADHERENCE_EXCEPTION_MINUTES``) of the caller's
    agents, latest first: ``?open=true`` only those still open, ``?since=`` started since then."""

    scope_resource = "insights"  # no wfm scope yet: figures, read like the KPIs

    @extend_schema(parameters=[ExceptionsQuerySerializer], responses=AdherenceExceptionSerializer(many=True))
    def get(self, request):
        query = validated(ExceptionsQuerySerializer, request.query_params)
        exceptions = exceptions_visible_to(request.user)
        if query.get("open") is not None:
            exceptions = exceptions.filter(ended_at__isnull=query["open"])
        if "since" in query:
            exceptions = exceptions.filter(started_at__gte=query["since"])
        if "agent" in query:
            exceptions = exceptions.filter(agent_id=query["agent"])
        return Response(AdherenceExceptionSerializer(exceptions[:EXCEPTIONS_SHOWN], many=True).data)
