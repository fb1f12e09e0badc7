"""A call under CEA's control, from the provider's first webhook to the recording after hang-up.

The provider (Twilio, or one that speaks its voice webhooks) posts a form for each step of a call;
each answer is TwiML (``twiml.py``). The call is one conversation, opened and ended through the
voice adapter's call events (``voice.py``: ``ringing`` when it comes in, ``ended`` when the provider
reports it over), so everything that adapter does (identifying the caller, the ``call:<CallSid>``
context alias, the interaction recorded at the end) holds here too.

1. ``incoming``: the self-service flows greet the caller (``selfservice_start``); each prompt is a
   ``Say`` inside a ``Gather`` whose digits or speech come back to ``gather`` and are fed to the
   engine as the caller's answer (``selfservice_on_ivr_input``); no input is a time-out (prompt again).
2. The flow hands over (or the caller asks for an agent): the conversation's work waits in the
   routing queue like any other, and the call ``Enqueue``-s in a provider queue named after the
   conversation; ``wait`` plays the position and hold music meanwhile.
3. An agent accepts the offer on the desk: ``engagement.hooks``' work-accepted hook marks the call
   ``connecting`` and a task updates the call through the REST API with TwiML that ``Dial``-s the
   agent's phone number or softphone client (``VoiceEndpoint``). Should that update fail, the next
   ``wait`` answers ``Leave`` and the queue's result (``queue-result``) dials the agent instead.
4. Hold (hold music), resume (dial the agent again), transfer (back into a queue or to a named
   agent: the caller waits again until the next accept) and hang-up are REST call updates the
   handling agent (or a supervisor) asks for.
5. ``status`` ends the conversation when the provider reports the call over (the agent's work goes
   to wrap-up as for any conversation); ``recording`` and ``transcription`` callbacks are kept
   (``CallRecording``) and shown: a message while the call is open, a link on the interaction after.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from celery import signature
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cea.accounts.models import User
from cea.accounts.types import Actor
from cea.common.channels import Direction
from cea.common.errors import Conflict, NotFound, ValidationFailed
from cea.common.tasks import send_on_commit
from engagement.access import require_handling_agent
from engagement.adapters.models import WebhookSource
from engagement.adapters.twilio import twilio_source_verify
from engagement.adapters.voice import CallEvent, call_event_ingest
from engagement.adapters.voice_control.client import call_update
from engagement.adapters.voice_control.models import CallRecording, CallState, VoiceCall, VoiceEndpoint
from engagement.adapters.voice_control.twiml import TwiML
from engagement.backoffice.models import OutOfHoursAnswer
from engagement.backoffice.services import MAX_TITLE, backoffice_task_create, callback_offer_book
from engagement.conversations.models import AuthorKind, Conversation, ConversationStatus
from engagement.conversations.services import message_add
from engagement.hooks import register_work_accepted_hook, register_work_transferred_hook
from engagement.orchestration import conversation_transfer
from engagement.routing.models import Queue, WorkItem, WorkStatus
from engagement.selfservice.services import SelfServiceReply, selfservice_on_ivr_input, selfservice_start
from records.interactions.services import interaction_media_add

logger = logging.getLogger(__name__)

CALL_CONNECT_TASK = "engagement.voice.call_connect"
CALL_REQUEUE_TASK = "engagement.voice.call_requeue"
# The provider's CallStatus values that mean the call is over.
CALL_OVER = ("completed", "busy", "failed", "no-answer", "canceled")
# A Dial's DialCallStatus when the agent's leg never talked: the caller goes back to waiting.
AGENT_NOT_REACHED = ("busy", "no-answer", "failed", "canceled")
STEPS = (
    "incoming",
    "gather",
    "after-hours",
    "wait",
    "queue-result",
    "dial-result",
    "message",
    "status",
    "recording",
    "transcription",
)


# --- The provider's requests ------------------------------------------------------------------


def voice_source_verify(*, name: str, url: str, params: list[tuple[str, str]], signature: str | None) -> WebhookSource:
    """The active Twilio voice source ``name`` if ``X-Twilio-Signature`` proves the request is its own
    (``twilio.twilio_source_verify``, over ``url`` as the provider requested it and the form ``params``)."""
    return twilio_source_verify(name=name, url=url, params=params, signature=signature, channel="voice")


def _url(call: VoiceCall, step: str) -> str:
    return f"{call.webhook_base}{step}/"


def _provider_queue(call: VoiceCall) -> str:
    return f"cea-conversation-{call.conversation_id}"


def _language() -> str:
    return settings.CEA_VOICE_LANGUAGE


def _enqueue(call: VoiceCall, twiml: TwiML | None = None) -> TwiML:
    twiml = twiml or TwiML()
    return twiml.enqueue(_provider_queue(call), wait_url=_url(call, "wait"), action=_url(call, "queue-result"))


def _dial(call: VoiceCall) -> TwiML:
    """TwiML that puts the caller through to the call's agent (their number, else their softphone)."""
    if call.agent is None:
        raise Conflict("The call has no agent to put it through to.", code="call_without_agent")
    endpoint = VoiceEndpoint.objects.filter(user=call.agent).first()
    number = endpoint.phone_number if endpoint is not None else ""
    client = (endpoint.client_id if endpoint is not None else "") or call.agent.get_username()
    return TwiML().dial(
        number=number,
        client=client,
        action=_url(call, "dial-result"),
        record=settings.CEA_VOICE_RECORD_CALLS,
        recording_callback=_url(call, "recording"),
    )


