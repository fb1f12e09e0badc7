"""Voice: call events in the shape telephony providers send, through a signed webhook source.

One call is one conversation, external id ``<source>:<call id>``. Each event (ringing,
answered, transferred, ended) is a system message with the event in its payload; the
provider's event id (or, when it sends none, ``<call id>:<event>:<timestamp>``, which a
redelivery repeats) makes a redelivered event one message.

- ``ringing`` opens the conversation (any first event does, should the provider deliver out
  of order); the caller's number identifies the customer; the call id becomes an alias of the
  conversation's context.
- ``answered`` sets ``answered_at``.
- ``transferred`` records where to (and moves the conversation to ``queue`` when given).
- ``ended`` ends the conversation, which records the Interaction in records; the recording
  and transcript links are in the message (payload and text) and so in the transcript.

Times: the conversation starts when the first event is received (the provider's timestamps
are kept in each message's ``sent_at`` and payload); ``answered_at`` and the end are never
put before that start, as records refuses an interaction answered before it started.
An event for a call that has already ended is refused (409), not silently dropped.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from cea.common.channels import Channel, Direction
from cea.common.errors import Conflict
from engagement.adapters.ingest import Ingested, already_ingested
from engagement.adapters.models import WebhookSource
from engagement.context.models import ContextScope
from engagement.context.services import context_alias
from engagement.conversations.models import AuthorKind, Conversation, ConversationStatus
from engagement.conversations.services import conversation_start, message_add
from engagement.orchestration import conversation_end
from records.audit.context import audited
from records.identities.models import IdentityKind


class CallEvent:
    RINGING = "ringing"
    ANSWERED = "answered"
    TRANSFERRED = "transferred"
    ENDED = "ended"
    ALL = (RINGING, ANSWERED, TRANSFERRED, ENDED)


def _summary(event: str, *, caller: str, dialled: str, transferred_to: str, links: dict) -> str:
    if event == CallEvent.RINGING:
        text = f"Call from {caller} to {dialled} ringing"
    elif event == CallEvent.ANSWERED:
        text = "Call answered"
    elif event == CallEvent.TRANSFERRED:
        text = f"Call transferred to {transferred_to}"
    else:
        text = "Call ended"
    for label, url in (("Recording", links.get("recording_url")), ("Transcript", links.get("transcript_url"))):
        if url:
            text += f". {label}: {url}"
    return text + "."


@transaction.atomic
def call_event_ingest(
    *,
    source: WebhookSource,
    call_id: str,
    event: str,
    caller: str,
    dialled: str,
    timestamp: datetime,
    event_id: str = "",
    transferred_to: str = "",
    queue: str = "",
    recording_url: str = "",
    transcript_url: str = "",
) -> Ingested:
    """Apply one call event; a redelivered event changes nothing and returns the first message.

    Raises ``Conflict`` (409, ``conversation_ended``) for a new event of a call that has ended.
    """
    external_id = f"{source.name}:{event_id or f'{call_id}:{event}:{timestamp.isoformat()}'}"
    duplicate = already_ingested(channels=[Channel.VOICE], external_id=external_id)
    if duplicate is not None:
        return duplicate
    conversation, opened = conversation_start(
        channel=Channel.VOICE,
        external_id=f"{source.name}:{call_id}",
        contact_kind=IdentityKind.PHONE,
        contact_value=caller,
        queue=source.queue,
        team=source.team,
        source="voice",
        context={"call_id": call_id, "dialled": dialled, "webhook_source": source.name},
    )
    if opened:
        # The context store is outside the transaction: alias it only once the call is kept.
        conversation_id = conversation.pk
        transaction.on_commit(
            lambda: context_alias(alias=f"call:{call_id}", scope=ContextScope.CONVERSATION, context_id=conversation_id)
        )
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if conversation.status == ConversationStatus.ENDED:
        raise Conflict(f"The call {call_id} has already ended; the {event} event comes too late.", code="call_ended")
    links = {"recording_url": recording_url, "transcript_url": transcript_url}
    message, created = message_add(
        conversation=conversation,
        direction=Direction.INBOUND,
        author_kind=AuthorKind.SYSTEM,
        author_name=source.name,
        body=_summary(event, caller=caller, dialled=dialled, transferred_to=transferred_to, links=links),
        external_id=external_id,
        sent_at=timestamp,
        payload={
            "event": event,
            "call_id": call_id,
            "event_id": event_id,
            "from": caller,
            "to": dialled,
            "timestamp": timestamp.isoformat(),
            **({"transferred_to": transferred_to} if transferred_to else {}),
            **({"queue": queue} if queue else {}),
            **{key: url for key, url in links.items() if url},
        },
    )
    if event == CallEvent.ANSWERED and conversation.answered_at is None:
        with audited(None, source="voice"):
            conversation.answered_at = max(timestamp, conversation.created_at)
            conversation.save(update_fields=["answered_at", "updated_at"])
    elif event == CallEvent.TRANSFERRED and queue and queue != conversation.queue:
        with audited(None, source="voice"):
            conversation.queue = queue
            conversation.save(update_fields=["queue", "updated_at"])
    elif event == CallEvent.ENDED:
        conversation_end(
            actor=None,
            conversation=conversation,
            ended_at=max(timestamp, conversation.answered_at or conversation.created_at),
        )
        conversation.refresh_from_db()
    return Ingested(conversation=conversation, message=message, created=created)
