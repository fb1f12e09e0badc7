"""REST API of the people side of schedules (issue 15, part D), under /api/v1/engagement/wfm/.

Agents read their own published week and ask for time off and swaps; supervisors (their teams) and
admins decide, enter time off and edit shifts; integration clients read time off and swaps
(``insights:read``: WFM has no token scope of its own). Every object is fetched through
``engagement.wfm.access``; refusals are the one error shape (400 with fields, 403, 404, 409).
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.common.days import parse_day
from cea.common.errors import ValidationFailed
from cea.common.serializers import validated
from engagement.routing.models import AgentProfile
from engagement.wfm.access import (
    access_own_shift,
    access_planned_agent,
    access_planned_shift,
    access_schedule,
    access_swap,
    access_time_off,
    require_rostered,
    swaps_visible_to,
    time_off_visible_to,
)
from engagement.wfm.scheduling import roster_selectors as selectors
from engagement.wfm.scheduling.editing import ActivityPlan, shift_create, shift_delete, shift_update
from engagement.wfm.scheduling.models import Shift
from engagement.wfm.scheduling.requests import (
    swap_cancel,
    swap_decide,
    swap_request,
    swap_respond,
    time_off_cancel,
    time_off_decide,
    time_off_enter,
    time_off_request,
)
from engagement.wfm.scheduling.roster_serializers import (
    DecisionSerializer,
    MyDaySerializer,
    RespondSerializer,
    ShiftCreateInputSerializer,
    ShiftEditSerializer,
    ShiftInputSerializer,
    ShiftSerializer,
    SwapInputSerializer,
    SwapSerializer,
    TimeOffInputSerializer,
    TimeOffSerializer,
)

LIST_LIMIT = 500


class MyScheduleApi(APIView):
    """The caller's published shifts, day by day, for the week containing ``week`` (default: this week)."""

    scope_resource = "insights"

    @extend_schema(
        parameters=[OpenApiParameter("week", OpenApiTypes.DATE, description="A day of the week, YYYY-MM-DD")],
        responses=MyDaySerializer(many=True),
    )
    def get(self, request):
        require_rostered(request.user)  # who asks first: a client's bad date is a 403, not a 400
        day = parse_day(request.query_params.get("week") or timezone.localdate().isoformat(), field="week")
        days = selectors.my_week(user=request.user, week_start=selectors.monday_of(day))
        return Response(MyDaySerializer([{"date": d.date, "shifts": d.shifts} for d in days], many=True).data)


class TimeOffListApi(APIView):
    """GET: time off the caller reads (their own; a planner's agents'). POST: ask for it, or (planners,
    with ``agent``) enter it approved."""

    scope_resource = "insights"

    @extend_schema(
        parameters=[OpenApiParameter("status", str)],
        responses=TimeOffSerializer(many=True),
    )
    def get(self, request):
        rows = time_off_visible_to(request.user).order_by("-starts_at")
        if request.query_params.get("status"):
            rows = rows.filter(status=request.query_params["status"])
        return Response(TimeOffSerializer(rows[:LIST_LIMIT], many=True).data)

    @extend_schema(request=TimeOffInputSerializer, responses={201: TimeOffSerializer})
    def post(self, request):
        data = dict(validated(TimeOffInputSerializer, request.data))
        agent_id = data.pop("agent", None)
        if agent_id is None:
            time_off = time_off_request(user=request.user, **data)
        else:
            agent = access_planned_agent(request.user, agent_id)
            time_off = time_off_enter(planner=request.user, agent=agent, **data)
        return Response(TimeOffSerializer(time_off).data, status=status.HTTP_201_CREATED)


class TimeOffDetailApi(APIView):
    scope_resource = "insights"

    @extend_schema(responses=TimeOffSerializer)
    def get(self, request, time_off_id: str):
        return Response(TimeOffSerializer(access_time_off(request.user, time_off_id)).data)


class TimeOffDecideApi(APIView):
    """A planner of the agent's team approves (shifts trimmed, coverage rewritten) or rejects."""

    scope_resource = "insights"

    @extend_schema(request=DecisionSerializer, responses=TimeOffSerializer)
    def post(self, request, time_off_id: str):
        time_off = access_time_off(request.user, time_off_id)
        data = validated(DecisionSerializer, request.data)
        decided = time_off_decide(planner=request.user, time_off=time_off, approve=data["approve"])
        return Response(TimeOffSerializer(decided).data)


class TimeOffCancelApi(APIView):
    scope_resource = "insights"

    @extend_schema(request=None, responses=TimeOffSerializer)
    def post(self, request, time_off_id: str):
        time_off = access_time_off(request.user, time_off_id)
        return Response(TimeOffSerializer(time_off_cancel(user=request.user, time_off=time_off)).data)