def _hold() -> TwiML:
    return TwiML().say("Please hold.", language=_language()).play(settings.CEA_VOICE_HOLD_MUSIC_URL, loop=0)


def _leave_a_message(call: VoiceCall, sorry: str) -> TwiML:
    return _record_message(call, f"{sorry} Please leave a message after the tone, and we will call you back.")


def _closed_message(call: VoiceCall) -> TwiML:
    return _record_message(call, "Please leave your message after the tone.")


def _record_message(call: VoiceCall, prompt: str) -> TwiML:
    """Say ``prompt`` and record the caller (transcribed); the recording lands on the call (``_media_note``)."""
    return (
        TwiML()
        .say(prompt, language=_language())
        .record(
            action=_url(call, "message"),
            recording_callback=_url(call, "recording"),
            transcribe_callback=_url(call, "transcription"),
        )
        .hangup()
    )


def _state_twiml(call: VoiceCall) -> TwiML:
    """What the call should be doing in its current state (a repeated or late request)."""
    if call.state == CallState.ENDED:
        return TwiML().hangup()
    if call.state in (CallState.CONNECTING, CallState.CONNECTED) and call.agent_id is not None:
        return _dial(call)
    if call.state == CallState.HELD:
        return _hold()
    if call.state == CallState.QUEUED:
        return _enqueue(call)
    if call.state == CallState.CLOSED:
        return _closed_menu(call, _closed_answer(call), TwiML())
    return TwiML().redirect(_url(call, "gather"))


def _reply_twiml(call: VoiceCall, reply: SelfServiceReply) -> TwiML:
    """A self-service turn as TwiML: prompts in a Gather, or said before the queue or the hang-up."""
    language = _language()
    status = reply.conversation.status
    if status == ConversationStatus.SELF_SERVICE and reply.expect is not None:
        choices = reply.expect.get("choices") or []
        single_key = bool(choices) and all(len(str(choice)) == 1 for choice in choices)
        twiml = TwiML().gather(
            action=_url(call, "gather"), prompts=reply.prompts, language=language, digits=1 if single_key else 0
        )
        return twiml.redirect(_url(call, "gather"))  # no input: the engine's time-out (prompt again)
    twiml = TwiML()
    for prompt in reply.prompts:
        twiml.say(prompt, language=language)
    if status == ConversationStatus.ENDED:
        return twiml.hangup()
    if status in (ConversationStatus.QUEUED, ConversationStatus.ACTIVE):
        closed = _closed_answer(call)
        if closed is not None and _call_set(call, state=CallState.CLOSED, only_from=(CallState.IVR,)):
            return _closed_twiml(call, closed, twiml)
        _call_set(call, state=CallState.QUEUED, only_from=(CallState.IVR,))
        call.refresh_from_db()
        return _enqueue(call, twiml) if call.state == CallState.QUEUED else twiml.redirect(_url(call, "wait"))
    return twiml.redirect(_url(call, "gather"))


