"""WhatsApp through Meta's WhatsApp Cloud API: messages in, replies and templates out, their statuses back.

A source (``WebhookSource``, provider ``whatsapp``, channel ``social``) is one WhatsApp business phone
number: its ``sender_id`` is the number's *phone number id* (not the number). Its credentials
(``credentials.py``) are Meta's (``meta.py``): ``ACCESS_TOKEN``, ``APP_SECRET``, ``VERIFY_TOKEN``, and
``BUSINESS_ACCOUNT_ID`` (the WhatsApp Business Account id, for its message templates).

- The webhook ``/api/v1/engagement/providers/whatsapp/<source>/``: Meta's subscription handshake
  (GET, ``meta_subscription_challenge``) and every event (POST, ``object: whatsapp_business_account``),
  checked against ``X-Hub-Signature-256`` before the body is parsed (``whatsapp_webhook_receive``).
  Each ``entry[].changes[].value`` with ``field: messages`` carries ``messages`` (a customer's
  messages), ``contacts`` (their profile name and ``wa_id``) and ``statuses`` (receipts of ours).
  A change for another phone number id is taken for the active WhatsApp source of that id when it
  has the same app secret (one Meta app's callback serves all its numbers); else it is ignored.
- A message joins its sender's thread on the source (``<source>:+<wa_id>:<n>``), identified by the
  phone number ``+<wa_id>`` as an SMS is, and waits in the source's queue. Its external id is
  ``<source>:<wamid>``: a webhook Meta delivers again is one message. Text is kept as it is;
  ``interactive`` (button and list replies) and ``button`` (a template's quick reply) as their
  title; ``location`` as its name, address and coordinates. A media (image, document, audio,
  video, sticker) is fetched (``GET /{media-id}`` gives a short-lived URL, downloaded with the
  bearer token, ``provider_files.provider_file_fetch``: only from ``CEA_META_MEDIA_HOSTS``, the
  type read from its bytes) and kept as the message's attachment; a file over
  ``CEA_WHATSAPP_MEDIA_MAX_BYTES`` or of a type WhatsApp does not send is not kept and the message
  says why (``media_error``). Meta unreachable while fetching (down, 5xx, 429) answers 503, so
  that Meta delivers the webhook again.
- ``statuses`` (``sent``, ``delivered``, ``read``, ``failed`` with ``errors[].code``/``title``) are
  receipts of the source's sends (``outbox.receipt_record``, by the ``wamid`` the send returned);
  one for a message the source did not send is skipped.
- Sending (``WhatsAppAdapter.send``): ``POST {graph}/{phone_number_id}/messages`` with the bearer
  token, ``messaging_product: whatsapp``: a text, an approved template (the message's payload
  ``template``) or each attached file as an ``image``/``document``/``audio``/``video`` by ``link``
  (the first with the text as its caption). The answer's ``messages[0].id`` (the wamid) is the
  provider's id (``meta.graph_post``). Meta down (connection, 5xx, 429) or throttling (Graph's
  ``GRAPH_RETRY_CODES``) is retried; another Graph error (4xx) fails the send with its code and
  message (131047: more than 24 hours since the customer's last message). An agent's file goes only
  as a type WhatsApp carries (``files.MEDIA_RULES``: JPEG, PNG, PDF, plain text).
- The 24-hour customer service window (``reply_rules``): a free-form reply is refused
  (``Conflict`` ``reply_window_closed``) more than 24 hours after the customer's last message in
  the conversation (or before any); an approved template may still be sent
  (``whatsapp_template_send``).
- Templates: ``MessageTemplate`` rows of the source, entered in the console or kept in step with
  ``GET {graph}/{BUSINESS_ACCOUNT_ID}/message_templates`` (``whatsapp_templates_sync``).
"""

from __future__ import annotations

