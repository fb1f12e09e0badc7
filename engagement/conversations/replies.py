"""Agents' replies on every channel: one service records the outbound message, each channel delivers it.

How a reply reaches the customer depends on the conversation's channel:

- email and web form: by email, through Django's email backend, from a Celery task sent after
  the commit (``engagement.conversations.tasks.deliver_email_reply``, which calls
  ``delivery.email_reply_deliver``); the reply carries ``In-Reply-To`` and
  ``References`` so the customer's mail client threads it, and its ``Message-ID`` (chosen here)
  is the message's external id, so the customer's answer threads back onto the conversation;
- web chat and mobile app: live, through ``message_add``'s push to the conversation's group
  (the app's back-end also reads ``messages/?after=<id>``); a mobile app reply to a session with a
  registered device is also pushed to it by its transport (``engagement.adapters.push``);
- SMS, social DM and IoT: through the provider of the source the customer wrote in through (IoT: to
  the device's registered push address first), when
  a reply transport is registered for the channel (``reply_transport_register``; the adapters
  register theirs: ``engagement.adapters.outbox``); the transport says whether the reply is queued
  for its provider or recorded only (``delivery: "not_sent"`` with a ``reason``). Without a
  transport it is recorded only, as ``not_sent``;
- voice and branch visits: refused — the conversation is spoken, there is nothing to send.

Files: a reply may carry the agent's draft attachments (``attachments``: their ids, uploaded first
through ``engagement.conversations.files.attachment_draft_add``), where the channel carries files
(``files.media_rules``, by channel and the provider the reply leaves through: the transport's
``media_provider``); they are bound to the reply in its transaction. With files a reply may have
no text.

Consent: a reply inside a conversation the customer started, or has answered, is service to a
contact they made and needs no consent. A reply in a conversation CEA started (outbound) that the
customer has not answered is more unsolicited contact: it needs their consent for the channel and
the purpose the conversation was started for, now (``consent_withdrawn`` if they withdrew it since).
"""

from __future__ import annotations

import hashlib
import secrets
from email.utils import parseaddr
from typing import Protocol

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from cea.common.channels import Channel, Direction
from cea.common.errors import Conflict, ValidationFailed
from cea.common.tasks import send_on_commit
from engagement.conversations.consent import consent_required
from engagement.conversations.delivery import Delivery
from engagement.conversations.files import (
    MediaRules,
    attachment_draft_add,
    attachment_drafts_take,
    attachment_summary,
    media_rules,
    media_rules_check,
)
from engagement.conversations.models import Attachment, AuthorKind, Conversation, ConversationStatus, Message
from engagement.conversations.services import message_add
from engagement.conversations.tasks import deliver_email_reply

EMAIL_CHANNELS = (Channel.EMAIL, Channel.WEB_FORM)
LIVE_CHANNELS = (Channel.CHAT, Channel.MOBILE_APP)
SPOKEN_CHANNELS = {Channel.VOICE: "a phone call", Channel.BRANCH: "a branch visit"}
MAX_REFERENCES = 20


class ReplyTransport(Protocol):
    """How replies on a channel leave through a provider (registered by a layer above: the adapters).

    ``prepare`` runs before the reply is added, in its transaction: it returns the message's
    payload (``delivery: "queued"`` and how it will go, or ``delivery: "not_sent"`` and a
    ``reason``) or raises ``ValidationFailed`` for a body the channel refuses (too many SMS
    segments). ``queued`` runs once the queued reply is added: it sends its task on commit.
    """

    def prepare(self, *, conversation: Conversation, body: str) -> dict: ...

    def queued(self, *, message: Message) -> None: ...

    def media_provider(self, *, conversation: Conversation) -> str:
        """The provider a reply in ``conversation`` leaves through ("" for none): whose ``media_rules`` apply."""
        ...


_transports: dict[str, ReplyTransport] = {}


def reply_transport_register(channel: str, transport: ReplyTransport) -> None:
    """Make ``transport`` deliver replies on ``channel`` (once, at start-up)."""
    _transports[channel] = transport


def _mail_domain() -> str:
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rpartition("@")[2] or "cea.invalid"


def _email_headers(conversation: Conversation, *, actor, client_message_id: str) -> dict:
    """Where the reply goes and how it threads: after the newest message that has a ``Message-ID``."""
    if conversation.contact_kind != "email" or not conversation.contact_value:
        raise Conflict(f"Conversation {conversation.pk} has no email address to reply to.", code="no_reply_address")
    if client_message_id:
        # Derived from the client's id, so a retried request makes the same message.
        key = hashlib.sha256(f"{conversation.pk}:{actor.pk}:{client_message_id}".encode()).hexdigest()[:24]
    else:
        key = secrets.token_hex(12)
    message_id = f"reply.{conversation.pk}.{key}@{_mail_domain()}"
    previous = (
        conversation.messages.filter(payload__has_key="message_id").exclude(external_id="").order_by("-id").first()
    )
    parent = previous.payload["message_id"] if previous else ""
    references = ([*previous.payload.get("references", []), parent] if previous else [])[-MAX_REFERENCES:]
    subject = conversation.subject or "Your message"
    return {
        "delivery": Delivery.QUEUED,
        "message_id": message_id,
        "in_reply_to": [parent] if parent else [],
        "references": references,
        "to": conversation.contact_value,
        "subject": subject if subject.lower().startswith("re:") else f"Re: {subject}",
    }


