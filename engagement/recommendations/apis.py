"""REST API of recommended actions, under /api/v1/engagement/recommendations/.

A customer's actions (``?customer=<id>``; ``status=open`` by default: offered, not expired, best
score first) and deciding one (``<id>/accept/``, ``<id>/dismiss/``). Access is the customer's
(``selectors.access_recommendations_customer``): an unknown customer or action is 404, another
team's 403. API tokens need ``customers:read`` (GET) or ``customers:write`` (a decision).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from engagement.recommendations.selectors import (
    access_recommendation,
    access_recommendations_customer,
    recommendations_of,
    recommendations_open_for,
)
from engagement.recommendations.serializers import (
    DecisionInputSerializer,
    RecommendationListQuerySerializer,
    RecommendedActionSerializer,
)
from engagement.recommendations.services import recommendation_decide


class RecommendationListApi(APIView):
    scope_resource = "customers"

    @extend_schema(
        parameters=[RecommendationListQuerySerializer],
        responses={
            200: RecommendedActionSerializer(many=True),
            404: OpenApiResponse(description="No such customer (`not_found`)"),
        },
    )
    def get(self, request):
        query = RecommendationListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        customer = access_recommendations_customer(request.user, query.validated_data["customer"])
        status, limit = query.validated_data["status"], query.validated_data["limit"]
        if status == "open":
            actions = recommendations_open_for(customer_id=customer.pk, limit=limit)
        else:
            actions = list(recommendations_of(customer_id=customer.pk).filter(status=status)[:limit])
        return Response(RecommendedActionSerializer(actions, many=True).data)


class _DecisionApi(APIView):
    scope_resource = "customers"
    accepted = True

    @extend_schema(request=DecisionInputSerializer, responses=RecommendedActionSerializer)
    def post(self, request, recommendation_id: str):
        serializer = DecisionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        action = access_recommendation(request.user, recommendation_id)
        action = recommendation_decide(
            actor=request.user,
            recommendation_id=action.pk,
            accepted=self.accepted,
            note=serializer.validated_data["note"],
        )
        return Response(RecommendedActionSerializer(action).data)


class RecommendationAcceptApi(_DecisionApi):
    accepted = True


class RecommendationDismissApi(_DecisionApi):
    accepted = False
