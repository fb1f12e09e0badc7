"""REST API of routing: an agent's presence and offers, transfer, wrap-up, queue statistics, codes,
business hours and the queues' choice of them.

The desktop uses the websocket for the same actions; integrators and scripts use this API. API
tokens need ``conversations:read`` (GET) or ``conversations:write``; offers and presence belong
to agents and supervisors (an integration client is refused with 403).
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.common.errors import PermissionDenied
from cea.common.roles import Role, role_of, sees_everything
from engagement.access import access_conversation, access_queue, queues_visible_to, require_config_reader
from engagement.orchestration import conversation_transfer, conversation_wrap_up
from engagement.routing.hours import ClosedDays, WeeklyRange
from engagement.routing.live import offer_json
from engagement.routing.models import ReasonCode, WorkItem, WrapUpCode
from engagement.routing.offers import offer_accept, offer_reject
from engagement.routing.presence import agent_profile_for, presence_json, presence_set
from engagement.routing.selectors import (
    business_hours_all,
    business_hours_get,
    offers_pending_for,
    queue_is_open,
    queue_open_spans,
    queue_stats,
    transfer_destination,
)
from engagement.routing.serializers import (
    BusinessHoursInputSerializer,
    BusinessHoursSerializer,
    CodeSerializer,
    OfferSerializer,
    PresenceInputSerializer,
    PresenceSerializer,
    QueueHoursInputSerializer,
    QueueHoursQuerySerializer,
    QueueHoursSerializer,
    QueueStatsSerializer,
    RejectInputSerializer,
    TransferInputSerializer,
    WorkItemSerializer,
    WrapUpInputSerializer,
)
from engagement.routing.services import (
    business_hours_create,
    business_hours_delete,
    business_hours_update,
    queue_business_hours_set,
    require_routing_admin,
)


class MyPresenceApi(APIView):
    """The signed-in agent's presence; POST changes it (``away`` needs a reason code)."""

    scope_resource = "conversations"

    @extend_schema(responses=PresenceSerializer)
    def get(self, request):
        profile = agent_profile_for(request.user)
        return Response(PresenceSerializer(presence_json(profile)).data)

    @extend_schema(request=PresenceInputSerializer, responses=PresenceSerializer)
    def post(self, request):
        serializer = PresenceInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        profile = presence_set(
            actor=request.user,
            agent_user=request.user,
            presence=serializer.validated_data["presence"],
            reason_code=serializer.validated_data["reason"],
        )
        return Response(PresenceSerializer(presence_json(profile)).data)


class MyOffersApi(APIView):
    """The signed-in agent's pending offers, oldest first."""

    scope_resource = "conversations"

    @extend_schema(responses=OfferSerializer(many=True))
    def get(self, request):
        profile = agent_profile_for(request.user)
        offers = [offer_json(offer) for offer in offers_pending_for(profile=profile)]
        return Response(OfferSerializer(offers, many=True).data)


class OfferAcceptApi(APIView):
    """Take the offered conversation: it becomes yours and active."""

    scope_resource = "conversations"

    @extend_schema(request=None, responses=WorkItemSerializer)
    def post(self, request, offer_id: str):
        conversation = offer_accept(actor=request.user, offer_id=offer_id)
        item = WorkItem.objects.select_related("queue").filter(conversation=conversation).order_by("-pk").first()
        return Response(WorkItemSerializer(item).data)


class OfferRejectApi(APIView):
    """Decline the offer: it goes to the next agent."""

    scope_resource = "conversations"

    @extend_schema(request=RejectInputSerializer, responses=OfferSerializer)
    def post(self, request, offer_id: str):
        serializer = RejectInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        offer = offer_reject(actor=request.user, offer_id=offer_id, reason=serializer.validated_data["reason"])
        return Response(OfferSerializer(offer_json(offer)).data)


class ConversationTransferApi(APIView):
    """Hand the conversation to a queue or a named agent, with a note for them."""

    scope_resource = "conversations"

    @extend_schema(request=TransferInputSerializer, responses=WorkItemSerializer)
    def post(self, request, conversation_id: str):
        conversation = access_conversation(request.user, conversation_id)
        serializer = TransferInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        to_queue, to_agent = transfer_destination(to_queue=data["to_queue"], to_agent=data["to_agent"])
        item = conversation_transfer(
            actor=request.user, conversation=conversation, to_queue=to_queue, to_agent=to_agent, note=data["note"]
        )
        return Response(WorkItemSerializer(item).data)


class ConversationWrapUpApi(APIView):
    """End (if still open) and wrap up the conversation; it is recorded in records with the wrap-up."""

    scope_resource = "conversations"

    @extend_schema(request=WrapUpInputSerializer, responses={200: WorkItemSerializer, 204: None})
    def post(self, request, conversation_id: str):
        conversation = access_conversation(request.user, conversation_id)
        serializer = WrapUpInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        conversation_wrap_up(actor=request.user, conversation=conversation, **serializer.validated_data)
        # The wrap-up has committed: the answer reports it, even for a conversation that never
        # reached an agent's queue and so has no work item to show (204).
        item = WorkItem.objects.select_related("queue").filter(conversation=conversation).order_by("-pk").first()
        if item is None:
            return Response(status=204)
        return Response(WorkItemSerializer(item).data)