def _call_set(call: VoiceCall, *, state: str, only_from: tuple[str, ...], **fields: Any) -> bool:
    """Move the call to ``state`` if it is in one of ``only_from`` (a conditional update: no lost race)."""
    changed = VoiceCall.objects.filter(pk=call.pk, state__in=only_from).update(
        state=state, updated_at=timezone.now(), **fields
    )
    return bool(changed)


def call_for(*, source: WebhookSource, call_sid: str) -> VoiceCall:
    """The source's call ``call_sid``; another source's calls are never found (``NotFound``)."""
    call = (
        VoiceCall.objects.select_related("conversation", "agent", "source")
        .filter(source=source, call_sid=call_sid)
        .first()
    )
    if call is None:
        raise NotFound(f"No call {call_sid!r} on the source {source.name!r}.", code="unknown_call")
    return call


def call_incoming(*, source: WebhookSource, call_sid: str, caller: str, dialled: str, webhook_base: str) -> str:
    """A call comes in: open its conversation (or find it, for a repeated request) and greet the caller."""
    if not call_sid or len(call_sid) > 64:
        raise ValidationFailed("CallSid is required (at most 64 characters).", fields={"CallSid": "Required."})
    ingested = call_event_ingest(
        source=source,
        call_id=call_sid,
        event=CallEvent.RINGING,
        event_id=f"{call_sid}:ringing",
        caller=caller,
        dialled=dialled,
        timestamp=timezone.now(),
    )
    call, created = VoiceCall.objects.get_or_create(
        source=source,
        call_sid=call_sid,
        defaults={
            "conversation": ingested.conversation,
            "caller": caller[:64],
            "dialled": dialled[:64],
            "webhook_base": webhook_base,
        },
    )
    if not created or call.state != CallState.IVR:
        return str(_state_twiml(call))
    if ingested.conversation.status != ConversationStatus.SELF_SERVICE:
        closed = _closed_answer(call)
        if closed is not None and _call_set(call, state=CallState.CLOSED, only_from=(CallState.IVR,)):
            return str(_closed_twiml(call, closed, TwiML()))
        # The conversation was handed to a queue as it opened (the source's queue): straight to waiting.
        _call_set(call, state=CallState.QUEUED, only_from=(CallState.IVR,))
        call.refresh_from_db()
        return str(_enqueue(call, TwiML().say("Please wait for the next available agent.", language=_language())))
    return str(_reply_twiml(call, selfservice_start(conversation=ingested.conversation)))


def call_gather(*, call: VoiceCall, digits: str, speech: str) -> str:
    """The caller's digits or speech (or nothing: a time-out), answered by the call's self-service flow."""
    if call.state != CallState.IVR:
        return str(_state_twiml(call))
    if len(digits) > 40 or len(speech) > 1000:
        raise ValidationFailed("The input is too long.", fields={"Digits": "At most 40 keys.", "SpeechResult": "Long."})
    reply = selfservice_on_ivr_input(conversation=call.conversation, digits=digits, speech=speech)
    return str(_reply_twiml(call, reply))


# --- Out of hours: the queue is closed ------------------------------------------------------------


def _closed_answer(call: VoiceCall) -> dict[str, Any] | None:
    """The out-of-hours answer stored for the call to say (``out_of_hours_answer_send``), if any.

    ``{"text", "opens_at", "offer_message", "callback_token"}``: the console's text, the queue's
    next opening, and the offers (a callback only for a caller CEA identified: a ``Callback`` needs a customer).
    """
    message = (
        call.conversation.messages.filter(payload__has_key="out_of_hours", payload__spoken=True).order_by("pk").first()
    )
    if message is None:
        return None
    marker = message.payload["out_of_hours"]
    configured = OutOfHoursAnswer.objects.filter(
        queue__name=marker.get("queue", ""), channel=call.conversation.channel
    ).first()
    opens_at = parse_datetime(marker["opens_at"]) if marker.get("opens_at") else None
    known = Conversation.objects.filter(pk=call.conversation_id, customer__isnull=False).exists()
    return {
        "text": configured.text.strip() if configured is not None else message.body.splitlines()[0],
        "opens_at": opens_at,
        "offer_message": bool(marker.get("offer_message")),
        "callback_token": (marker.get("callback_token") or "") if known else "",
    }


