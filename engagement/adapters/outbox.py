"""The provider outbox: replies that leave through a provider's API (Twilio, Vonage …), and their receipts.

Every provider uses the same pipeline:

1. ``conversation_reply`` asks the channel's reply transport (``ProviderReplies``, registered for
   SMS, social DM and IoT) how the reply goes. The source is the one the customer wrote in through
   (the newest inbound message's ``source``, else the thread key at the head of the conversation's
   external id ``<source>:<sender>:<n>``). When that source is active, has a sender id and its
   provider has an adapter, the reply is queued (``delivery: "queued"``, a ``ProviderSend`` row);
   otherwise it is recorded only (``delivery: "not_sent"``) with the ``reason``.
2. Once the reply commits, the task ``deliver_provider_message`` sends it: the provider's adapter
   (``ADAPTERS``, by ``WebhookSource.provider``) makes the API call and returns the provider's
   message id. A ``SendError`` says whether the failure is worth trying again: a provider that is
   down (connection refused, timeout, 5xx, 429) leaves the reply queued and the task tries again
   with exponential backoff (capped at ``CEA_PROVIDER_BACKOFF_MAX_SECONDS``), for up to
   ``CEA_PROVIDER_GIVE_UP_HOURS``; the beat's sweep (``outbox_sweep``) sends again any queued reply
   whose retry is overdue (a task lost with a worker). A refusal (a 4xx, a missing credential)
   marks it ``failed`` with the reason at once.
3. The provider's status webhooks (``twilio.py``, ``vonage.py``) call ``receipt_record``: each
   status keeps the time it was first reported, and the status only moves forward
   (queued → sent → delivered | failed → read), so receipts arriving out of order never move it
   back. Each change is mirrored on the message's payload (``delivery``, ``receipts``, ``error``)
   and pushed to the conversation's group on commit (``conversation.delivery``) for the desk.

A receipt is matched within its source only: a status webhook of one source never touches
another source's messages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from cea.common.channels import Channel, Direction
from cea.common.errors import NotFound
from cea.common.live import push_on_commit
from cea.common.tasks import send_on_commit
from engagement.adapters.credentials import MissingCredential
from engagement.adapters.media import outbound_media
from engagement.adapters.models import SEND_RANK, Provider, ProviderSend, SendStatus, WebhookSource
from engagement.adapters.sms_rules import sms_check
from engagement.conversations.delivery import Delivery
from engagement.conversations.models import Conversation, Message
from engagement.conversations.services import conversation_group

logger = logging.getLogger(__name__)

DELIVER_TASK = "engagement.adapters.deliver_provider_message"

# The provider adapters, by WebhookSource.provider.
ADAPTERS: dict[str, str] = {
    Provider.TWILIO: "engagement.adapters.twilio.TwilioAdapter",
    Provider.VONAGE: "engagement.adapters.vonage.VonageAdapter",
    Provider.WHATSAPP: "engagement.adapters.whatsapp.WhatsAppAdapter",
    Provider.MESSENGER: "engagement.adapters.messenger.MessengerAdapter",
    Provider.FCM: "engagement.adapters.push.FcmAdapter",
    Provider.WEB_PUSH: "engagement.adapters.push.WebPushAdapter",
}
# The channels whose replies go through a source's provider.
PROVIDER_CHANNELS = (Channel.SMS, Channel.SOCIAL, Channel.IOT)


class SendError(Exception):
    """A provider did not take the message: ``retryable`` (it is down, throttling) or not (it refused it)."""

    def __init__(self, reason: str, *, retryable: bool, code: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.code = code


@dataclass(frozen=True)
class OutboundMedia:
    """A file sent with a reply, as the provider fetches it: a signed, expiring ``url`` of CEA's
    (``engagement.adapters.media``), with its name, type and size."""

    url: str
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class TemplateRef:
    """An approved message template (WhatsApp's, outside the 24-hour window): its name, language
    and the values of its ``{{1}}``, ``{{2}}`` … placeholders, in order."""

    name: str
    language: str
    params: tuple[str, ...] = ()

    @classmethod
    def from_payload(cls, value: Any) -> TemplateRef | None:
        if not isinstance(value, dict) or not value.get("name"):
            return None
        return cls(
            name=str(value["name"]),
            language=str(value.get("language", "")),
            params=tuple(str(p) for p in value.get("params", ())),
        )


@dataclass(frozen=True)
class OutboundText:
    """What an adapter sends: CEA's message id (the provider's client reference), the recipient
    (``to``), the sender (``sender``: the source's sender id), the text, and where receipts go;
    ``media`` the files attached to it, ``template`` the approved template it is sent as (the
    message's payload ``template``), when it is one."""

    message_id: int
    to: str
    sender: str
    body: str
    status_callback: str
    media: tuple[OutboundMedia, ...] = ()
    template: TemplateRef | None = None


class ProviderAdapter(Protocol):
    def send(self, source: WebhookSource, message: OutboundText) -> str:
        """Hand ``message`` to the provider; its id of the message. Raises ``SendError``."""
        ...

    def status_callback(self, source: WebhookSource, message_id: int) -> str:
        """The absolute URL the provider posts this message's receipts to."""
        ...


class ReplyRules(Protocol):
    """What an adapter may add (a method ``reply_rules``) to check a reply before it is queued: raise
    ``ValidationFailed`` / ``Conflict`` for one the channel refuses (WhatsApp's 24-hour window is
    closed: ``reply_window_closed``), or return extra payload for the message (``{}``: nothing)."""

    def __call__(self, *, source: WebhookSource, conversation: Conversation, body: str) -> dict: ...


def provider_adapter(provider: str) -> ProviderAdapter | None:
    path = ADAPTERS.get(provider)
    return import_string(path)() if path else None


# --- Queueing a reply -----------------------------------------------------------------------------


def reply_source(conversation: Conversation) -> WebhookSource | None:
    """The source the customer wrote in through: the newest inbound message's, else the thread's."""
    name = (
        conversation.messages.filter(direction=Direction.INBOUND, payload__has_key="source")
        .order_by("-id")
        .values_list("payload__source", flat=True)
        .first()
    )
    if not name and conversation.external_id.count(":") >= 2:
        name = conversation.external_id.split(":", 1)[0]
    if not name:
        return None
    return WebhookSource.objects.filter(name=name, channel=conversation.channel).first()


def _not_sent(reason: str) -> dict:
    return {"delivery": Delivery.NOT_SENT, "reason": reason}


class ProviderReplies:
    """The reply transport of the channels that answer through a source's provider."""

    def prepare(self, *, conversation: Conversation, body: str) -> dict:
        shape = sms_check(body).as_dict() if conversation.channel == Channel.SMS else None
        payload = self._route(conversation, body)
        return {**payload, "sms": shape} if shape else payload

    def _route(self, conversation: Conversation, body: str) -> dict:
        label = conversation.get_channel_display()
        source = reply_source(conversation)
        if source is None:
            return _not_sent(f"No {label} source to reply through: the customer did not write in through one.")
        if not source.is_active:
            return _not_sent(f"The source {source.name!r} is inactive: replies are recorded only.")
        if source.provider not in ADAPTERS:
            return _not_sent(
                f"The source {source.name!r} ({source.get_provider_display()}) has no provider sender: "
                "replies are recorded only."
            )
        if not source.sender_id:
            return _not_sent(f"The source {source.name!r} has no sender id (the number replies come from).")
        if not conversation.contact_value:
            return _not_sent("The conversation has no address to reply to.")
        rules: ReplyRules | None = getattr(provider_adapter(source.provider), "reply_rules", None)
        extra = rules(source=source, conversation=conversation, body=body) if rules is not None else {}
        return {**extra, **provider_payload(source=source, to=conversation.contact_value)}

    def media_provider(self, *, conversation: Conversation) -> str:
        """The provider of the source a reply would leave through ("" for none): whose ``media_rules`` apply."""
        source = reply_source(conversation)
        return source.provider if source is not None and source.is_active else ""

    def queued(self, *, message: Message) -> None:
        provider_message_queue(message=message, source=WebhookSource.objects.get(name=message.payload["source"]))


def sending_sources(*, channel: str) -> QuerySet[WebhookSource]:
    """The sources a message on ``channel`` can leave through: active, with a sender id, and of a
    provider that has an adapter (what ``ProviderReplies`` asks of a reply's source)."""
    return WebhookSource.objects.filter(channel=channel, is_active=True, provider__in=list(ADAPTERS)).exclude(
        sender_id=""
    )


def provider_payload(*, source: WebhookSource, to: str) -> dict:
    """The payload of a message queued to leave through ``source`` to ``to``: its delivery state, the
    source, its provider and sender id, and the time it was queued (what the desk shows)."""
    return {
        "delivery": Delivery.QUEUED,
        "source": source.name,
        "provider": source.provider,
        "to": to,
        "from": source.sender_id,
        "receipts": {SendStatus.QUEUED: timezone.now().isoformat()},
    }


def provider_message_queue(*, message: Message, source: WebhookSource) -> ProviderSend:
    """Queue ``message`` (its payload from ``provider_payload``) to leave through ``source``: its
    ``ProviderSend`` row, and the send task once the transaction commits."""
    now = timezone.now()
    send = ProviderSend.objects.create(message=message, source=source, queued_at=now, next_attempt_at=now)
    send_on_commit(_deliver_task(), send.pk)
    return send


def _deliver_task():
    from engagement.adapters.tasks import deliver_provider_message  # the task module imports this one

    return deliver_provider_message


# --- Sending --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """What a delivery attempt did: ``status`` of the send afterwards; ``retry_in`` seconds when it
    stays queued for another try."""

    status: str
    retry_in: float | None = None


# A retry's task may arrive a little before the time its send was given (clocks of two hosts).
NOT_DUE_TOLERANCE = timedelta(seconds=5)


def backoff_seconds(attempts: int) -> float:
    """The wait before try ``attempts + 1``: 30 s, 60 s, 120 s … up to ``CEA_PROVIDER_BACKOFF_MAX_SECONDS``."""
    return float(min(settings.CEA_PROVIDER_BACKOFF_MAX_SECONDS, 30 * 2 ** max(attempts - 1, 0)))


@transaction.atomic
def provider_send_deliver(*, send_id: int) -> Attempt | None:
    """Send a queued reply through its source's provider, once; ``None`` when there is nothing to send
    (gone, or no longer queued). The send row is locked while the provider is called, so two workers
    never both send it, and a receipt for it waits until the provider's id is saved."""
    send = ProviderSend.objects.select_for_update().select_related("source").filter(pk=send_id).first()
    if send is None or send.status != SendStatus.QUEUED:
        return None
    if send.next_attempt_at is not None and send.next_attempt_at > timezone.now() + NOT_DUE_TOLERANCE:
        # A second task for a send already rescheduled (the sweep's and a retry's): only the one that
        # comes when it is due sends, so the chains of retries never multiply.
        return None
    message = Message.objects.select_for_update().get(pk=send.message_id)
    adapter = provider_adapter(send.source.provider)
    if adapter is None or not send.source.is_active:
        return _failed(send, message, reason=f"The source {send.source.name!r} can no longer send.", code="no_sender")
    send.attempts += 1
    text = OutboundText(
        message_id=message.pk,
        to=message.payload.get("to", ""),
        sender=message.payload.get("from", ""),
        body=message.body,
        status_callback=adapter.status_callback(send.source, message.pk),
        media=outbound_media(message),
        template=TemplateRef.from_payload(message.payload.get("template")),
    )
    try:
        provider_id = adapter.send(send.source, text)
    except MissingCredential as error:
        return _failed(send, message, reason=error.message, code=error.code)
    except SendError as error:
        age = timezone.now() - send.queued_at
        if error.retryable and age < timedelta(hours=settings.CEA_PROVIDER_GIVE_UP_HOURS):
            wait = backoff_seconds(send.attempts)
            send.last_error = error.reason[:500]
            send.next_attempt_at = timezone.now() + timedelta(seconds=wait)
            send.save(update_fields=["attempts", "last_error", "next_attempt_at", "updated_at"])
            logger.warning("Send %s to %s: try %s failed (%s)", send.pk, send.source.name, send.attempts, error.reason)
            return Attempt(SendStatus.QUEUED, retry_in=wait)
        if error.retryable:
            reason = f"Gave up after {send.attempts} tries over {age}: {error.reason}"
        else:
            reason = error.reason
        return _failed(send, message, reason=reason, code=error.code)
    send.provider_message_id = provider_id[:120]
    send.next_attempt_at = None
    send.last_error = ""
    _advance(send, SendStatus.SENT, at=timezone.now())
    send.save()
    _mirror(send, message)
    return Attempt(send.status)


def _failed(send: ProviderSend, message: Message, *, reason: str, code: str) -> Attempt:
    send.last_error, send.error_code, send.next_attempt_at = reason[:500], code[:40], None
    _advance(send, SendStatus.FAILED, at=timezone.now())
    send.save()
    _mirror(send, message)
    logger.warning("Send %s to %s failed: %s", send.pk, send.source.name, reason)
    return Attempt(send.status)


def outbox_sweep(*, send_task: Callable[[int], Any]) -> int:
    """Send again every queued reply whose retry is more than a minute overdue (its task was lost);
    how many. The beat runs it; ``send_task`` queues one send."""
    overdue = timezone.now() - timedelta(minutes=1)
    ids = list(
        ProviderSend.objects.filter(status=SendStatus.QUEUED, next_attempt_at__lt=overdue).values_list("pk", flat=True)
    )
    for send_id in ids:
        send_task(send_id)
    return len(ids)


# --- Receipts -------------------------------------------------------------------------------------

STATUS_TIMES: dict[str, str] = {
    SendStatus.QUEUED: "queued_at",
    SendStatus.SENT: "sent_at",
    SendStatus.DELIVERED: "delivered_at",
    SendStatus.READ: "read_at",
    SendStatus.FAILED: "failed_at",
}


def _advance(send: ProviderSend, status: str, *, at: datetime) -> bool:
    """Keep the first time of ``status``; move to it only forwards. ``True`` if anything changed."""
    changed = False
    field = STATUS_TIMES[status]
    if getattr(send, field) is None:
        setattr(send, field, at)
        changed = True
    if SEND_RANK[SendStatus(status)] > SEND_RANK[SendStatus(send.status)]:
        send.status = status
        changed = True
    return changed


def _receipts(send: ProviderSend) -> dict[str, str]:
    return {status: getattr(send, field).isoformat() for status, field in STATUS_TIMES.items() if getattr(send, field)}


def _mirror(send: ProviderSend, message: Message) -> None:
    """The send's state on the message's payload (what the desk shows), pushed on commit."""
    payload = {**message.payload, "delivery": send.status, "receipts": _receipts(send)}
    if send.provider_message_id:
        payload["provider_message_id"] = send.provider_message_id
    if send.status == SendStatus.FAILED:
        payload["error"] = {"code": send.error_code, "reason": send.last_error}
    else:
        payload.pop("error", None)
    message.payload = payload
    message.save(update_fields=["payload"])
    push_on_commit(
        conversation_group(conversation_id=message.conversation_id),
        {
            "type": "conversation.delivery",
            "conversation": message.conversation_id,
            "message": message.pk,
            "delivery": send.status,
            "receipts": payload["receipts"],
            "error": payload.get("error"),
        },
    )


@transaction.atomic
def receipt_record(
    *,
    source: WebhookSource,
    status: str | None,
    provider_message_id: str = "",
    message_id: int | None = None,
    error_code: str = "",
    error_reason: str = "",
    at: datetime | None = None,
) -> ProviderSend:
    """A provider's receipt for one of ``source``'s sends, found by CEA's ``message_id`` (the
    callback URL's or the client reference) or by the provider's id; ``NotFound`` (404,
    ``unknown_message``) when the source has no such send. ``status`` ``None`` (a provider's
    intermediate state, e.g. Twilio's ``sending``) records nothing. Out of order, a receipt keeps
    its time but never moves the status back."""
    sends = ProviderSend.objects.select_for_update().filter(source=source)
    if message_id is not None:
        send = sends.filter(message_id=message_id).first()
        if send is not None and provider_message_id and send.provider_message_id not in ("", provider_message_id):
            send = None  # the provider's id says it is another message
    else:
        send = sends.filter(provider_message_id=provider_message_id).first() if provider_message_id else None
    if send is None:
        raise NotFound(f"The source {source.name!r} sent no such message.", code="unknown_message")
    if status is None:
        return send
    if status == SendStatus.FAILED and send.status != SendStatus.FAILED and not send.failed_at:
        send.error_code, send.last_error = error_code[:40], error_reason[:500]
    if _advance(send, status, at=at or timezone.now()):
        if not send.provider_message_id and provider_message_id:
            send.provider_message_id = provider_message_id[:120]
        send.save()
        _mirror(send, Message.objects.select_for_update().get(pk=send.message_id))
    return send


def register() -> None:
    """Replies on SMS, social DM and IoT go through their source's provider, and on the mobile app and IoT
    to a registered device first (engagement's ``ready``); so do the conversations CEA starts on SMS
    and WhatsApp (``outreach.register``)."""
    from engagement.adapters.outreach import register as register_outreach
    from engagement.adapters.push import register as register_push  # push.py imports this module
    from engagement.conversations.replies import reply_transport_register

    transport = ProviderReplies()
    for channel in PROVIDER_CHANNELS:
        reply_transport_register(channel, transport)
    register_push()  # mobile app and IoT: to a registered device first (push.py)
    register_outreach()  # and the conversations CEA starts on SMS and WhatsApp
