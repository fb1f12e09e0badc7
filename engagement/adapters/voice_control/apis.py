"""Endpoints of voice call control: the provider's call webhooks (answered with TwiML) and the agents' call actions.

Webhooks, ``POST /api/v1/engagement/voice/<source>/<step>/`` (form-encoded, as Twilio sends them),
signed with ``X-Twilio-Signature`` over the URL and the form; no user: the signature is the
authentication. ``<step>`` is one of ``incoming`` (the number's voice URL), ``gather``, ``after-hours``, ``wait``,
``queue-result``, ``dial-result``, ``message``, ``status`` (the status callback), ``recording`` and
``transcription``. The answer is TwiML (``text/xml``); a refusal is CEA's JSON error.

Agents' actions on a call, ``POST /api/v1/engagement/conversations/<id>/call/{hold,resume,transfer,hang-up}/``
(and ``GET …/call/``): the conversation must be visible to the user (their teams) and theirs to
handle (or they supervise).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions, serializers
from rest_framework.parsers import FormParser
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.common.errors import ApplicationError, NotFound
from cea.common.serializers import CharField, URLField
from engagement.access import access_conversation
from engagement.adapters.voice_control import services
from engagement.adapters.voice_control.models import VoiceCall
from engagement.adapters.voice_control.twiml import TwiML
from engagement.routing.selectors import transfer_destination
from engagement.routing.serializers import TransferInputSerializer, WorkItemSerializer

logger = logging.getLogger(__name__)

TWIML_RESPONSE = {(200, "text/xml"): OpenApiResponse(OpenApiTypes.STR, description="TwiML for the call")}


class CallWebhookSerializer(serializers.Serializer):
    """The fields of Twilio's voice requests CEA reads (others are signed, and ignored)."""

    CallSid = CharField(max_length=64)
    From = CharField(required=False, allow_blank=True, default="", max_length=64)
    To = CharField(required=False, allow_blank=True, default="", max_length=64)
    CallStatus = CharField(required=False, allow_blank=True, default="", max_length=20)
    Digits = CharField(required=False, allow_blank=True, default="", max_length=40)
    SpeechResult = CharField(required=False, allow_blank=True, default="", max_length=1000)
    QueuePosition = CharField(required=False, allow_blank=True, default="", max_length=10)
    QueueResult = CharField(required=False, allow_blank=True, default="", max_length=20)
    DialCallStatus = CharField(required=False, allow_blank=True, default="", max_length=20)
    RecordingSid = CharField(required=False, allow_blank=True, default="", max_length=64)
    RecordingUrl = URLField(required=False, allow_blank=True, default="", max_length=500)
    RecordingStatus = CharField(required=False, allow_blank=True, default="", max_length=20)
    RecordingDuration = CharField(required=False, allow_blank=True, default="", max_length=10)
    TranscriptionSid = CharField(required=False, allow_blank=True, default="", max_length=64)
    TranscriptionText = CharField(
        required=False, allow_blank=True, default="", max_length=20_000, trim_whitespace=False
    )
    TranscriptionStatus = CharField(required=False, allow_blank=True, default="", max_length=20)
    TranscriptionUrl = URLField(required=False, allow_blank=True, default="", max_length=500)


def _twiml(text: str) -> HttpResponse:
    return HttpResponse(text, content_type="text/xml; charset=utf-8")


