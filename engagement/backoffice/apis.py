"""REST API of back-office work and callbacks' outcomes, lists and customers' bookings.

- ``POST backoffice/cases/``: route a case (id or reference, fetched through ``records.access``).
- ``POST backoffice/tasks/``: create and route a task.
- ``GET backoffice/``: the back-office work of the user's teams (``?status=``).
- ``POST backoffice/<id>/complete/``: the handling agent is done (a case is resolved).
- ``GET callbacks/``: callbacks of the user's teams' customers (``?status=gave_up`` …), served by
  ``engagement.outbound.apis.CallbackRequestApi`` (its queryset: ``callbacks_visible_to``, filter
  ``CallbackFilter``).
- ``POST conversations/<id>/callback-outcome/``: answered or no answer (retried or given up).
- ``POST callbacks/offered/``: a customer books the callback an out-of-hours answer offered
  (anonymous, with the answer's signed token).
"""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.accounts.models import Team
from cea.common.errors import NotFound
from engagement.access import access_conversation
from engagement.backoffice.models import BackofficeKind, BackofficeStatus, BackofficeWork
from engagement.backoffice.selectors import (
    access_backoffice_work,
    backoffice_work_visible_to,
    callback_offer_origin_allowed,
)
from engagement.backoffice.serializers import (
    BackofficeWorkSerializer,
    CallbackBookedSerializer,
    CallbackDetailSerializer,
    CallbackOfferInputSerializer,
    CallbackOutcomeInputSerializer,
    CaseRouteInputSerializer,
    CompleteInputSerializer,
    TaskInputSerializer,
)
from engagement.backoffice.services import (
    backoffice_case_route,
    backoffice_complete,
    backoffice_task_create,
    callback_offer_book,
)
from engagement.outbound.models import Callback, CallbackStatus
from engagement.outbound.services import callback_outcome
from records.access import access_case, access_customer, require_signed_in


class CaseRouteApi(APIView):
    """Route a case to a queue as back-office work: the router offers it to a skilled agent."""

    scope_resource = "conversations"

    @extend_schema(request=CaseRouteInputSerializer, responses={201: BackofficeWorkSerializer})
    def post(self, request):
        require_signed_in(request.user)
        serializer = CaseRouteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        case = access_case(request.user, data["case"])
        work = backoffice_case_route(actor=request.user, case=case, queue=data["queue"], note=data["note"])
        return Response(BackofficeWorkSerializer(work).data, status=status.HTTP_201_CREATED)


class TaskCreateApi(APIView):
    """Create a back-office task (for a customer or a team) and route it to a queue."""

    scope_resource = "conversations"

    @extend_schema(request=TaskInputSerializer, responses={201: BackofficeWorkSerializer})
    def post(self, request):
        require_signed_in(request.user)
        serializer = TaskInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        customer = access_customer(request.user, data.pop("customer")) if data.get("customer") else None
        data.pop("customer", None)
        team_id = data.pop("team")
        team = Team.objects.filter(pk=team_id).first() if team_id else None
        if team_id and team is None:
            raise NotFound(f"No team {team_id}.")
        work = backoffice_task_create(actor=request.user, customer=customer, team=team, **data)
        return Response(BackofficeWorkSerializer(work).data, status=status.HTTP_201_CREATED)


class BackofficeFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=BackofficeStatus.choices)
    kind = django_filters.ChoiceFilter(choices=BackofficeKind.choices)

    class Meta:
        model = BackofficeWork
        fields = ["status", "kind"]


class CallbackFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CallbackStatus.choices)

    class Meta:
        model = Callback
        fields = ["status"]


class BackofficeListApi(generics.ListAPIView):
    """The back-office work of the user's teams (and any on their desk), newest first."""

    scope_resource = "conversations"
    serializer_class = BackofficeWorkSerializer
    filterset_class = BackofficeFilter
    ordering_fields = ["created_at", "due_at", "id"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return BackofficeWork.objects.none()
        return backoffice_work_visible_to(user=self.request.user)


class BackofficeCompleteApi(APIView):
    """The handling agent finished the work: a case is resolved, the conversation goes to wrap-up."""

    scope_resource = "conversations"

    @extend_schema(request=CompleteInputSerializer, responses=BackofficeWorkSerializer)
    def post(self, request, work_id: str):
        work = access_backoffice_work(user=request.user, work_id=work_id)
        serializer = CompleteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        work = backoffice_complete(
            actor=request.user, conversation=work.conversation, outcome=serializer.validated_data["outcome"]
        )
        return Response(BackofficeWorkSerializer(work).data)


class CallbackOutcomeApi(APIView):
    """How the callback's call went: answered, or no answer (tried again later, or given up)."""

    scope_resource = "conversations"

    @extend_schema(request=CallbackOutcomeInputSerializer, responses=CallbackDetailSerializer)
    def post(self, request, conversation_id: str):
        conversation = access_conversation(request.user, conversation_id)
        serializer = CallbackOutcomeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        callback = callback_outcome(actor=request.user, conversation=conversation, **serializer.validated_data)
        return Response(CallbackDetailSerializer(callback).data)


class CallbackOfferApi(APIView):
    """A customer books the callback an out-of-hours answer offered (its ``callback_token``).

    Anonymous: the signed token is the permission. Due when the queue next opens unless ``due_at``.
    The chat widget's "Call me back" books here too, with its ``site_key`` (for cross-origin reads).
    """

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        request=CallbackOfferInputSerializer,
        responses={
            201: CallbackBookedSerializer,
            400: OpenApiResponse(description="Invalid fields"),
            403: OpenApiResponse(description="A forged or expired token"),
            409: OpenApiResponse(description="Already booked, or the customer is unknown"),
        },
    )
    def post(self, request):
        serializer = CallbackOfferInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        booking = {name: value for name, value in serializer.validated_data.items() if name != "site_key"}
        callback = callback_offer_book(**booking)
        # Anonymous: when, not who (no customer, conversation or attempt log).
        return Response(CallbackBookedSerializer(callback).data, status=status.HTTP_201_CREATED)

    def finalize_response(self, request, response, *args, **kwargs):
        """The chat widget books from a customer's site: the origins its site key allows read the answer.

        The widget posts form-encoded (a simple request, no preflight) with its ``site_key``; no
        cookie is involved either way, the token alone is the permission.
        """
        response = super().finalize_response(request, response, *args, **kwargs)
        origin = request.headers.get("Origin", "")
        if callback_offer_origin_allowed(site_key=_site_key_of(request), origin=origin):
            response["Access-Control-Allow-Origin"] = origin
            response["Vary"] = "Origin"
        return response


def _site_key_of(request) -> str:
    try:
        value = request.data.get("site_key", "") if request.method == "POST" else ""
    except Exception:  # a body that could not be parsed: no site key to go by
        return ""
    return value if isinstance(value, str) else ""