class SwapListApi(APIView):
    """GET: swaps the caller asked, is asked, or (planners) of their teams. POST: offer one of your shifts."""

    scope_resource = "insights"

    @extend_schema(responses=SwapSerializer(many=True))
    def get(self, request):
        return Response(SwapSerializer(swaps_visible_to(request.user)[:LIST_LIMIT], many=True).data)

    @extend_schema(request=SwapInputSerializer, responses={201: SwapSerializer})
    def post(self, request):
        data = validated(SwapInputSerializer, request.data)
        shift = access_own_shift(request.user, data["shift"])
        counterpart = AgentProfile.objects.select_related("user").filter(pk=data["counterpart"]).first()
        if counterpart is None:
            raise ValidationFailed("No such colleague.", fields={"counterpart": "Unknown agent."})
        theirs = None
        if data["counterpart_shift"] is not None:
            theirs = Shift.objects.select_related("schedule").filter(pk=data["counterpart_shift"]).first()
            if theirs is None:
                raise ValidationFailed("No such shift.", fields={"counterpart_shift": "Unknown shift."})
        swap = swap_request(
            user=request.user, shift=shift, counterpart=counterpart, counterpart_shift=theirs, note=data["note"]
        )
        return Response(SwapSerializer(swap).data, status=status.HTTP_201_CREATED)


class SwapDetailApi(APIView):
    scope_resource = "insights"

    @extend_schema(responses=SwapSerializer)
    def get(self, request, swap_id: str):
        return Response(SwapSerializer(access_swap(request.user, swap_id)).data)


class SwapRespondApi(APIView):
    """The colleague asked accepts or declines."""

    scope_resource = "insights"

    @extend_schema(request=RespondSerializer, responses=SwapSerializer)
    def post(self, request, swap_id: str):
        swap = access_swap(request.user, swap_id)
        data = validated(RespondSerializer, request.data)
        return Response(SwapSerializer(swap_respond(user=request.user, swap=swap, accept=data["accept"])).data)


class SwapDecideApi(APIView):
    """A planner approves an accepted swap (the shifts change hands) or rejects it."""

    scope_resource = "insights"

    @extend_schema(request=DecisionSerializer, responses=SwapSerializer)
    def post(self, request, swap_id: str):
        swap = access_swap(request.user, swap_id)
        data = validated(DecisionSerializer, request.data)
        decided = swap_decide(
            planner=request.user, swap=swap, approve=data["approve"], override_contract=data["override_contract"]
        )
        return Response(SwapSerializer(decided).data)


class SwapCancelApi(APIView):
    scope_resource = "insights"

    @extend_schema(request=None, responses=SwapSerializer)
    def post(self, request, swap_id: str):
        swap = access_swap(request.user, swap_id)
        return Response(SwapSerializer(swap_cancel(user=request.user, swap=swap)).data)


def _plans(data: dict) -> list[ActivityPlan] | None:
    if "activities" not in data:
        return None
    return [
        ActivityPlan(item["kind"], item["starts_at"], item["ends_at"], item["planning_queue"])
        for item in data["activities"]
    ]


class ShiftCreateApi(APIView):
    """Add a shift to a schedule; answers the shift and the contract's warnings."""

    scope_resource = "insights"

    @extend_schema(request=ShiftCreateInputSerializer, responses={201: ShiftEditSerializer})
    def post(self, request, schedule_id: str):
        schedule = access_schedule(request.user, schedule_id, change=True)
        data = validated(ShiftCreateInputSerializer, request.data)
        agent = access_planned_agent(request.user, data["agent"])
        edit = shift_create(
            planner=request.user,
            schedule=schedule,
            agent=agent,
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            activities=_plans(data),
        )
        body = ShiftEditSerializer({"shift": edit.shift, "warnings": edit.warnings}).data
        return Response(body, status=status.HTTP_201_CREATED)


class ShiftDetailApi(APIView):
    """A shift for a planner: read, change (PUT) or remove (DELETE)."""

    scope_resource = "insights"

    @extend_schema(responses=ShiftSerializer)
    def get(self, request, shift_id: str):
        shift = Shift.objects.filter(pk=access_planned_shift(request.user, shift_id).pk)
        return Response(ShiftSerializer(shift.prefetch_related("activities").select_related("agent__user").get()).data)

    @extend_schema(request=ShiftInputSerializer, responses=ShiftEditSerializer)
    def put(self, request, shift_id: str):
        shift = access_planned_shift(request.user, shift_id)
        data = validated(ShiftInputSerializer, request.data)
        edit = shift_update(
            planner=request.user,
            shift=shift,
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            activities=_plans(data),
        )
        return Response(ShiftEditSerializer({"shift": edit.shift, "warnings": edit.warnings}).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, shift_id: str):
        shift_delete(planner=request.user, shift=access_planned_shift(request.user, shift_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
