"""Facebook Messenger through Meta's Graph API: a Page's messages in (webhooks), replies out (Send API).

A ``WebhookSource`` with provider ``messenger`` is one Facebook Page (channel ``social``, sender id
the Page's id), with the credentials of ``meta.py`` (``ACCESS_TOKEN``: the Page access token,
``APP_SECRET``, ``VERIFY_TOKEN``).

- Webhooks (``messenger_apis.py``): ``/api/v1/engagement/providers/messenger/<source>/``, the
  subscription handshake (GET) and events (POST, ``object: page``, checked against
  ``X-Hub-Signature-256`` before the body is read). Each ``entry[].messaging[]`` event of the
  source's Page is one of:

  - ``message``: the customer's text and files (``attachments[]`` of type image, file, audio or
    video, fetched from their ``payload.url`` and kept like an email's attachments, within
    ``CEA_MESSENGER_ATTACHMENT_MAX_BYTES`` and ``ATTACHMENT_TYPES``; a file that is not kept is
    listed with the reason in the payload's ``attachments_refused``). One message per ``mid``: a
    webhook Meta delivers again changes nothing. An echo (``is_echo``: the Page's own message) is
    ignored.
  - ``postback``: a button the customer pressed, kept as a message whose text is the button's
    ``title`` (its ``payload`` in the message's payload).
  - ``delivery`` (``mids[]``, ``watermark``) and ``read`` (``watermark``): the receipts of CEA's
    replies to that customer (``outbox.receipt_record``): delivered for each send of ``mids`` and
    every one sent at or before the watermark; read for every one sent at or before it.

  Anything else (reactions, opt-ins, referrals, another Page's events) is acknowledged and ignored.
- The customer is the sender's page-scoped id (PSID): the conversation's address is the social
  handle ``facebook:<psid>``; a sender's messages thread as other social DMs do
  (``webhooks.sender_ingest``: ``<source>:facebook:<psid>:<n>``), new conversations waiting in
  the source's queue.
- Replies (``MessengerAdapter``): ``POST {CEA_META_GRAPH_URL}/<page id>/messages`` with
  ``recipient.id``, ``messaging_type`` and ``message.text``; each file after it as one more request
  with ``message.attachment`` (``type`` image, audio, video or file; ``payload.url`` CEA's signed
  URL of it). The answer's ``message_id`` is the provider's id. Within 24 hours of the customer's
  last message a reply is a ``RESPONSE``; after that, up to 7 days, it is sent with the
  ``HUMAN_AGENT`` tag (``MESSAGE_TAG``; the app needs Meta's Human Agent permission); after 7
  days Messenger takes no reply and the desk refuses it (``reply_window_closed``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cea.common.channels import Direction
from cea.common.errors import Conflict, ValidationFailed
from engagement.adapters.ingest import Ingested
from engagement.adapters.meta import graph_post
from engagement.adapters.models import ProviderSend, SendStatus, WebhookSource
from engagement.adapters.outbox import OutboundMedia, OutboundText, SendError, receipt_record
from engagement.adapters.provider_files import meta_media_hosts, provider_file_fetch
from engagement.adapters.provider_http import DownloadRefused
from engagement.adapters.webhooks import sender_ingest
from engagement.conversations.files import CheckedFile, attachment_store, attachment_summary
from engagement.conversations.models import Conversation, Message
from records.identities.models import IdentityKind

logger = logging.getLogger(__name__)

PLATFORM = "facebook"
NAME = "Messenger"
# Messenger's limit of a text message (characters).
TEXT_MAX = 2000
# The standard messaging window after the customer's last message, and the human agent tag's.
STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)

# The files kept from a customer's message, by Messenger's attachment type; a ``file`` may be any of them.
ATTACHMENT_TYPES: dict[str, frozenset[str]] = {
    "image": frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"}),
    "video": frozenset({"video/mp4", "video/quicktime", "video/webm", "video/3gpp"}),
    "audio": frozenset({"audio/mpeg", "audio/mp4", "audio/aac", "audio/ogg", "audio/wav", "audio/x-wav", "audio/webm"}),
    "file": frozenset(
        {
            "application/pdf",
            "text/plain",
            "text/csv",
            "application/msword",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.ms-excel",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    ),
}
ATTACHMENT_TYPES["file"] = frozenset().union(*ATTACHMENT_TYPES.values())


def messenger_address(psid: str) -> str:
    """The conversation's address (a social handle) of the customer with page-scoped id ``psid``."""
    return f"{PLATFORM}:{psid}"