def _consent_for_unanswered_outreach(conversation: Conversation) -> None:
    """``Conflict`` (``consent_missing`` / ``consent_withdrawn``) for a reply that would contact the
    customer again in an outbound conversation they have not answered, without their consent now."""
    if conversation.direction != Direction.OUTBOUND or conversation.customer is None:
        return
    if conversation.messages.filter(direction=Direction.INBOUND).exists():
        return
    started = (
        conversation.messages.filter(direction=Direction.OUTBOUND, payload__has_key="purpose")
        .order_by("id")
        .values_list("payload__purpose", flat=True)
        .first()
    )
    consent_required(customer=conversation.customer, channel=conversation.channel, purpose=started or "service")


def reply_media_rules(conversation: Conversation) -> MediaRules:
    """Whether, and how many and how big, files may go with a reply in ``conversation`` (the desk shows it)."""
    transport = _transports.get(conversation.channel)
    # A transport that does not say (``media_provider`` is optional) sends through no provider's rules.
    which = getattr(transport, "media_provider", None)
    provider = which(conversation=conversation) if which is not None else ""
    return media_rules(conversation.channel, provider)


def reply_attachment_add(*, actor, conversation: Conversation, filename: str, content: bytes) -> Attachment:
    """Upload a file for a reply in ``conversation``: a draft (``files.attachment_draft_add``), refused at
    once (``Conflict`` ``attachments_not_allowed``) where the conversation's channel carries no files.
    The caller checks that ``actor`` may see the conversation (``engagement.access``)."""
    rules = reply_media_rules(conversation)
    if not rules.allowed and conversation.status != ConversationStatus.ENDED:
        raise Conflict(_(rules.reason), code="attachments_not_allowed")
    return attachment_draft_add(actor=actor, conversation=conversation, filename=filename, content=content, rules=rules)


@transaction.atomic
def conversation_reply(
    *,
    actor,
    conversation: Conversation,
    body: str,
    client_message_id: str = "",
    author_kind: str = AuthorKind.AGENT,
    extra_payload: dict | None = None,
    attachments: list[int] | tuple[int, ...] = (),
) -> tuple[Message, bool]:
    """Record an agent's reply and have it delivered on the conversation's channel.

    Returns ``(message, created)``; with ``client_message_id`` a retried request returns the
    first reply (``created=False``) and sends nothing again. ``author_kind`` ``system`` (with
    ``actor=None``) is CEA's own answer, such as an out-of-hours answer; ``extra_payload`` is kept
    with the channel's addressing in the message's payload. ``attachments``: ids of the actor's
    draft attachments of this conversation, bound to the reply and listed in its payload.
    Raises ``ValidationFailed`` for an empty body without files, an id that is not such a draft
    (``unknown_attachment``) or files over the channel's count or size (on ``attachments``);
    ``Conflict`` for an ended conversation (``conversation_ended``), a spoken channel
    (``no_text_replies``), files on a channel that carries none (``attachments_not_allowed``) or an
    email conversation without an address. The caller
    checks that ``actor`` may see the conversation (``engagement.access``). Locks the
    conversation so that it cannot end while the reply is added.
    """
    body = body.strip()
    if not body and not attachments:
        raise ValidationFailed("A reply needs some text.", fields={"body": "This field may not be blank."})
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    channel = conversation.channel
    if channel in SPOKEN_CHANNELS:
        raise Conflict(
            f"Conversation {conversation.pk} is {SPOKEN_CHANNELS[channel]}: "
            "replies are spoken, there is no text to send.",
            code="no_text_replies",
        )
    _consent_for_unanswered_outreach(conversation)
    external_id = f"reply:{actor.pk}:{client_message_id}" if client_message_id else ""
    if channel in EMAIL_CHANNELS:
        # The Message-ID is the external id (answers thread on it); derived from the client's
        # id when one is given, so that a retried request is the same message.
        payload = _email_headers(conversation, actor=actor, client_message_id=client_message_id)
        external_id = payload["message_id"]
    elif channel in _transports:
        payload = _transports[channel].prepare(conversation=conversation, body=body)
    elif channel in LIVE_CHANNELS:
        payload = {"delivery": Delivery.LIVE}
    else:
        payload = {"delivery": Delivery.NOT_SENT, "reason": f"No {conversation.get_channel_display()} sender yet."}
    payload = {**(extra_payload or {}), **payload}
    files: list[Attachment] = []
    if attachments and not (external_id and conversation.messages.filter(external_id=external_id).exists()):
        # (A retried reply is the first one, whose drafts it already bound: nothing to check again.)
        files = attachment_drafts_take(actor=actor, conversation=conversation, ids=list(attachments))
        media_rules_check(reply_media_rules(conversation), files)
        payload["attachments"] = [attachment_summary(file) for file in files]
    message, created = message_add(
        conversation=conversation,
        direction=Direction.OUTBOUND,
        author_kind=author_kind,
        author=actor,
        author_name=str(actor) if actor is not None else "",
        body=body,
        external_id=external_id,
        payload=payload,
    )
    if created and files:
        Attachment.objects.filter(pk__in=[file.pk for file in files]).update(message=message)
    if created and channel in EMAIL_CHANNELS:
        send_on_commit(deliver_email_reply, message.pk)
    elif created and channel in _transports and payload.get("delivery") == Delivery.QUEUED:
        _transports[channel].queued(message=message)
    return message, created