def _closed_menu(call: VoiceCall, answer: dict[str, Any] | None, twiml: TwiML) -> TwiML:
    """The offers of a closed queue by digits (1: a message, 2: a callback), or goodbye if there are none."""
    prompts = []
    if answer is not None and answer["offer_message"]:
        prompts.append("To leave us a message, press 1.")
    if answer is not None and answer["callback_token"]:
        prompts.append("To be called back when we open, press 2.")
    if not prompts:
        return twiml.say("Goodbye.", language=_language()).hangup()
    twiml.gather(action=_url(call, "after-hours"), prompts=prompts, language=_language(), digits=1)
    return twiml.say("We did not get your choice. Goodbye.", language=_language()).hangup()


def _closed_twiml(call: VoiceCall, answer: dict[str, Any], twiml: TwiML) -> TwiML:
    """Say the queue's out-of-hours answer (and when it opens), then offer a message or a callback."""
    twiml.say(answer["text"], language=_language())
    if answer["opens_at"] is not None:
        twiml.say(f"We open again on {_spoken_time(answer['opens_at'])}.", language=_language())
    return _closed_menu(call, answer, twiml)


def _spoken_time(at: datetime) -> str:
    return f"{timezone.localtime(at):%A %d %B at %H:%M}"


def call_after_hours(*, call: VoiceCall, digits: str) -> str:
    """The caller's choice at a closed queue: 1 records a message, 2 books a callback for the opening.

    The message is recorded (and transcribed) like any on a call: it lands on the conversation,
    or on its interaction once the call is over. The callback is booked with the answer's offer
    (``callback_offer_book``: once per call, for the caller's customer, on the number they called from).
    """
    if call.state != CallState.CLOSED:
        return str(_state_twiml(call))
    answer = _closed_answer(call)
    if answer is None:
        return str(TwiML().hangup())
    if digits == "1" and answer["offer_message"]:
        return str(_closed_message(call))
    if digits == "2" and answer["callback_token"]:
        phone = call.caller if call.caller.startswith("+") and call.caller[1:].isdigit() else ""
        try:
            callback = callback_offer_book(token=answer["callback_token"], phone=phone)
        except (Conflict, NotFound, ValidationFailed) as refusal:
            if getattr(refusal, "code", "") == "callback_already_booked":
                text = "We have already booked a call back for you."
                return str(TwiML().say(text, language=_language()).say("Goodbye.", language=_language()).hangup())
            logger.info("No callback booked from call %s: %s", call.call_sid, refusal)
            sorry = TwiML().say("Sorry, we cannot book a call back just now.", language=_language())
            return str(_closed_menu(call, {**answer, "callback_token": ""}, sorry))
        text = f"Thank you. We will call you back on {_spoken_time(callback.due_at)}."
        return str(TwiML().say(text, language=_language()).say("Goodbye.", language=_language()).hangup())
    sorry = TwiML().say("Sorry, that is not one of the choices.", language=_language())
    return str(_closed_menu(call, answer, sorry))


def call_wait(*, call: VoiceCall, position: str) -> str:
    """What a waiting caller hears; once an agent has accepted, ``Leave`` (the queue's result dials them)."""
    if call.state in (CallState.CONNECTING, CallState.CONNECTED) and call.agent_id is not None:
        return str(TwiML().leave())
    twiml = TwiML()
    if position.isdigit() and int(position) > 0:
        twiml.say(f"You are number {int(position)} in the queue.", language=_language())
    return str(twiml.play(settings.CEA_VOICE_HOLD_MUSIC_URL))


def call_queue_result(*, call: VoiceCall, result: str) -> str:
    """The caller's wait in the provider's queue ended (``QueueResult``): dial the agent, or say sorry."""
    if call.state in (CallState.CONNECTING, CallState.CONNECTED) and call.agent_id is not None:
        _call_set(call, state=CallState.CONNECTED, only_from=(CallState.CONNECTING,))
        return str(_dial(call))
    if result in ("hangup", "bridged"):
        return str(TwiML())
    if result in ("queue-full", "error", "system-error"):
        return str(_leave_a_message(call, "Sorry, we cannot take your call just now."))
    return str(_state_twiml(call))