def _psid(address: str) -> str:
    return address.removeprefix(f"{PLATFORM}:")


# --- The messaging window ---------------------------------------------------------------------------


def messaging_window(conversation: Conversation, *, at: datetime) -> dict[str, str] | None:
    """How a reply at ``at`` is sent: ``{"messaging_type": "RESPONSE"}`` within 24 hours of the
    customer's last message, ``{"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}`` within 7
    days; ``None`` after that (or when the customer never wrote): Messenger takes no reply."""
    last = conversation.messages.filter(direction=Direction.INBOUND).aggregate(last=Max("sent_at"))["last"]
    if last is None or at - last > HUMAN_AGENT_WINDOW:
        return None
    if at - last <= STANDARD_WINDOW:
        return {"messaging_type": "RESPONSE"}
    return {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}


WINDOW_CLOSED = gettext_noop(
    "The customer last wrote more than 7 days ago: Messenger takes no reply now (its 24-hour window and "
    "the human agent tag's 7 days have passed). The customer has to write again first."
)


# --- Replies out ----------------------------------------------------------------------------------


def _attachment_type(media: OutboundMedia) -> str:
    kind = media.content_type.split("/", 1)[0]
    return kind if kind in ("image", "audio", "video") else "file"


class MessengerAdapter:
    def reply_rules(self, *, source: WebhookSource, conversation: Conversation, body: str) -> dict:
        """A reply Messenger can take: ``reply_window_closed`` (409) after 7 days, 400 for a text
        over ``TEXT_MAX``; the message type (and tag) it is sent with, for the payload."""
        if len(body) > TEXT_MAX:
            raise ValidationFailed(
                f"Messenger takes at most {TEXT_MAX} characters in a message.",
                fields={"body": f"At most {TEXT_MAX} characters ({len(body)} given)."},
            )
        window = messaging_window(conversation, at=timezone.now())
        if window is None:
            raise Conflict(_(WINDOW_CLOSED), code="reply_window_closed")
        return window

    def send(self, source: WebhookSource, message: OutboundText) -> str:
        """The text, then each file, one request each; the first one's ``message_id``.

        The window is read again when it is sent (a reply retried while the provider was down may
        have crossed the 24 hours). Once one request went, a later failure is final: sending all
        again would repeat what the customer already has."""
        conversation = Conversation.objects.get(messages__pk=message.message_id)
        window = messaging_window(conversation, at=timezone.now())
        if window is None:
            raise SendError(WINDOW_CLOSED, retryable=False, code="reply_window_closed")
        base: dict[str, Any] = {"recipient": {"id": _psid(message.to)}, **window}
        requests: list[dict[str, Any]] = [{"text": message.body}] if message.body else []
        requests += [
            {"attachment": {"type": _attachment_type(media), "payload": {"url": media.url, "is_reusable": False}}}
            for media in message.media
        ]
        page = message.sender or source.sender_id
        ids: list[str] = []
        for number, content in enumerate(requests):
            try:
                answer = graph_post(NAME, source, f"{page}/messages", {**base, "message": content})
            except SendError as error:
                if not ids:
                    raise
                raise SendError(
                    f"{NAME} took {number} of the {len(requests)} parts (the text, then each file); then: "
                    f"{error.reason}. The rest is not sent again: send it in a new reply.",
                    retryable=False,
                    code=error.code,
                ) from error
            message_id = answer.get("message_id")
            if not isinstance(message_id, str) or not message_id:
                raise SendError(f"{NAME} accepted the message but its answer has no message_id.", retryable=False)
            ids.append(message_id)
        if not ids:
            raise SendError("The reply has neither text nor files.", retryable=False, code="empty")
        return ids[0]

    def status_callback(self, source: WebhookSource, message_id: int) -> str:
        """Receipts come to the Page's webhook (``delivery``, ``read``), not to a URL per message."""
        path = reverse("engagement-api:messenger-webhook", kwargs={"source_name": source.name})
        return f"{settings.CEA_PUBLIC_URL}{path}"


