"""REST API for cases: list, open, read, update, transitions, notes, linked interactions."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from records.access import access_case, access_customer, access_interaction, cases_visible_to
from records.cases.filters import CaseFilter
from records.cases.models import Case, SlaPolicy
from records.cases.selectors import cases_with_priority_rank
from records.cases.serializers import (
    CaseCreateSerializer,
    CaseLinkInteractionSerializer,
    CaseNoteInputSerializer,
    CaseNoteSerializer,
    CaseSerializer,
    CaseTransitionSerializer,
    CaseUpdateSerializer,
    SlaPolicySerializer,
)
from records.cases.services import case_add_note, case_create, case_transition, case_update
from records.interactions.models import Interaction
from records.interactions.services import interaction_link_case

_with_interaction_ids = Prefetch("interactions", queryset=Interaction.objects.only("id", "case_id"))


def _case_out(case_id: int) -> dict:
    """The case as the API shows it; call after the access check."""
    cases = Case.objects.select_related("customer", "team", "assignee").prefetch_related(_with_interaction_ids)
    return CaseSerializer(cases.get(pk=case_id)).data


class CaseListApi(generics.ListAPIView):
    scope_resource = "cases"
    serializer_class = CaseSerializer
    filterset_class = CaseFilter
    ordering_fields = ["created_at", "updated_at", "priority", "resolution_due_at", "reference", "id"]
    ordering_aliases = {"priority": "priority_rank"}
    ordering = ["-created_at", "-id"]
    search_fields = ["reference", "subject"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Case.objects.none()
        return cases_with_priority_rank(
            cases=cases_visible_to(self.request.user)
            .select_related("customer", "team", "assignee")
            .prefetch_related(_with_interaction_ids)
        )

    @extend_schema(request=CaseCreateSerializer, responses={201: CaseSerializer})
    def post(self, request):
        serializer = CaseCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        customer = access_customer(request.user, data.pop("customer").pk)
        case = case_create(actor=request.user, customer=customer, **data)
        return Response(_case_out(case.pk), status=status.HTTP_201_CREATED)


class CaseDetailApi(APIView):
    scope_resource = "cases"

    @extend_schema(responses=CaseSerializer)
    def get(self, request, case_id: str):
        case = access_case(request.user, case_id)
        return Response(_case_out(case.pk))

    @extend_schema(request=CaseUpdateSerializer, responses=CaseSerializer)
    def patch(self, request, case_id: str):
        case = access_case(request.user, case_id)
        serializer = CaseUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        case_update(actor=request.user, case=case, **serializer.validated_data)
        return Response(_case_out(case.pk))


class CaseTransitionApi(APIView):
    """Move the case through its state machine: open, pend, resolve, close, reopen. 409 if not allowed now."""

    scope_resource = "cases"

    @extend_schema(request=CaseTransitionSerializer, responses=CaseSerializer)
    def post(self, request, case_id: str):
        case = access_case(request.user, case_id)
        serializer = CaseTransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        case_transition(actor=request.user, case=case, **serializer.validated_data)
        return Response(_case_out(case.pk))


class CaseNotesApi(APIView):
    scope_resource = "cases"

    @extend_schema(responses=CaseNoteSerializer(many=True))
    def get(self, request, case_id: str):
        case = access_case(request.user, case_id)
        return Response(CaseNoteSerializer(case.notes.select_related("author"), many=True).data)

    @extend_schema(request=CaseNoteInputSerializer, responses={201: CaseNoteSerializer})
    def post(self, request, case_id: str):
        case = access_case(request.user, case_id)
        serializer = CaseNoteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = case_add_note(actor=request.user, case=case, **serializer.validated_data)
        return Response(CaseNoteSerializer(note).data, status=status.HTTP_201_CREATED)


class CaseInteractionLinkApi(APIView):
    scope_resource = "cases"

    @extend_schema(request=CaseLinkInteractionSerializer, responses=CaseSerializer)
    def post(self, request, case_id: str):
        case = access_case(request.user, case_id)
        serializer = CaseLinkInteractionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        interaction = access_interaction(request.user, serializer.validated_data["interaction_id"])
        interaction_link_case(actor=request.user, interaction=interaction, case=case)
        return Response(_case_out(case.pk))


class SlaPolicyListApi(generics.ListAPIView):
    scope_resource = "cases"
    serializer_class = SlaPolicySerializer
    queryset = SlaPolicy.objects.filter(is_active=True)
    pagination_class = None