import logging
import mimetypes
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cea.common.channels import Channel, Direction
from cea.common.errors import ApplicationError, Conflict, NotFound, ValidationFailed
from engagement.adapters.credentials import credential
from engagement.adapters.ingest import Ingested
from engagement.adapters.meta import graph_post, graph_url, meta_auth_headers, meta_signature_check
from engagement.adapters.models import MessageTemplate, Provider, SendStatus, TemplateStatus, WebhookSource
from engagement.adapters.outbox import OutboundText, SendError, receipt_record, reply_source
from engagement.adapters.provider_files import meta_media_hosts, provider_file_fetch
from engagement.adapters.provider_http import DownloadRefused, provider_get
from engagement.adapters.serializers import _phone_or_as_given
from engagement.adapters.webhooks import sender_ingest
from engagement.conversations.files import CheckedFile, attachment_store
from engagement.conversations.models import Conversation, Message
from engagement.conversations.replies import conversation_reply
from records.identities.models import IdentityKind

logger = logging.getLogger(__name__)

NAME = "WhatsApp"
WINDOW = timedelta(hours=24)
MEDIA_KINDS = ("image", "document", "audio", "video", "sticker")
# What WhatsApp carries, by kind (Cloud API, "Supported media types"); the type's parameters
# (``audio/ogg; codecs=opus``) are left out when comparing.
MEDIA_TYPES: dict[str, tuple[str, ...]] = {
    "image": ("image/jpeg", "image/png"),
    "sticker": ("image/webp",),
    "audio": ("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"),
    "video": ("video/mp4", "video/3gpp"),
    "document": (
        "text/plain",
        "application/pdf",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
}
# An attached file goes as the kind its type is; anything else as a document.
SEND_KINDS = {"image/jpeg": "image", "image/png": "image", "video/mp4": "video", "video/3gpp": "video"}
SEND_KINDS.update({media_type: "audio" for media_type in MEDIA_TYPES["audio"]})

STATUSES: dict[str, str | None] = {
    "sent": SendStatus.SENT,
    "delivered": SendStatus.DELIVERED,
    "read": SendStatus.READ,
    "failed": SendStatus.FAILED,
}
PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")


class MetaUnavailable(ApplicationError):
    """Meta could not be reached while fetching a message's media: the webhook is answered 503 so
    that Meta delivers it again (nothing of it was kept)."""

    status_code = 503
    code = "provider_unavailable"


# --- Sending --------------------------------------------------------------------------------------


def _wamid(answer: dict) -> str:
    try:
        messages = answer.get("messages")
        wamid = messages[0].get("id") if isinstance(messages, list) and messages else None
    except (ValueError, AttributeError, TypeError):
        wamid = None
    if not isinstance(wamid, str) or not wamid:
        raise SendError("WhatsApp accepted the message but its answer has no messages[0].id.", retryable=False)
    return wamid


def outbound_bodies(message: OutboundText) -> list[dict[str, Any]]:
    """The Cloud API message objects ``message`` is sent as, in order (each is one POST)."""
    base = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": message.to.lstrip("+")}
    if message.template is not None:
        template: dict[str, Any] = {"name": message.template.name, "language": {"code": message.template.language}}
        if message.template.params:
            parameters = [{"type": "text", "text": value} for value in message.template.params]
            template["components"] = [{"type": "body", "parameters": parameters}]
        return [{**base, "type": "template", "template": template}]
    bodies: list[dict[str, Any]] = []
    for number, media in enumerate(message.media):
        kind = SEND_KINDS.get(media.content_type.split(";")[0].strip().lower(), "document")
        item: dict[str, Any] = {"link": media.url}
        if number == 0 and message.body and kind != "audio":
            item["caption"] = message.body  # audio takes no caption
        if kind == "document":
            item["filename"] = media.filename
        bodies.append({**base, "type": kind, kind: item})
    if message.body and (not bodies or "caption" not in bodies[0][bodies[0]["type"]]):
        bodies.insert(0, {**base, "type": "text", "text": {"preview_url": False, "body": message.body}})
    return bodies


class WhatsAppAdapter:
    def send(self, source: WebhookSource, message: OutboundText) -> str:
        """``POST /{phone_number_id}/messages`` for each part; the first part's wamid is the message's
        (the one its statuses are matched on). Only the first part is retried as a whole: a later
        part that fails after the first went is reported, not sent again with the first."""
        first = ""
        for number, body in enumerate(outbound_bodies(message)):
            try:
                wamid = _wamid(graph_post(NAME, source, f"{source.sender_id}/messages", body))
            except SendError as error:
                if not first:
                    raise
                raise SendError(
                    f"Part {number + 1} of the message failed after the first went: {error.reason}",
                    retryable=False,
                    code=error.code,
                ) from error
            first = first or wamid
        if not first:
            raise SendError("The message has nothing to send.", retryable=False, code="empty")
        return first

    def status_callback(self, source: WebhookSource, message_id: int) -> str:
        """Meta posts every status to the app's one webhook (this source's); nothing per message."""
        path = reverse("engagement-api:whatsapp-webhook", kwargs={"source_name": source.name})
        return f"{settings.CEA_PUBLIC_URL}{path}"

    def reply_rules(self, *, source: WebhookSource, conversation: Conversation, body: str) -> dict:
        """A free-form reply only inside the 24-hour window; a template (``whatsapp_template_send``) always."""
        template = _sending_template.get()
        if template is not None:
            return {"template": template}
        window = reply_window(conversation)
        if not window.open:
            if window.last_inbound:
                when = _(
                    "WhatsApp's 24-hour customer service window is closed: the customer's last message was at "
                    "%(at)s UTC."
                ) % {"at": f"{window.last_inbound:%Y-%m-%d %H:%M}"}
            else:
                when = _(
                    "WhatsApp's 24-hour customer service window is closed: the customer has not written in this "
                    "conversation."
                )
            raise Conflict(
                when + " " + _("Only an approved message template may be sent now: choose one under the reply box."),
                code="reply_window_closed",
            )
        return {}


# --- The 24-hour window, and templates -------------------------------------------------------------

_sending_template: ContextVar[dict | None] = ContextVar("whatsapp_sending_template", default=None)


@contextmanager
def _template_reply(template: dict) -> Iterator[None]:
    """The reply being added is this approved template (``reply_rules`` lets it through the window)."""
    token = _sending_template.set(template)
    try:
        yield
    finally:
        _sending_template.reset(token)


@dataclass(frozen=True)
class ReplyWindow:
    """WhatsApp's customer service window of a conversation: ``open`` until ``closes_at``, 24 hours
    after the customer's ``last_inbound`` message."""

    open: bool
    last_inbound: datetime | None
    closes_at: datetime | None


def reply_window(conversation: Conversation, *, now: datetime | None = None) -> ReplyWindow:
    """Measured from when the customer sent their last message (its ``sent_at``, the webhook's
    ``timestamp``), not when CEA received it: a webhook Meta delivers hours late opens no new window."""
    last = (
        conversation.messages.filter(direction=Direction.INBOUND)
        .order_by("-sent_at")
        .values_list("sent_at", flat=True)
        .first()
    )
    if last is None:
        return ReplyWindow(open=False, last_inbound=None, closes_at=None)
    closes_at = last + WINDOW
    return ReplyWindow(open=(now or timezone.now()) < closes_at, last_inbound=last, closes_at=closes_at)


def whatsapp_source_of(conversation: Conversation) -> WebhookSource | None:
    """The WhatsApp source the conversation's replies go through, if it is one."""
    source = reply_source(conversation)
    return source if source is not None and source.provider == Provider.WHATSAPP else None


def template_text(template: MessageTemplate, params: list[str]) -> str:
    """The template's body with ``{{n}}`` replaced by the n-th value."""

    def value(match: re.Match) -> str:
        index = int(match.group(1)) - 1
        return params[index] if 0 <= index < len(params) else match.group(0)

    return PLACEHOLDER.sub(value, template.body)


def approved_templates(source: WebhookSource) -> list[MessageTemplate]:
    return list(source.templates.filter(status=TemplateStatus.APPROVED).order_by("name", "language"))


def whatsapp_template_send(
    *, actor, conversation: Conversation, template_id: object, params: list[str], client_message_id: str = ""
) -> tuple[Message, bool]:
    """Send the source's approved template ``template_id`` with ``params`` in ``conversation``, inside
    or outside the 24-hour window; returns ``(message, created)`` as ``conversation_reply``.

    The caller checks that ``actor`` may see the conversation (``engagement.access``), as for a
    reply. Refuses: a conversation that does not reply through WhatsApp (``Conflict``
    ``not_whatsapp``), a template that is not the source's (``ValidationFailed`` on ``template``),
    one not approved (``Conflict`` ``template_not_approved``), and values that are not one non-empty
    text for each placeholder (``ValidationFailed`` on ``params``). The message's body is the
    template's text filled in; its payload's ``template`` says what is sent.
    """
    source = whatsapp_source_of(conversation)
    if source is None:
        raise Conflict(
            f"Conversation {conversation.pk} does not reply through WhatsApp: templates are WhatsApp's.",
            code="not_whatsapp",
        )
    template_pk = str(template_id)
    template = (
        MessageTemplate.objects.filter(source=source, pk=int(template_pk)).first()
        if template_pk.isascii() and template_pk.isdigit() and len(template_pk) < 18
        else None
    )
    if template is None:
        raise ValidationFailed(
            f"The source {source.name!r} has no such template.", fields={"template": "Not one of this number's."}
        )
    if template.status != TemplateStatus.APPROVED:
        raise Conflict(
            f"The template {template.name!r} ({template.language}) is {template.get_status_display().lower()}: "
            "only an approved template may be sent.",
            code="template_not_approved",
        )
    values = [str(value).strip() for value in params]
    if len(values) != template.params or not all(values):
        raise ValidationFailed(
            f"The template {template.name!r} takes {template.params} value(s), each non-empty; {len(values)} given.",
            fields={"params": f"Give {template.params} non-empty value(s), in order."},
        )
    reference = {"name": template.name, "language": template.language, "params": values}
    with _template_reply(reference):
        return conversation_reply(
            actor=actor,
            conversation=conversation,
            body=template_text(template, values),
            client_message_id=client_message_id,
        )


def template_placeholders(text: str) -> int:
    """How many values a template's text takes: its highest ``{{n}}``."""
    return max((int(n) for n in PLACEHOLDER.findall(text)), default=0)


def template_body(components: Any) -> tuple[str, int]:
    """A Graph template's ``BODY`` component's text, and how many ``{{n}}`` it has (the highest n)."""
    for component in components if isinstance(components, list) else []:
        if isinstance(component, dict) and str(component.get("type", "")).upper() == "BODY":
            text = str(component.get("text", ""))
            return text, template_placeholders(text)
    return "", 0


TEMPLATE_STATUSES = {
    "APPROVED": TemplateStatus.APPROVED,
    "PENDING": TemplateStatus.PENDING,
    "IN_APPEAL": TemplateStatus.PENDING,
    "REJECTED": TemplateStatus.REJECTED,
    "DISABLED": TemplateStatus.REJECTED,
    "PAUSED": TemplateStatus.PAUSED,
}


@dataclass
class TemplatesSynced:
    created: int = 0
    updated: int = 0
    names: list[str] = field(default_factory=list)


def whatsapp_templates_sync(source: WebhookSource) -> TemplatesSynced:
    """Keep ``source``'s templates in step with its WhatsApp Business Account's
    (``GET /{BUSINESS_ACCOUNT_ID}/message_templates``, every page): each is created or updated by
    name and language (its body text, placeholders, category and status); templates no longer
    there are left as they are. Raises ``SendError`` (Meta's refusal or absence) and
    ``MissingCredential``; nothing is written unless every page was read."""
    if source.provider != Provider.WHATSAPP:
        raise Conflict(f"The source {source.name!r} is not a WhatsApp source.", code="not_whatsapp")
    account = credential(source.name, "BUSINESS_ACCOUNT_ID")
    headers = meta_auth_headers(source)
    url: str | None = graph_url(f"{account}/message_templates")
    params: dict | None = {"fields": "name,language,status,category,components,id", "limit": "100"}
    found: list[dict] = []
    while url:
        page = provider_get(NAME, url, headers=headers, params=params).json()
        found.extend(item for item in page.get("data", []) if isinstance(item, dict))
        next_url = page.get("paging", {}).get("next") if isinstance(page.get("paging"), dict) else None
        url, params = (next_url, None) if isinstance(next_url, str) and next_url else (None, None)
    synced = TemplatesSynced()
    with transaction.atomic():
        for item in found:
            name, language = str(item.get("name", ""))[:512], str(item.get("language", ""))[:15]
            if not name or not language:
                continue
            body, count = template_body(item.get("components"))
            _template, created = MessageTemplate.objects.update_or_create(
                source=source,
                name=name,
                language=language,
                defaults={
                    "body": body,
                    "params": count,
                    "category": str(item.get("category", ""))[:20],
                    "status": TEMPLATE_STATUSES.get(str(item.get("status", "")).upper(), TemplateStatus.PENDING),
                    "provider_template_id": str(item.get("id", ""))[:64],
                },
            )
            synced.created += created
            synced.updated += not created
            synced.names.append(f"{name} ({language})")
    return synced


# --- Webhooks in ----------------------------------------------------------------------------------


def whatsapp_source_verify(*, source: WebhookSource, body: bytes, signature: str) -> None:
    """``SignatureRefused`` (401) unless the POST carries the app's ``X-Hub-Signature-256``."""
    meta_signature_check(source, body=body, signature=signature)


def _at(raw: Any) -> datetime:
    """A webhook's ``timestamp`` (Unix seconds, as a string); now when absent or malformed."""
    try:
        return datetime.fromtimestamp(int(str(raw)), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return timezone.now()


def _values(document: Any) -> Iterator[dict]:
    if not isinstance(document, dict) or document.get("object") != "whatsapp_business_account":
        raise ValidationFailed(
            "Not a WhatsApp Business Account webhook.", fields={"object": "Must be whatsapp_business_account."}
        )
    for entry in document.get("entry") or []:
        for change in (entry.get("changes") or []) if isinstance(entry, dict) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if isinstance(value, dict) and change.get("field", "messages") == "messages":
                yield value


def _source_of_value(source: WebhookSource, value: dict) -> WebhookSource | None:
    """The source a change is for: this one, or the active WhatsApp source of its phone number id
    signed by the same app (one app's callback serves all its numbers); ``None``: ignore it."""
    number_id = str((value.get("metadata") or {}).get("phone_number_id", ""))
    if not number_id or number_id == source.sender_id:
        return source
    other = WebhookSource.objects.filter(provider=Provider.WHATSAPP, is_active=True, sender_id=number_id).first()
    secret = credential(source.name, "APP_SECRET")
    if other is not None and credential(other.name, "APP_SECRET", required=False) == secret:
        return other
    logger.warning("WhatsApp webhook to %s for phone number id %s: no such source, ignored", source.name, number_id)
    return None


@dataclass
class Received:
    """What one webhook did: messages kept (new), duplicates, receipts recorded, and skipped items."""

    messages: int = 0
    duplicates: int = 0
    receipts: int = 0
    skipped: int = 0


def whatsapp_webhook_receive(*, source: WebhookSource, document: Any) -> Received:
    """Keep the messages and receipts of one (signature-checked) webhook, each on its own: a message
    is kept all or nothing; one Meta delivers again is a duplicate. ``MetaUnavailable`` (503) when a
    media could not be fetched because Meta is down (the messages before it are kept; Meta's retry
    finds them duplicates)."""
    received = Received()
    for value in _values(document):
        target = _source_of_value(source, value)
        if target is None:
            received.skipped += 1
            continue
        names = {
            str(contact.get("wa_id", "")): str((contact.get("profile") or {}).get("name", ""))
            for contact in value.get("contacts") or []
            if isinstance(contact, dict)
        }
        for message in value.get("messages") or []:
            if not isinstance(message, dict) or not message.get("id") or not message.get("from"):
                received.skipped += 1
                continue
            ingested = _message_ingest(target, message, names.get(str(message["from"]), ""))
            if ingested.created:
                received.messages += 1
            else:
                received.duplicates += 1
        for status in value.get("statuses") or []:
            if isinstance(status, dict) and _status_record(target, status):
                received.receipts += 1
            else:
                received.skipped += 1
    return received


@dataclass
class _Media:
    file: CheckedFile | None = None
    error: str = ""


def _message_ingest(source: WebhookSource, message: dict, profile_name: str) -> Ingested:
    wamid = str(message["id"])[:100]
    external_id = f"{source.name}:{wamid}"
    duplicate = (
        Message.objects.select_related("conversation").filter(channel=source.channel, external_id=external_id).first()
    )
    if duplicate is not None:  # before fetching its media again
        return Ingested(conversation=duplicate.conversation, message=duplicate, created=False)
    kind = str(message.get("type", ""))
    text, extra = _text_of(kind, message)
    media = _media_fetch(source, kind, message.get(kind)) if kind in MEDIA_KINDS else None
    if media is not None:
        if media.file is not None:
            text = text or media.file.filename
        else:
            extra["media_error"] = media.error
            text = text or f"[{kind}: {media.error}]"
    sender = _phone_or_as_given("+" + str(message["from"]).lstrip("+"))
    return sender_ingest(
        source=source,
        contact_kind=IdentityKind.PHONE,
        contact_value=sender,
        message_id=wamid,
        text=text or f"[{kind or 'message'}]",
        sent_at=_at(message.get("timestamp")),
        author_name=profile_name or sender,
        payload={
            "message_id": wamid,
            "from": sender,
            "to": source.sender_id,
            "whatsapp_type": kind,
            **({"profile_name": profile_name} if profile_name else {}),
            **extra,
            # the stored file's (its name and a text's content redacted), as the desk lists it
            **({"attachments": [media.file.summary()]} if media and media.file else {}),
        },
        after=partial(_media_keep, media.file if media else None),
    )


def _text_of(kind: str, message: dict) -> tuple[str, dict]:
    """A message's text and what its payload adds, by its ``type``."""
    raw = message.get(kind)
    item: dict = raw if isinstance(raw, dict) else {}
    if kind == "text":
        return str(item.get("body", "")), {}
    if kind in MEDIA_KINDS:
        return str(item.get("caption", "")), {}
    if kind == "location":
        place = ", ".join(str(item[key]) for key in ("name", "address") if item.get(key))
        where = f"{item.get('latitude')}, {item.get('longitude')}"
        location = {key: item.get(key) for key in ("latitude", "longitude", "name", "address") if key in item}
        return f"📍 {place} ({where})" if place else f"📍 {where}", {"location": location}
    if kind == "interactive":
        reply = item.get(str(item.get("type", ""))) or {}
        reply = reply if isinstance(reply, dict) else {}
        return str(reply.get("title", "")), {"reply_id": str(reply.get("id", ""))}
    if kind == "button":
        return str(item.get("text", "")), {"reply_id": str(item.get("payload", ""))}
    return "", {}


def _media_keep(file: CheckedFile | None, ingested: Ingested) -> None:
    if file is not None and ingested.created:
        attachment_store(file, message=ingested.message)


def _media_fetch(source: WebhookSource, kind: str, item: Any) -> _Media:
    """The media of a message: ``GET /{media-id}`` (its short-lived ``url``, type and size), then the
    file from that URL with the bearer token (``provider_file_fetch``: only on Meta's hosts, the token
    to that URL's origin only). Meta down raises ``MetaUnavailable``; a refusal, a file too large or
    of a type WhatsApp or CEA does not keep is a ``_Media`` with the ``error`` instead."""
    if not isinstance(item, dict) or not item.get("id"):
        return _Media(error="no media id")
    limit = settings.CEA_WHATSAPP_MEDIA_MAX_BYTES
    headers = meta_auth_headers(source)
    try:
        info = provider_get(NAME, graph_url(str(item["id"])), headers=headers).json()
        content_type = str(info.get("mime_type") or item.get("mime_type") or "").split(";")[0].strip().lower()
        if content_type not in MEDIA_TYPES[kind]:
            return _Media(error=f"{content_type or 'unknown type'} is not a WhatsApp {kind}: not kept")
        if int(info.get("file_size") or 0) > limit:
            return _Media(error=f"larger than {limit} bytes: not kept")
        url = str(info.get("url", ""))
        extension = mimetypes.guess_extension(content_type) or ".bin"
        file = provider_file_fetch(
            url,
            max_bytes=limit,
            hosts=meta_media_hosts(),
            headers=headers,
            filename_hint=str(item.get("filename") or f"whatsapp-{kind}{extension}")[:255],
        )
    except SendError as error:
        if error.retryable:
            raise MetaUnavailable(f"WhatsApp's media could not be fetched: {error.reason}") from error
        return _Media(error=f"could not be fetched ({error.reason})")
    except DownloadRefused as error:
        if error.retryable:
            raise MetaUnavailable(f"WhatsApp's media could not be fetched: {error.reason}") from error
        if error.code in ("too_large", "file_too_large"):
            return _Media(error=f"larger than {limit} bytes: not kept")
        return _Media(error=f"not kept ({error.reason})")
    except (ValueError, AttributeError):
        return _Media(error="Meta's answer about it was not readable")
    return _Media(file)


def _status_record(source: WebhookSource, status: dict) -> bool:
    """One of ``statuses``: a receipt of the source's send with that wamid; ``False`` when skipped."""
    errors = [error for error in status.get("errors") or [] if isinstance(error, dict)]
    first = errors[0] if errors else {}
    reason = str(first.get("title") or first.get("message") or "")
    details = (first.get("error_data") or {}).get("details") if isinstance(first.get("error_data"), dict) else ""
    try:
        receipt_record(
            source=source,
            status=STATUSES.get(str(status.get("status", "")).lower()),
            provider_message_id=str(status.get("id", ""))[:120],
            error_code=str(first.get("code", "")) if first else "",
            error_reason=(f"WhatsApp error {first.get('code')}: {reason}" + (f" ({details})" if details else ""))
            if first
            else "",
            at=_at(status.get("timestamp")),
        )
    except NotFound:
        logger.info("WhatsApp status for a message %s did not send: skipped", source.name)
        return False
    return True


def whatsapp_window_state(conversation: Conversation) -> dict[str, Any] | None:
    """What the desk shows under a WhatsApp conversation's reply box: whether the window is open,
    until when, and the approved templates with their placeholders; ``None`` for another channel's."""
    if conversation.channel != Channel.SOCIAL:
        return None
    source = whatsapp_source_of(conversation)
    if source is None:
        return None
    window = reply_window(conversation)
    templates = [{"template": t, "numbers": list(range(1, t.params + 1))} for t in approved_templates(source)]
    return {"source": source, "window": window, "templates": templates}
