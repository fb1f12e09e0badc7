"""REST API for interactions: list, read, record a finished conversation."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from records.access import access_case, access_customer, access_interaction, interactions_visible_to
from records.interactions.filters import InteractionFilter
from records.interactions.models import Interaction
from records.interactions.serializers import InteractionCreateSerializer, InteractionSerializer
from records.interactions.services import interaction_record


class InteractionListApi(generics.ListAPIView):
    scope_resource = "interactions"
    serializer_class = InteractionSerializer
    filterset_class = InteractionFilter
    ordering_fields = ["started_at", "ended_at", "id"]
    ordering = ["-started_at", "-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Interaction.objects.none()
        return interactions_visible_to(self.request.user).select_related("agent")

    @extend_schema(request=InteractionCreateSerializer, responses={201: InteractionSerializer})
    def post(self, request):
        serializer = InteractionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        customer_id, case_id = data.pop("customer", None), data.pop("case", None)
        customer = access_customer(request.user, customer_id) if customer_id is not None else None
        case = access_case(request.user, case_id) if case_id else None
        interaction = interaction_record(actor=request.user, customer=customer, case=case, **data)
        return Response(InteractionSerializer(interaction).data, status=status.HTTP_201_CREATED)


class InteractionDetailApi(APIView):
    scope_resource = "interactions"

    @extend_schema(responses=InteractionSerializer)
    def get(self, request, interaction_id: int):
        return Response(InteractionSerializer(access_interaction(request.user, interaction_id)).data)
