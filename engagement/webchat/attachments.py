"""Files a visitor sends from the chat widget: size and type limits, the type read from the content.

The type is what the file's first bytes say it is (its "magic number"; plain text: UTF-8 without
control characters), never only what its name or the browser claim: a file whose content is not
one of ``ALLOWED_TYPES`` is refused (``type_not_allowed``), and so is one whose name's extension
says another type (``type_mismatch``: ``invoice.pdf`` that is really a program). The type kept is
the one read from the content. The checks are conversations' (``engagement.conversations.files``),
shared with the files agents attach to their replies.

A file is stored like an email's attachment (``engagement.conversations.models.Attachment``, in
the media storage, its SHA-256 kept; a text file redacted like every text that comes in) on a
customer message of the visitor's open chat whose body is the file's name and whose payload lists
it (``{"attachments": [{"filename", "content_type", "size", "sha256"}]}``), so the desk shows it as
it arrives. The same ``client_id`` twice stores it once (the widget retries an upload that failed).
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from cea.common.channels import Channel, Direction
from cea.common.errors import Conflict, PermissionDenied, ValidationFailed
from engagement.conversations.files import (
    ALLOWED_TYPES,
    attachment_check,
    attachment_store,
    file_checked,
    sniffed_type,
)
from engagement.conversations.models import AuthorKind, ConversationStatus, Message
from engagement.conversations.services import message_add
from engagement.webchat.limits import webchat_attachment_admit
from engagement.webchat.models import SiteKey
from engagement.webchat.selectors import visitor_conversation_latest
from engagement.webchat.services import CLIENT_ID, site_origin_allowed, visitor_from_token

# The checks are re-exported: the widget's tests and callers know them here.
__all__ = ["ALLOWED_TYPES", "attachment_check", "sniffed_type", "webchat_attachment_receive"]


def webchat_attachment_receive(
    *, site_key: str, origin: str, ip: str, token: str, client_id: object, filename: str, content: bytes
) -> tuple[Message, bool]:
    """Keep a file the visitor sent into their open chat; returns ``(message, created)``.

    Checked in this order, before anything is written: the site key and the page's origin (as the
    widget's socket: ``PermissionDenied`` ``unknown_site_key`` / ``origin_not_allowed``), the visitor
    token (``invalid_visitor``), ``client_id``, the uploads a minute of the client's address and the
    site key (``WebchatLimitReached``, 429: every upload counts, refused ones too), the file
    (``attachment_check``, through ``file_checked``), then the visitor's open chat (``Conflict``
    ``no_conversation``: the widget offers files once a chat is open).
    """
    site = SiteKey.objects.filter(key=site_key or "", is_active=True).first()
    if site is None:
        raise PermissionDenied(_("This site key is unknown or inactive."), code="unknown_site_key")
    if not site_origin_allowed(site=site, origin=origin):
        raise PermissionDenied(_("This website may not use this chat."), code="origin_not_allowed")
    visitor = visitor_from_token(site=site, token=token)
    if visitor is None:
        raise PermissionDenied(_("The visitor token is missing or not this site's."), code="invalid_visitor")
    if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
        raise ValidationFailed(
            "client_id is 1-64 letters, digits, '-' or '_'.",
            code="invalid_client_id",
            fields={"client_id": "1-64 letters, digits, '-' or '_'."},
        )
    webchat_attachment_admit(site_key=site.key, ip=ip)
    file = file_checked(filename=filename, content=content)
    conversation = visitor_conversation_latest(visitor=visitor)
    if conversation is None or conversation.status == ConversationStatus.ENDED:
        raise Conflict(_("Start a chat before sending a file."), code="no_conversation")
    external_id = f"{visitor}:{client_id}"
    existing = Message.objects.filter(channel=Channel.CHAT, external_id=external_id).first()
    if existing is not None:
        return existing, False
    with transaction.atomic():
        message, created = message_add(
            conversation=conversation,
            direction=Direction.INBOUND,
            author_kind=AuthorKind.CUSTOMER,
            body=file.filename,
            external_id=external_id,
            payload={"attachments": [file.summary()]},
        )
        if created:
            attachment_store(file, message=message)
    return message, created