class QueueStatsApi(APIView):
    """Live queue statistics for supervisors: waiting work, oldest wait, free agents, service level (24 h)."""

    scope_resource = "conversations"

    @extend_schema(responses=QueueStatsSerializer(many=True))
    def get(self, request):
        if role_of(request.user) not in (Role.SUPERVISOR, Role.ADMIN, Role.INTEGRATION):
            raise PermissionDenied("Queue statistics are for supervisors.")
        return Response(QueueStatsSerializer(queue_stats(), many=True).data)


class ReasonCodeListApi(APIView):
    """The reasons an agent may give for being away."""

    scope_resource = "conversations"

    @extend_schema(responses=CodeSerializer(many=True))
    def get(self, request):
        codes = ReasonCode.objects.filter(is_active=True, system=False).values("code", "label")
        return Response(CodeSerializer(codes, many=True).data)


class WrapUpCodeListApi(APIView):
    """The wrap-up codes an agent may choose from."""

    scope_resource = "conversations"

    @extend_schema(responses=CodeSerializer(many=True))
    def get(self, request):
        return Response(
            CodeSerializer(WrapUpCode.objects.filter(is_active=True).values("code", "label"), many=True).data
        )


# --- Business hours ---------------------------------------------------------------------------


def _hours_input(data: dict) -> dict:
    """The service's keywords from a validated ``BusinessHoursInputSerializer``."""
    return {
        "label": data["label"],
        "time_zone": data["time_zone"],
        "ranges": [WeeklyRange(r["weekday"], r["opens"], r["closes"]) for r in data["ranges"]],
        "closures": [ClosedDays(c["name"], c["first_day"], c["last_day"]) for c in data["closures"]],
    }


def _hours_out(request, schedule) -> dict:
    visible = None
    if not sees_everything(request.user):
        visible = set(queues_visible_to(request.user).values_list("name", flat=True))
    return BusinessHoursSerializer(schedule, context={"visible_queues": visible}).data


class BusinessHoursListApi(APIView):
    """Business-hours schedules (read: supervisors, admins, clients); POST creates one (admins only).

    A schedule is weekly opening ranges and dated closures in a time zone; queues point to one.
    Overlapping ranges, a range that closes before it opens, an unknown time zone or a closure
    that ends before it starts are refused (400, by field) and nothing is written.
    """

    scope_resource = "conversations"

    @extend_schema(responses=BusinessHoursSerializer(many=True))
    def get(self, request):
        require_config_reader(request.user)
        schedules = business_hours_all()
        return Response([_hours_out(request, schedule) for schedule in schedules])

    @extend_schema(request=BusinessHoursInputSerializer, responses={201: BusinessHoursSerializer})
    def post(self, request):
        require_routing_admin(request.user)
        serializer = BusinessHoursInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        schedule = business_hours_create(actor=request.user, name=data["name"], **_hours_input(data))
        return Response(_hours_out(request, business_hours_get(name=schedule.name)), status=201)


class BusinessHoursDetailApi(APIView):
    """One schedule; PUT replaces it whole (ranges and closures included), DELETE removes it unless a
    queue uses it (409). Writes: admins only."""

    scope_resource = "conversations"

    @extend_schema(responses=BusinessHoursSerializer)
    def get(self, request, name: str):
        require_config_reader(request.user)
        return Response(_hours_out(request, business_hours_get(name=name)))

    @extend_schema(request=BusinessHoursInputSerializer, responses=BusinessHoursSerializer)
    def put(self, request, name: str):
        require_routing_admin(request.user)
        serializer = BusinessHoursInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        schedule = business_hours_update(actor=request.user, name=name, new_name=data["name"], **_hours_input(data))
        return Response(_hours_out(request, business_hours_get(name=schedule.name)))

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, name: str):
        business_hours_delete(actor=request.user, name=name)
        return Response(status=204)


class QueueHoursApi(APIView):
    """A queue's business hours: whether it is open now and its open spans (UTC) between ``start`` and
    ``end``. Supervisors read their teams' queues and the shared ones; PUT (admins) points the queue
    to a schedule, or to none (always open)."""

    scope_resource = "conversations"

    def _answer(self, queue, *, start, end):
        spans = queue_open_spans(queue=queue, start=start, end=end)
        schedule = queue.business_hours
        body = {
            "queue": queue.name,
            "business_hours": schedule.name if schedule else None,
            "time_zone": schedule.time_zone if schedule else None,
            "open_now": queue_is_open(queue=queue, at=timezone.now()),
            "start": start,
            "end": end,
            "open_spans": [{"start": span.start, "end": span.end} for span in spans],
        }
        return Response(QueueHoursSerializer(body).data)

    @extend_schema(parameters=[QueueHoursQuerySerializer], responses=QueueHoursSerializer)
    def get(self, request, name: str):
        queue = access_queue(request.user, name)
        query = QueueHoursQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return self._answer(queue, **query.validated_data)

    @extend_schema(request=QueueHoursInputSerializer, responses=QueueHoursSerializer)
    def put(self, request, name: str):
        access_queue(request.user, name)
        serializer = QueueHoursInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        queue = queue_business_hours_set(
            actor=request.user, queue_name=name, schedule_name=serializer.validated_data["business_hours"]
        )
        start = timezone.now()
        return self._answer(access_queue(request.user, queue.name), start=start, end=start + timedelta(days=7))