def call_dial_result(*, call: VoiceCall, dial_status: str) -> str:
    """The dialled agent's leg ended: after a talk the call ends; unreached, the caller waits again."""
    if call.state != CallState.CONNECTED:
        return str(_state_twiml(call))
    if dial_status not in AGENT_NOT_REACHED:
        return str(TwiML().hangup())
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=call.conversation_id)
        if conversation.status != ConversationStatus.ACTIVE:
            return str(TwiML().hangup())
        item = WorkItem.objects.filter(conversation=conversation, status=WorkStatus.ASSIGNED).first()
        conversation_transfer(
            actor=None,
            conversation=conversation,
            to_queue=item.queue if item is not None else Queue.objects.filter(name=conversation.queue).first(),
            note=f"The agent's phone did not answer ({dial_status}).",
        )
        _call_set(call, state=CallState.QUEUED, only_from=(CallState.CONNECTED,), agent=None)
    call.refresh_from_db()
    return str(_enqueue(call, TwiML().say("Sorry, we are connecting you to another agent.", language=_language())))


def call_status(*, call: VoiceCall, status: str) -> None:
    """The provider's status callback: a call that is over ends its conversation (once)."""
    VoiceCall.objects.filter(pk=call.pk).update(provider_status=status[:20], updated_at=timezone.now())
    if status not in CALL_OVER:
        return
    _call_set(call, state=CallState.ENDED, only_from=tuple(s for s in CallState.values if s != CallState.ENDED))
    if Conversation.objects.filter(pk=call.conversation_id, status=ConversationStatus.ENDED).exists():
        return  # self-service ended it first (the flow said goodbye and hung up)
    call_event_ingest(
        source=call.source,
        call_id=call.call_sid,
        event=CallEvent.ENDED,
        event_id=f"{call.call_sid}:ended",
        caller=call.caller,
        dialled=call.dialled,
        timestamp=timezone.now(),
    )


def _media_note(call: VoiceCall, *, kind: str, reference: str, url: str, text: str = "") -> None:
    """Show a recording or transcription: a message on the open call, else a link on its interaction."""
    now = timezone.now()
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=call.conversation_id)
        if conversation.status != ConversationStatus.ENDED:
            message_add(
                conversation=conversation,
                direction=Direction.INBOUND,
                author_kind=AuthorKind.SYSTEM,
                author_name=call.source.name,
                external_id=f"{call.source.name}:{reference}:{kind}",
                body=f"{kind.capitalize()}: {url}" + (f"\n{text}" if text else ""),
                payload={"event": kind, "call_id": call.call_sid, "reference": reference, "url": url},
                internal=True,
            )
        elif conversation.interaction is not None:
            interaction_media_add(
                actor=None,
                interaction=conversation.interaction,
                kind=kind,
                reference=reference,
                url=url,
                text=text,
                at=now,
            )


def _recording_keep(call: VoiceCall, recording_sid: str, **fields: Any) -> CallRecording:
    """The call's recording ``recording_sid`` with ``fields`` set (made on its first callback)."""
    if not recording_sid or len(recording_sid) > 64:
        raise ValidationFailed("RecordingSid is required.", fields={"RecordingSid": "Required."})
    recording, _ = CallRecording.objects.update_or_create(call=call, recording_sid=recording_sid, defaults=fields)
    return recording


@transaction.atomic
def call_recording(*, call: VoiceCall, recording_sid: str, url: str, status: str, duration: str) -> CallRecording:
    """A recording's status callback; a completed one is shown on the call (``_media_note``). A
    message the caller left without reaching an agent (out of hours, a full queue) becomes work too
    (``_voicemail_work``), once, when its recording first completes."""
    # The call's row is locked first: two callbacks of one recording (the provider retrying one that
    # timed out) wait for each other, so only the first sees it newly completed.
    VoiceCall.objects.select_for_update().filter(pk=call.pk).first()
    done_before = CallRecording.objects.filter(call=call, recording_sid=recording_sid, status="completed").exists()
    recording = _recording_keep(
        call,
        recording_sid,
        url=url[:500],
        status=status[:20],
        duration_seconds=int(duration) if duration.isdigit() else None,
    )
    if status == "completed" and url:
        _media_note(call, kind="recording", reference=recording_sid, url=url)
        if not done_before:
            _voicemail_work(call, recording)
    return recording


