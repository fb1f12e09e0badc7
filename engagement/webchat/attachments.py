"""Files a visitor sends from the chat widget: size and type limits, the type read from the content.

The type is what the file's first bytes say it is (its "magic number"; plain text: UTF-8 without
control characters), never only what its name or the browser claim: a file whose content is not
one of ``ALLOWED_TYPES`` is refused (``type_not_allowed``), and so is one whose name's extension
says another type (``type_mismatch``: ``invoice.pdf`` that is really a program). The type kept is
the one read from the content.

A file is stored like an email's attachment (``engagement.conversations.models.Attachment``, in
the media storage, its SHA-256 kept; a text file redacted like every text that comes in) on a
customer message of the visitor's open chat whose body is the file's name and whose payload lists
it (``{"attachments": [{"filename", "content_type", "size", "sha256"}]}``), so the desk shows it as
it arrives. The same ``client_id`` twice stores it once (the widget retries an upload that failed).
"""

from __future__ import annotations

import hashlib
import os

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from cea.common.channels import Channel, Direction
from cea.common.errors import Conflict, PermissionDenied, ValidationFailed
from cea.common.pii import redact_text
from engagement.conversations.models import Attachment, AuthorKind, ConversationStatus, Message
from engagement.conversations.services import message_add
from engagement.webchat.limits import webchat_attachment_admit
from engagement.webchat.models import SiteKey
from engagement.webchat.selectors import visitor_conversation_latest
from engagement.webchat.services import CLIENT_ID, site_origin_allowed, visitor_from_token

# What the widget accepts, and the extensions a file of each type may have.
ALLOWED_TYPES: dict[str, tuple[str, ...]] = {
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "application/pdf": (".pdf",),
    "text/plain": (".txt", ".log", ".csv"),
}
_TEXT_CONTROLS = {chr(code) for code in range(32)} - {"\t", "\n", "\r", "\f"}


def sniffed_type(content: bytes) -> str | None:
    """The type ``content`` is, from its first bytes; ``None`` when it is none of ``ALLOWED_TYPES``."""
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if any(char in _TEXT_CONTROLS for char in text) else "text/plain"


def attachment_check(*, filename: str, content: bytes) -> str:
    """The content type to keep for the file, or ``ValidationFailed`` with a field error on ``file``.

    Codes: ``empty_file``, ``file_too_large`` (over ``CEA_WEBCHAT_ATTACHMENT_MAX_BYTES``),
    ``type_not_allowed``, ``type_mismatch``, ``invalid_filename``.
    """
    limit = settings.CEA_WEBCHAT_ATTACHMENT_MAX_BYTES
    name = os.path.basename((filename or "").replace("\\", "/")).strip()
    if not name or len(name) > 255 or any(char in _TEXT_CONTROLS or char == "\x00" for char in name):
        raise ValidationFailed(
            _("The file needs a name."), code="invalid_filename", fields={"file": _("No usable name.")}
        )
    if not content:
        raise ValidationFailed(_("The file is empty."), code="empty_file", fields={"file": _("Empty.")})
    if len(content) > limit:
        raise ValidationFailed(
            _("The file is larger than the limit of %(limit)s bytes.") % {"limit": limit},
            code="file_too_large",
            fields={"file": _("At most %(limit)s bytes.") % {"limit": limit}},
        )
    content_type = sniffed_type(content)
    allowed = _("images (PNG, JPEG, GIF, WebP), PDF and plain text")
    if content_type is None:
        raise ValidationFailed(
            _("This kind of file cannot be sent; the chat takes %(allowed)s.") % {"allowed": allowed},
            code="type_not_allowed",
            fields={"file": _("Only %(allowed)s.") % {"allowed": allowed}},
        )
    extension = os.path.splitext(name)[1].lower()
    if extension not in ALLOWED_TYPES[content_type]:
        raise ValidationFailed(
            _("The file's name says %(extension)s but its content is %(type)s.")
            % {"extension": extension or _("no type"), "type": content_type},
            code="type_mismatch",
            fields={
                "file": _("Its content is %(type)s: name it %(extension)s.")
                % {"type": content_type, "extension": ALLOWED_TYPES[content_type][0]}
            },
        )
    return content_type


def webchat_attachment_receive(
    *, site_key: str, origin: str, ip: str, token: str, client_id: object, filename: str, content: bytes
) -> tuple[Message, bool]:
    """Keep a file the visitor sent into their open chat; returns ``(message, created)``.

    Checked in this order, before anything is written: the site key and the page's origin (as the
    widget's socket: ``PermissionDenied`` ``unknown_site_key`` / ``origin_not_allowed``), the visitor
    token (``invalid_visitor``), ``client_id``, the uploads a minute of the client's address and the
    site key (``WebchatLimitReached``, 429: every upload counts, refused ones too), the file
    (``attachment_check``), then the visitor's open chat (``Conflict`` ``no_conversation``: the widget
    offers files once a chat is open).
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
    content_type = attachment_check(filename=filename, content=content)
    conversation = visitor_conversation_latest(visitor=visitor)
    if conversation is None or conversation.status == ConversationStatus.ENDED:
        raise Conflict(_("Start a chat before sending a file."), code="no_conversation")
    external_id = f"{visitor}:{client_id}"
    existing = Message.objects.filter(channel=Channel.CHAT, external_id=external_id).first()
    if existing is not None:
        return existing, False
    name = redact_text(os.path.basename(filename.replace("\\", "/")).strip())[:255]
    if content_type == "text/plain":
        content = redact_text(content.decode("utf-8")).encode("utf-8")
    digest = hashlib.sha256(content).hexdigest()
    with transaction.atomic():
        message, created = message_add(
            conversation=conversation,
            direction=Direction.INBOUND,
            author_kind=AuthorKind.CUSTOMER,
            body=name,
            external_id=external_id,
            payload={
                "attachments": [
                    {"filename": name, "content_type": content_type, "size": len(content), "sha256": digest}
                ]
            },
        )
        if created:
            Attachment.objects.create(
                message=message,
                filename=name,
                content_type=content_type,
                size=len(content),
                sha256=digest,
                file=ContentFile(content, name=name),
            )
    return message, created