class VoiceWebhookApi(APIView):
    """One step of a call, from the provider; answered with TwiML."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    parser_classes = [FormParser]

    @extend_schema(
        operation_id="engagement_voice_webhook",
        parameters=[
            OpenApiParameter(
                "X-Twilio-Signature",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=True,
                description="base64 HMAC-SHA1 of the URL and the sorted form parameters, keyed with the auth token",
            ),
            OpenApiParameter("step", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(services.STEPS)),
        ],
        request={"application/x-www-form-urlencoded": CallWebhookSerializer},
        responses={
            **TWIML_RESPONSE,
            400: OpenApiResponse(description="The form is malformed (field errors)"),
            401: OpenApiResponse(description="Missing or wrong X-Twilio-Signature"),
            404: OpenApiResponse(description="No such source, step or call"),
            409: OpenApiResponse(description="The source's credentials are not configured, or the call has ended"),
        },
    )
    def post(self, request, source_name: str, step: str):
        if step not in services.STEPS:
            raise NotFound(f"No voice webhook step {step!r}.", code="unknown_step")
        params = [(name, value) for name, values in request.POST.lists() for value in values]
        source = services.voice_source_verify(
            name=source_name,
            url=request.build_absolute_uri(),
            params=params,
            signature=request.headers.get("X-Twilio-Signature"),
        )
        serializer = CallWebhookSerializer(data=request.POST)
        serializer.is_valid(raise_exception=True)
        form = serializer.validated_data
        if step == "incoming":
            base = request.build_absolute_uri(request.path).removesuffix("incoming/")
            return _twiml(
                services.call_incoming(
                    source=source, call_sid=form["CallSid"], caller=form["From"], dialled=form["To"], webhook_base=base
                )
            )
        call = services.call_for(source=source, call_sid=form["CallSid"])
        if step == "gather":
            return _twiml(services.call_gather(call=call, digits=form["Digits"], speech=form["SpeechResult"]))
        if step == "after-hours":
            return _twiml(services.call_after_hours(call=call, digits=form["Digits"]))
        if step == "wait":
            return _twiml(services.call_wait(call=call, position=form["QueuePosition"]))
        if step == "queue-result":
            return _twiml(services.call_queue_result(call=call, result=form["QueueResult"]))
        if step == "dial-result":
            return _twiml(services.call_dial_result(call=call, dial_status=form["DialCallStatus"]))
        if step == "message":
            return _twiml(str(TwiML().say("Thank you. Goodbye.").hangup()))
        if step == "status":
            services.call_status(call=call, status=form["CallStatus"])
        elif step == "recording":
            services.call_recording(
                call=call,
                recording_sid=form["RecordingSid"],
                url=form["RecordingUrl"],
                status=form["RecordingStatus"],
                duration=form["RecordingDuration"],
            )
        else:
            services.call_transcription(
                call=call,
                recording_sid=form["RecordingSid"],
                transcription_sid=form["TranscriptionSid"],
                text=form["TranscriptionText"],
                status=form["TranscriptionStatus"],
                url=form["TranscriptionUrl"],
            )
        return _twiml(str(TwiML()))

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if isinstance(exc, ApplicationError | exceptions.APIException):
            error = response.data.get("error", {}) if isinstance(response.data, dict) else {}
            # The source, the step and what was wrong; never the signature nor the form (PII).
            logger.warning(
                "Voice webhook refused: source=%s step=%s status=%s code=%s",
                self.kwargs.get("source_name"),
                self.kwargs.get("step"),
                response.status_code,
                error.get("code"),
            )
        return response


# --- Agents' actions -------------------------------------------------------------------------


class CallSerializer(serializers.Serializer):
    conversation = serializers.IntegerField(source="conversation_id")
    call_sid = CharField()
    state = serializers.ChoiceField(choices=["ivr", "queued", "connecting", "connected", "held", "ended"])
    provider_status = CharField()
    agent = serializers.IntegerField(source="agent_id", allow_null=True)
    caller = CharField()


CALL_ACTION_RESPONSES = {
    200: CallSerializer,
    404: OpenApiResponse(description="No such conversation, or it is not a call under CEA's control"),
    403: OpenApiResponse(description="Not your conversation, or another team's"),
    409: OpenApiResponse(description="The call is not in a state for this action"),
    502: OpenApiResponse(description="The provider did not take the call update"),
}


def _call_answer(call: VoiceCall) -> Response:
    call.refresh_from_db()
    return Response(CallSerializer(call).data)


class CallApi(APIView):
    """Where the conversation's call is (IVR, queued, with an agent, on hold, ended)."""

    scope_resource = "conversations"

    @extend_schema(responses={200: CallSerializer})
    def get(self, request, conversation_id: str):
        conversation = access_conversation(request.user, conversation_id)
        return Response(CallSerializer(services.call_of_conversation(conversation)).data)


class _CallActionApi(APIView):
    """A call action of the handling agent (or a supervisor) on a visible conversation."""

    scope_resource = "conversations"
    call_action: Callable[..., VoiceCall]

    @extend_schema(request=None, responses=CALL_ACTION_RESPONSES)
    def post(self, request, conversation_id: str):
        conversation = access_conversation(request.user, conversation_id)
        return _call_answer(type(self).call_action(actor=request.user, conversation=conversation))


class CallHoldApi(_CallActionApi):
    """Put the caller on hold (hold music)."""

    call_action = staticmethod(services.call_hold)


class CallResumeApi(_CallActionApi):
    """Take the caller off hold: they are put through to the agent again."""

    call_action = staticmethod(services.call_resume)


class CallHangUpApi(_CallActionApi):
    """End the call (the provider's status callback then ends the conversation)."""

    call_action = staticmethod(services.call_hang_up)


class CallTransferApi(APIView):
    """Transfer the call to a queue or a named agent; the caller waits until the next agent accepts."""

    scope_resource = "conversations"

    @extend_schema(request=TransferInputSerializer, responses={**CALL_ACTION_RESPONSES, 200: WorkItemSerializer})
    def post(self, request, conversation_id: str):
        conversation = access_conversation(request.user, conversation_id)
        serializer = TransferInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        to_queue, to_agent = transfer_destination(to_queue=data["to_queue"], to_agent=data["to_agent"])
        item = services.call_transfer(
            actor=request.user, conversation=conversation, to_queue=to_queue, to_agent=to_agent, note=data["note"]
        )
        return Response(WorkItemSerializer(item).data)