def _voicemail_work(call: VoiceCall, recording: CallRecording) -> None:
    """A message left by a caller no agent answered: a back-office task in the call's queue, offered
    to the queue's agents as soon as one is available (at the opening, for one left out of hours),
    with the recording to listen to. A call an agent took, or one without a queue, makes none."""
    conversation = Conversation.objects.select_related("customer", "team").get(pk=call.conversation_id)
    if conversation.answered_at is not None or conversation.agent_id is not None or not conversation.queue:
        return
    try:
        backoffice_task_create(
            actor=None,
            title=f"Voicemail from {call.caller or 'an unknown caller'}"[:MAX_TITLE],
            description=f"Listen to the message and call back: {recording.url}",
            queue=conversation.queue,
            team=conversation.team or call.source.team,
            customer=conversation.customer,
        )
    except (NotFound, ValidationFailed) as refusal:  # the queue was closed down, or nobody's team
        logger.warning("No voicemail work for call %s: %s", call.call_sid, refusal)


def call_transcription(
    *, call: VoiceCall, recording_sid: str, transcription_sid: str, text: str, status: str, url: str
) -> CallRecording:
    """A transcription's callback: kept on its recording and shown like it."""
    recording = _recording_keep(
        call,
        recording_sid,
        transcription_sid=transcription_sid[:64],
        transcription_status=status[:20],
        transcription_text=text[:20_000],
        transcription_url=url[:500],
    )
    if status == "completed":
        _media_note(call, kind="transcription", reference=transcription_sid or recording_sid, url=url, text=text)
    return recording


# --- Agents' actions -------------------------------------------------------------------------


def call_of_conversation(conversation: Conversation) -> VoiceCall:
    call = VoiceCall.objects.select_related("source", "agent").filter(conversation=conversation).first()
    if call is None:
        raise NotFound(f"Conversation {conversation.pk} is not a call under CEA's control.", code="not_a_call")
    return call


def _locked_call(actor: Actor, conversation: Conversation) -> VoiceCall:
    """The conversation's call, locked (conversation first), if ``actor`` handles it (or supervises)."""
    conversation = Conversation.objects.select_for_update(of=("self",)).get(pk=conversation.pk)
    require_handling_agent(actor, conversation)
    call = call_of_conversation(conversation)
    return VoiceCall.objects.select_for_update(of=("self",)).select_related("source", "agent").get(pk=call.pk)


def _announce(call: VoiceCall, body: str, event: str) -> None:
    message_add(
        conversation=call.conversation,
        direction=Direction.OUTBOUND,
        author_kind=AuthorKind.SYSTEM,
        body=body,
        payload={"event": event, "call_id": call.call_sid},
        internal=True,
    )


@transaction.atomic
def call_hold(*, actor: Actor, conversation: Conversation) -> VoiceCall:
    """Put the caller on hold (hold music) through the provider; only a call with its agent.

    The provider is asked while the call's row is locked, and the new state is kept only if it
    took the update (``CallUpdateFailed``, 502, otherwise: nothing changes).
    """
    call = _locked_call(actor, conversation)
    if call.state != CallState.CONNECTED:
        raise Conflict(f"Only a call with its agent can be held (it is {call.state}).", code="call_not_connected")
    call_update(source=call.source, call_sid=call.call_sid, twiml=str(_hold()))
    call.state = CallState.HELD
    call.save(update_fields=["state", "updated_at"])
    _announce(call, "The caller is on hold.", "call_held")
    return call


@transaction.atomic
def call_resume(*, actor: Actor, conversation: Conversation) -> VoiceCall:
    """Take the caller off hold: they are put through to the agent again."""
    call = _locked_call(actor, conversation)
    if call.state != CallState.HELD:
        raise Conflict("The call is not on hold.", code="call_not_held")
    call_update(source=call.source, call_sid=call.call_sid, twiml=str(_dial(call)))
    call.state = CallState.CONNECTED
    call.save(update_fields=["state", "updated_at"])
    _announce(call, "The caller is back from hold.", "call_resumed")
    return call


