"""REST API of the engagement strategies, under /api/v1/insights/strategies/.

Reading (list, one, dry-run, effect): supervisors, administrators and API tokens with
``insights:read``; figures about customers are limited to a supervisor's teams. Writing
(create, change): administrators, signed in (no token scope writes strategies).
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from insights.strategies.selectors import (
    access_strategy,
    arbitration_components,
    arbitration_settings,
    arbitration_uplift,
    strategies_visible_to,
    strategy_dry_run,
    strategy_effects,
    strategy_firing_counts,
    strategy_recommendation_outcomes,
)
from insights.strategies.serializers import DryRunSerializer, EffectSerializer, StrategySerializer, UpliftSerializer
from insights.strategies.services import strategy_build, strategy_create, strategy_update


class StrategyListApi(APIView):
    """Every strategy; POST creates one (administrators)."""

    scope_resource = "insights"

    @extend_schema(responses=StrategySerializer(many=True))
    def get(self, request):
        return Response(StrategySerializer(strategies_visible_to(request.user), many=True).data)

    @extend_schema(request=StrategySerializer, responses=StrategySerializer)
    def post(self, request):
        serializer = StrategySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        strategy = strategy_create(actor=request.user, fields=dict(serializer.validated_data))
        return Response(StrategySerializer(strategy).data, status=status.HTTP_201_CREATED)


class StrategyDetailApi(APIView):
    """One strategy by key; PATCH changes it (administrators; the key stays)."""

    scope_resource = "insights"

    @extend_schema(responses=StrategySerializer)
    def get(self, request, key: str):
        return Response(StrategySerializer(access_strategy(request.user, key)).data)

    @extend_schema(request=StrategySerializer, responses=StrategySerializer)
    def patch(self, request, key: str):
        strategy = access_strategy(request.user, key)
        serializer = StrategySerializer(strategy, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        strategy = strategy_update(actor=request.user, strategy=strategy, fields=dict(serializer.validated_data))
        return Response(StrategySerializer(strategy).data)


class StrategyDryRunApi(APIView):
    """Who the saved strategy would reach now, by reason, with a sample (nothing recorded or done)."""

    scope_resource = "insights"

    @extend_schema(responses=DryRunSerializer)
    def get(self, request, key: str):
        strategy = access_strategy(request.user, key)
        return Response(DryRunSerializer(strategy_dry_run(user=request.user, strategy=strategy)).data)


class StrategyDraftDryRunApi(APIView):
    """The dry-run of a strategy not saved: the body is a strategy (validated, never saved)."""

    scope_resource = "insights"
    scope_read_methods = ("POST",)

    @extend_schema(request=StrategySerializer, responses=DryRunSerializer)
    def post(self, request):
        strategies_visible_to(request.user)
        serializer = StrategySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        strategy = strategy_build(fields=dict(serializer.validated_data))
        return Response(DryRunSerializer(strategy_dry_run(user=request.user, strategy=strategy)).data)


class StrategyEffectApi(APIView):
    """Firings by outcome and the effect against the holdout (stored by the effects task)."""

    scope_resource = "insights"

    @extend_schema(responses=EffectSerializer(many=True))
    def get(self, request, key: str):
        strategy = access_strategy(request.user, key)
        return Response(
            {
                "firings": strategy_firing_counts(user=request.user, strategy=strategy),
                "recommendations": strategy_recommendation_outcomes(user=request.user, strategy=strategy),
                "effects": EffectSerializer(strategy_effects(user=request.user, strategy=strategy), many=True).data,
            }
        )


class ArbitrationApi(APIView):
    """Arbitration: its settings, each strategy's components, and its uplift against the random control group
    (Qini and AUUC by scikit-uplift, stored by a task; a supervisor's teams only)."""

    scope_resource = "insights"

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        rows = arbitration_uplift(user=request.user)
        return Response(
            {
                "settings": arbitration_settings(),
                "strategies": arbitration_components(user=request.user),
                "uplift": UpliftSerializer(rows, many=True).data,
            }
        )