# --- Webhooks in ----------------------------------------------------------------------------------


def _at(milliseconds: int) -> datetime:
    return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)


def _invalid(where: str, what: str) -> ValidationFailed:
    return ValidationFailed(f"{where}: {what}", fields={where: what})


def _text(value: Any, where: str, *, required: bool = True, max_length: int = 4000) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value) or len(value) > max_length:
        raise _invalid(where, f"A string of at most {max_length} characters.")
    return value


# The latest time Python's datetime holds, in milliseconds (a larger one is not a time).
_MAX_MILLIS = 253402300799999


def _millis(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_MILLIS:
        raise _invalid(where, "A time in milliseconds since 1970.")
    return value


def _psid_of(event: dict, where: str) -> str:
    sender = event.get("sender")
    psid = sender.get("id") if isinstance(sender, dict) else None
    if not isinstance(psid, str) or not psid.isascii() or not psid.isdigit() or len(psid) > 40:
        raise _invalid(f"{where}.sender.id", "The sender's page-scoped id (digits).")
    return psid


@dataclass(frozen=True)
class FileRef:
    """One file of a customer's message: its Messenger type and URL (``None``: not a file CEA fetches)."""

    kind: str
    url: str | None


@dataclass(frozen=True)
class InboundEvent:
    """A customer's message or postback."""

    psid: str
    page: str
    mid: str
    text: str
    sent_at: datetime
    extra: dict = field(default_factory=dict)
    files: tuple[FileRef, ...] = ()


@dataclass(frozen=True)
class ReceiptEvent:
    """A delivery (``mids``) or read receipt, up to ``watermark``."""

    psid: str
    status: str
    watermark: datetime
    mids: tuple[str, ...] = ()


@dataclass
class ReadEvents:
    """The events of a webhook CEA keeps, and how many it skipped (malformed, logged)."""

    events: list[InboundEvent | ReceiptEvent] = field(default_factory=list)
    skipped: int = 0


def messenger_events(body: Any, *, page_id: str) -> ReadEvents:
    """The events of a webhook's body that CEA keeps, for the Page ``page_id``. ``ValidationFailed``
    (400, with the field) only for a body that is not a Page webhook at all; an entry or event that
    cannot be read is logged and skipped (``skipped``), the others kept: a 400 would make Meta send
    the whole batch again and, after enough of them, disable the app's subscription."""
    if not isinstance(body, dict) or body.get("object") != "page":
        raise _invalid("object", "A Messenger webhook is of the object 'page'.")
    entries = body.get("entry")
    if not isinstance(entries, list):
        raise _invalid("entry", "A list of entries.")
    read = ReadEvents()
    for e, entry in enumerate(entries):
        messaging = entry.get("messaging", []) if isinstance(entry, dict) else None
        if not isinstance(messaging, list):
            logger.warning("Messenger webhook: entry[%s] is not an entry with a list of events: skipped", e)
            read.skipped += 1
            continue
        if str(entry.get("id", "")) != page_id:
            if messaging:
                logger.warning("Messenger webhook: %s events of another Page ignored", len(messaging))
            continue
        for m, event in enumerate(messaging):
            where = f"entry[{e}].messaging[{m}]"
            try:
                if not isinstance(event, dict):
                    raise _invalid(where, "An object.")
                found = _event(event, where, page_id)
            except (ValidationFailed, ValueError, OverflowError) as error:
                logger.warning("Messenger webhook: %s skipped: %s", where, error)
                read.skipped += 1
                continue
            if found is not None:
                read.events.append(found)
    return read


def _event(event: dict, where: str, page_id: str) -> InboundEvent | ReceiptEvent | None:
    message, postback = event.get("message"), event.get("postback")
    delivery, read = event.get("delivery"), event.get("read")
    if isinstance(message, dict):
        if message.get("is_echo"):
            return None  # the Page's own message (CEA's replies among them)
        return _message_event(event, message, where, page_id)
    if isinstance(postback, dict):
        psid = _psid_of(event, where)
        sent_at = _at(_millis(event.get("timestamp"), f"{where}.timestamp"))
        title = _text(postback.get("title"), f"{where}.postback.title", required=False, max_length=1000)
        payload = _text(postback.get("payload"), f"{where}.postback.payload", required=False, max_length=1000)
        mid = _text(postback.get("mid"), f"{where}.postback.mid", required=False, max_length=200)
        return InboundEvent(
            psid=psid,
            page=page_id,
            mid=mid or f"postback-{psid}-{int(sent_at.timestamp() * 1000)}",
            text=title or payload,
            sent_at=sent_at,
            extra={"postback": {"title": title, "payload": payload}},
        )
    if isinstance(delivery, dict):
        mids = delivery.get("mids") or []
        if not isinstance(mids, list) or not all(isinstance(mid, str) and len(mid) <= 200 for mid in mids):
            raise _invalid(f"{where}.delivery.mids", "A list of message ids.")
        return ReceiptEvent(
            psid=_psid_of(event, where),
            status=SendStatus.DELIVERED,
            watermark=_at(_millis(delivery.get("watermark"), f"{where}.delivery.watermark")),
            mids=tuple(mids),
        )
    if isinstance(read, dict):
        return ReceiptEvent(
            psid=_psid_of(event, where),
            status=SendStatus.READ,
            watermark=_at(_millis(read.get("watermark"), f"{where}.read.watermark")),
        )
    return None  # reactions, opt-ins, referrals …: nothing CEA keeps


def _message_event(event: dict, message: dict, where: str, page_id: str) -> InboundEvent:
    psid = _psid_of(event, where)
    files = []
    attachments = message.get("attachments") or []
    if not isinstance(attachments, list):
        raise _invalid(f"{where}.message.attachments", "A list of attachments.")
    for a, attachment in enumerate(attachments):
        if not isinstance(attachment, dict):
            raise _invalid(f"{where}.message.attachments[{a}]", "An object.")
        kind = _text(attachment.get("type"), f"{where}.message.attachments[{a}].type", max_length=40)
        payload = attachment.get("payload")
        url = payload.get("url") if isinstance(payload, dict) and kind in ATTACHMENT_TYPES else None
        files.append(FileRef(kind=kind, url=url if isinstance(url, str) and url else None))
    extra: dict[str, Any] = {}
    quick_reply = message.get("quick_reply")
    if isinstance(quick_reply, dict) and isinstance(quick_reply.get("payload"), str):
        extra["quick_reply"] = quick_reply["payload"][:1000]
    reply_to = message.get("reply_to")
    if isinstance(reply_to, dict) and isinstance(reply_to.get("mid"), str):
        extra["reply_to"] = reply_to["mid"][:200]
    return InboundEvent(
        psid=psid,
        page=page_id,
        mid=_text(message.get("mid"), f"{where}.message.mid", max_length=200),
        text=_text(message.get("text"), f"{where}.message.text", required=False, max_length=TEXT_MAX * 2),
        sent_at=_at(_millis(event.get("timestamp"), f"{where}.timestamp")),
        extra=extra,
        files=tuple(files),
    )


def messenger_events_record(*, source: WebhookSource, events: list[InboundEvent | ReceiptEvent]) -> None:
    """Keep each event of a webhook: messages (each in its transaction, its files fetched before it)
    and receipts."""
    for event in events:
        if isinstance(event, InboundEvent):
            messenger_message_ingest(source=source, event=event)
        else:
            messenger_receipts_record(source=source, event=event)


def _fetched(files: tuple[FileRef, ...]) -> tuple[list[CheckedFile], list[dict]]:
    """The files to keep and those refused (``{"type", "reason"}``), fetched outside any transaction
    (``provider_file_fetch``: only from Meta's hosts, ``CEA_META_MEDIA_HOSTS``)."""
    kept, refused = [], []
    for number, ref in enumerate(files, start=1):
        if ref.url is None:
            refused.append({"type": ref.kind, "reason": f"A {ref.kind} attachment is not a file CEA keeps."})
            continue
        try:
            file = provider_file_fetch(
                ref.url,
                max_bytes=settings.CEA_MESSENGER_ATTACHMENT_MAX_BYTES,
                hosts=meta_media_hosts(),
                filename_hint=_cdn_name(ref.url) or f"{ref.kind}-{number}",
            )
        except DownloadRefused as error:
            refused.append({"type": ref.kind, "reason": error.reason})
            continue
        if file.content_type not in ATTACHMENT_TYPES[ref.kind]:
            refused.append({"type": ref.kind, "reason": f"Files of type {file.content_type} are not kept."})
            continue
        kept.append(file)
    return kept, refused


def _cdn_name(url: str) -> str:
    """The last part of a CDN URL's path (``scontent.xx.fbcdn.net/…/photo_123.png``), if any."""
    return PurePosixPath(unquote(urlsplit(url).path)).name[:200]


def messenger_message_ingest(*, source: WebhookSource, event: InboundEvent) -> Ingested | None:
    """Keep a customer's message (``None`` when its ``mid`` is already kept: nothing is fetched again)."""
    if Message.objects.filter(channel=source.channel, external_id=f"{source.name}:{event.mid}").exists():
        return None
    files, refused = _fetched(event.files)
    text = event.text or ", ".join(file.filename for file in files) or ", ".join(f"[{r['type']}]" for r in refused)
    return sender_ingest(
        source=source,
        contact_kind=IdentityKind.SOCIAL,
        contact_value=messenger_address(event.psid),
        message_id=event.mid,
        text=text,
        sent_at=event.sent_at,
        author_name=f"@{event.psid}",
        payload={
            "message_id": event.mid,
            "platform": PLATFORM,
            "handle": event.psid,
            "from": event.psid,
            "to": event.page,
            **event.extra,
            **({"attachments_refused": refused} if refused else {}),
        },
        after=partial(_files_keep, files),
    )


def _files_keep(files: list[CheckedFile], ingested: Ingested) -> None:
    if not (ingested.created and files):
        return
    kept = [attachment_store(file, message=ingested.message) for file in files]
    ingested.message.payload = {**ingested.message.payload, "attachments": [attachment_summary(a) for a in kept]}
    ingested.message.save(update_fields=["payload"])


@transaction.atomic
def messenger_receipts_record(*, source: WebhookSource, event: ReceiptEvent) -> int:
    """Record a delivery or read receipt on each of the source's sends to the customer it covers
    (those of its ``mids``, and those sent at or before its watermark); how many it covers. Messages
    CEA did not send (the Page's inbox's) are not CEA's to record."""
    earlier = (SendStatus.SENT,) if event.status == SendStatus.DELIVERED else (SendStatus.SENT, SendStatus.DELIVERED)
    covered = Q(sent_at__lte=event.watermark, status__in=earlier)
    if event.mids:
        covered |= Q(provider_message_id__in=event.mids)
    message_ids = list(
        ProviderSend.objects.filter(covered, source=source, message__payload__to=messenger_address(event.psid))
        .order_by("id")
        .values_list("message_id", flat=True)
    )
    for message_id in message_ids:
        receipt_record(source=source, status=event.status, message_id=message_id)
    return len(message_ids)
