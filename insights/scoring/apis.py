"""REST API of the scoring models: ``GET /api/v1/insights/models/``.

Each model kind with its latest run and the runs before it (windows, AUC, Brier score, calibration
bins, weights, row counts). Supervisors, admins and integration clients; agents get 403. API
tokens need ``insights:read``. How the figures are computed: docs/models.md.
"""

from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from insights.access import require_customer_insight_reader
from insights.scoring.selectors import model_histories
from insights.scoring.serializers import ModelHistorySerializer


class ModelListApi(APIView):
    """Every scoring model (churn risk, propensity) with its latest and previous runs, newest first."""

    scope_resource = "insights"

    @extend_schema(responses=ModelHistorySerializer(many=True))
    def get(self, request):
        require_customer_insight_reader(request.user, "The scoring models")
        histories = [
            {**asdict(history), "latest": history.latest, "previous": history.previous} for history in model_histories()
        ]
        return Response(ModelHistorySerializer(histories, many=True).data)