@transaction.atomic
def call_transfer(
    *,
    actor: Actor,
    conversation: Conversation,
    to_queue: Queue | None = None,
    to_agent: User | None = None,
    note: str = "",
) -> WorkItem:
    """Transfer the call to a queue or a named agent: its work is re-queued (``conversation_transfer``)
    and the caller waits in the provider's queue again until the next agent accepts."""
    call = _locked_call(actor, conversation)
    if call.state not in (CallState.CONNECTED, CallState.HELD):
        raise Conflict("Only a call with an agent can be transferred.", code="call_not_connected")
    item = conversation_transfer(
        actor=actor, conversation=conversation, to_queue=to_queue, to_agent=to_agent, note=note
    )
    call_update(source=call.source, call_sid=call.call_sid, twiml=str(_transfer_twiml(call)))
    call.state = CallState.QUEUED
    call.agent = None
    call.save(update_fields=["state", "agent", "updated_at"])
    return item


@transaction.atomic
def call_hang_up(*, actor: Actor, conversation: Conversation) -> VoiceCall:
    """End the call through the provider; its status callback then ends the conversation."""
    call = _locked_call(actor, conversation)
    if call.state == CallState.ENDED:
        raise Conflict("The call has already ended.", code="call_ended")
    call_update(source=call.source, call_sid=call.call_sid, twiml=str(TwiML().hangup()))
    return call


# --- The bridge after an accept ---------------------------------------------------------------


def call_on_work_accepted(conversation_id: int) -> None:
    """An agent accepted the conversation's offer: if it is a waiting call, put it through to them.

    Runs after the acceptance commits (``engagement.hooks``); the REST call update is a task.
    """
    with transaction.atomic():
        call = VoiceCall.objects.select_for_update().filter(conversation_id=conversation_id).first()
        if call is None or call.state not in (CallState.QUEUED, CallState.IVR):
            return
        agent_id = Conversation.objects.values_list("agent_id", flat=True).get(pk=conversation_id)
        if agent_id is None:
            return
        call.state = CallState.CONNECTING
        call.agent_id = agent_id
        call.save(update_fields=["state", "agent", "updated_at"])
        send_on_commit(signature(CALL_CONNECT_TASK), call.pk)


def call_connect(*, call_id: int) -> bool:
    """Put a ``connecting`` call through to its agent with a REST call update; ``False`` if there is
    nothing to do (already connected, transferred, ended). Raises ``CallUpdateFailed`` (the task
    retries the retryable ones; otherwise the waiting call's next ``wait`` bridges it instead)."""
    call = VoiceCall.objects.select_related("source", "agent").filter(pk=call_id).first()
    if call is None or call.state != CallState.CONNECTING or call.agent is None:
        return False
    call_update(source=call.source, call_sid=call.call_sid, twiml=str(_dial(call)))
    return _call_set(call, state=CallState.CONNECTED, only_from=(CallState.CONNECTING,))


def call_on_work_transferred(conversation_id: int) -> None:
    """The conversation was transferred (desk, API, supervisor): a call with an agent waits again.

    Runs after the transfer commits (``engagement.hooks``); a transfer through ``call_transfer`` or a
    dialled agent's no-answer has already moved the call to ``queued``, and nothing more is done.
    """
    with transaction.atomic():
        call = VoiceCall.objects.select_for_update().filter(conversation_id=conversation_id).first()
        if call is None or call.state not in (CallState.CONNECTING, CallState.CONNECTED, CallState.HELD):
            return
        call.state = CallState.QUEUED
        call.agent = None
        call.save(update_fields=["state", "agent", "updated_at"])
        send_on_commit(signature(CALL_REQUEUE_TASK), call.pk)


def _transfer_twiml(call: VoiceCall) -> TwiML:
    return _enqueue(call, TwiML().say("Please hold while we transfer your call.", language=_language()))


def call_requeue(*, call_id: int) -> bool:
    """Put a transferred call back to waiting with a REST call update; ``False`` if it is no longer
    waiting for that (accepted again, ended). Raises ``CallUpdateFailed``, as ``call_connect``."""
    call = VoiceCall.objects.select_related("source").filter(pk=call_id).first()
    if call is None or call.state != CallState.QUEUED:
        return False
    call_update(source=call.source, call_sid=call.call_sid, twiml=str(_transfer_twiml(call)))
    return True


def register() -> None:
    register_work_accepted_hook(call_on_work_accepted)
    register_work_transferred_hook(call_on_work_transferred)
