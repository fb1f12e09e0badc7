"""Files in conversations: what a file may be, which channels carry an agent's files, and the signed link.

- **What a file may be** (``attachment_check``): the type is what the file's first bytes say it is
  (its "magic number"; plain text: UTF-8 without control characters), never only what its name or
  the browser claim. One of ``ALLOWED_TYPES``, at most ``CEA_WEBCHAT_ATTACHMENT_MAX_BYTES``, its
  name's extension that type's. The chat widget's uploads (``engagement.webchat.attachments``), the
  agents' (``attachment_draft_add``) and inbound MMS (``engagement.adapters.twilio``) all pass here.
- **Which channels carry an agent's files** (``media_rules``): one table, by channel and the
  provider of the source a reply leaves through; ``conversation_reply`` checks it before anything is
  queued.
- **The signed link** (``attachment_media_path``): a path carrying a signed, expiring token
  (``TimestampSigner``, ``CEA_MEDIA_URL_SECONDS``) that serves one sent file without a login, for
  a provider that fetches it (Twilio's ``MediaUrl``) and for the chat widget's download links
  (``attachment_by_token``; the view is ``engagement.adapters.media``).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cea.common.channels import Channel
from cea.common.errors import ApplicationError, Conflict, NotFound, PermissionDenied, ValidationFailed
from cea.common.pii import redact_text
from engagement.conversations.models import Attachment, Conversation, ConversationStatus

# What CEA accepts, and the extensions a file of each type may have.
ALLOWED_TYPES: dict[str, tuple[str, ...]] = {
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "application/pdf": (".pdf",),
    "text/plain": (".txt", ".log", ".csv"),
}
# What customers send through a messaging app (a provider's file, never an upload): voice notes,
# audio and video, beside ``ALLOWED_TYPES`` (``provider_file_fetch`` passes ``media=True``).
MEDIA_TYPES: dict[str, tuple[str, ...]] = {
    "audio/ogg": (".ogg", ".oga", ".opus"),
    "audio/mpeg": (".mp3",),
    "audio/amr": (".amr",),
    "audio/mp4": (".m4a", ".mp4"),
    "video/mp4": (".mp4", ".m4v"),
    "video/3gpp": (".3gp",),
}
_TEXT_CONTROLS = {chr(code) for code in range(32)} - {"\t", "\n", "\r", "\f"}


def sniffed_media(content: bytes) -> str | None:
    """A voice note, audio or video from its first bytes (Ogg, MP3, AMR, an ISO media file's brand)."""
    if content.startswith(b"OggS"):
        return "audio/ogg"
    if content.startswith(b"ID3") or content[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    if content.startswith(b"#!AMR"):
        return "audio/amr"
    if content[4:8] == b"ftyp":
        brand = content[8:12]
        if brand.startswith(b"3g"):
            return "video/3gpp"
        return "audio/mp4" if brand in (b"M4A ", b"M4B ") else "video/mp4"
    return None


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


def attachment_check(*, filename: str, content: bytes, max_bytes: int | None = None, media: bool = False) -> str:
    """The content type to keep for the file, or ``ValidationFailed`` with a field error on ``file``.

    Codes: ``empty_file``, ``file_too_large`` (over ``max_bytes``, by default
    ``CEA_WEBCHAT_ATTACHMENT_MAX_BYTES``), ``type_not_allowed``, ``type_mismatch``, ``invalid_filename``.
    ``media``: a provider's file, which may also be one of ``MEDIA_TYPES``.
    """
    types = {**ALLOWED_TYPES, **MEDIA_TYPES} if media else ALLOWED_TYPES
    limit = settings.CEA_WEBCHAT_ATTACHMENT_MAX_BYTES if max_bytes is None else max_bytes
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
    content_type = (sniffed_media(content) if media else None) or sniffed_type(content)
    allowed = (
        _("images (PNG, JPEG, GIF, WebP), PDF, plain text, audio and video")
        if media
        else _("images (PNG, JPEG, GIF, WebP), PDF and plain text")
    )
    if content_type is None:
        raise ValidationFailed(
            _("This kind of file cannot be sent; the chat takes %(allowed)s.") % {"allowed": allowed},
            code="type_not_allowed",
            fields={"file": _("Only %(allowed)s.") % {"allowed": allowed}},
        )
    extension = os.path.splitext(name)[1].lower()
    if extension not in types[content_type]:
        raise ValidationFailed(
            _("The file's name says %(extension)s but its content is %(type)s.")
            % {"extension": extension or _("no type"), "type": content_type},
            code="type_mismatch",
            fields={
                "file": _("Its content is %(type)s: name it %(extension)s.")
                % {"type": content_type, "extension": types[content_type][0]}
            },
        )
    return content_type


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed ``attachment_check``, ready to keep: its name and (text) content redacted."""

    filename: str
    content: bytes
    content_type: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    def summary(self) -> dict:
        """How a message's payload lists it (``{"attachments": [...]}``)."""
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "size": len(self.content),
            "sha256": self.sha256,
        }


def file_checked(*, filename: str, content: bytes, max_bytes: int | None = None, media: bool = False) -> CheckedFile:
    """``attachment_check``, then the name and a text file's content redacted like every text that comes in."""
    content_type = attachment_check(filename=filename, content=content, max_bytes=max_bytes, media=media)
    name = redact_text(os.path.basename(filename.replace("\\", "/")).strip())[:255]
    if content_type == "text/plain":
        content = redact_text(content.decode("utf-8")).encode("utf-8")
    return CheckedFile(filename=name, content=content, content_type=content_type)


def attachment_store(file: CheckedFile, **row) -> Attachment:
    """Keep a checked file in the media storage; ``row`` is the rest of the row (``message``, or a
    draft's ``conversation`` and ``uploaded_by``)."""
    return Attachment.objects.create(
        filename=file.filename,
        content_type=file.content_type,
        size=len(file.content),
        sha256=file.sha256,
        file=ContentFile(file.content, name=file.filename),
        **row,
    )


def attachment_summary(attachment: Attachment) -> dict:
    """How a message's payload lists a file (``{"attachments": [...]}``): the desk and the widget read it."""
    return {
        "id": attachment.pk,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
    }


# --- Which channels carry an agent's files ---------------------------------------------------------


@dataclass(frozen=True)
class MediaRules:
    """Whether a reply on a channel (through a provider) may carry files, how many and how big in all,
    and of which types (``content_types``; ``None``: any CEA keeps); ``reason`` says why not."""

    allowed: bool
    max_files: int = 0
    max_total_bytes: int = 0
    reason: str = ""
    content_types: frozenset[str] | None = None


_MB = 1024 * 1024
# By channel, then by the provider of the source the reply leaves through ("" for channels without one).
MEDIA_RULES: dict[str, dict[str, MediaRules]] = {
    Channel.EMAIL: {"": MediaRules(True, max_files=10, max_total_bytes=20 * _MB)},
    Channel.WEB_FORM: {"": MediaRules(True, max_files=10, max_total_bytes=20 * _MB)},
    Channel.CHAT: {"": MediaRules(True, max_files=10, max_total_bytes=50 * _MB)},
    Channel.MOBILE_APP: {"": MediaRules(True, max_files=10, max_total_bytes=50 * _MB)},
    # Twilio's Messages API: up to 10 MediaUrl, 5 MB in all (twilio.com/docs/messaging/guides/accepted-mime-types).
    Channel.SMS: {
        "twilio": MediaRules(True, max_files=10, max_total_bytes=5 * _MB),
        "vonage": MediaRules(False, reason=gettext_noop("Vonage's SMS API sends text only: no pictures or files.")),
    },
    # WhatsApp Cloud API and the Messenger Send API: one file a message (the adapters send one each).
    # WhatsApp's "Supported media types": of CEA's types, JPEG and PNG as an image, PDF and plain text
    # as a document; a GIF or WebP (a WebP is only a 512x512 sticker) is refused by Graph (131053).
    Channel.SOCIAL: {
        "whatsapp": MediaRules(
            True,
            max_files=10,
            max_total_bytes=50 * _MB,
            content_types=frozenset({"image/jpeg", "image/png", "application/pdf", "text/plain"}),
        ),
        "messenger": MediaRules(True, max_files=10, max_total_bytes=50 * _MB),
    },
    Channel.VOICE: {
        "": MediaRules(False, reason=gettext_noop("A phone call is spoken: there is nowhere to send a file."))
    },
    Channel.BRANCH: {
        "": MediaRules(False, reason=gettext_noop("A branch visit is in person: there is nowhere to send a file."))
    },
}


def media_rules(channel: str, provider: str = "") -> MediaRules:
    """The rule for files on ``channel`` through ``provider`` (a source's ``provider``; "" for none).
    A channel or provider not in ``MEDIA_RULES`` carries none."""
    rules = MEDIA_RULES.get(channel, {})
    found = rules.get(provider) or rules.get("")
    if found is not None:
        return found
    label = Channel(channel).label if channel in Channel.values else channel
    if provider:
        reason = _("%(channel)s replies through %(provider)s cannot carry files.")
    else:
        reason = _("%(channel)s replies without a provider that carries them cannot carry files.")
    return MediaRules(False, reason=reason % {"channel": label, "provider": provider})


def media_rules_check(rules: MediaRules, attachments: list[Attachment]) -> None:
    """``Conflict`` ``attachments_not_allowed`` (409) when the channel carries no files;
    ``ValidationFailed`` on ``attachments`` (``too_many_attachments``, ``attachments_too_large``,
    ``attachment_type_not_carried``)."""
    if not attachments:
        return
    if not rules.allowed:
        raise Conflict(_(rules.reason), code="attachments_not_allowed")
    if len(attachments) > rules.max_files:
        message = _("At most %(count)s files can go with one reply on this channel.") % {"count": rules.max_files}
        raise ValidationFailed(message, code="too_many_attachments", fields={"attachments": message})
    total = sum(attachment.size for attachment in attachments)
    if total > rules.max_total_bytes:
        message = _("The files are %(total)s bytes in all; this channel carries at most %(limit)s.") % {
            "total": total,
            "limit": rules.max_total_bytes,
        }
        raise ValidationFailed(message, code="attachments_too_large", fields={"attachments": message})
    for attachment in attachments:
        _type_carried(rules, attachment.filename, attachment.content_type, field="attachments")


def _type_carried(rules: MediaRules, filename: str, content_type: str, *, field: str) -> None:
    """``ValidationFailed`` on ``field`` (``attachment_type_not_carried``) for a type the channel does not carry."""
    if rules.content_types is None or content_type in rules.content_types:
        return
    message = _("%(filename)s is %(type)s; this channel carries only %(allowed)s.") % {
        "filename": filename,
        "type": content_type,
        "allowed": ", ".join(sorted(rules.content_types)),
    }
    raise ValidationFailed(message, code="attachment_type_not_carried", fields={field: message})


# --- Agents' drafts ------------------------------------------------------------------------------

DRAFT_MAX_AGE = timedelta(days=1)


def attachment_draft_add(
    *, actor, conversation: Conversation, filename: str, content: bytes, rules: MediaRules | None = None
) -> Attachment:
    """Keep a file an agent will attach to a reply: a draft of ``conversation`` by ``actor``.

    The caller checks that ``actor`` may see the conversation (``engagement.access``). Raises
    ``ValidationFailed`` for the file (``attachment_check``), ``Conflict`` ``conversation_ended``
    for an ended conversation and ``attachments_not_allowed`` for a spoken one (voice, branch);
    ``ValidationFailed`` on ``file`` (``attachment_type_not_carried``) for a type ``rules`` (the
    reply's provider's) does not carry.
    """
    file = file_checked(filename=filename, content=content)
    if rules is not None:
        _type_carried(rules, file.filename, file.content_type, field="file")
    if conversation.status == ConversationStatus.ENDED:
        raise Conflict(f"Conversation {conversation.pk} has ended.", code="conversation_ended")
    spoken = MEDIA_RULES.get(conversation.channel, {}).get("")
    if spoken is not None and not spoken.allowed:
        raise Conflict(_(spoken.reason), code="attachments_not_allowed")
    return attachment_store(file, conversation=conversation, uploaded_by=actor)


def attachment_drafts_take(*, actor, conversation: Conversation, ids: list[int]) -> list[Attachment]:
    """The drafts ``ids``, locked, in the order given; ``ValidationFailed`` on ``attachments``
    (``unknown_attachment``) when one is not a draft of this conversation by ``actor``."""
    wanted = list(dict.fromkeys(ids))
    drafts = {
        draft.pk: draft
        for draft in Attachment.objects.select_for_update().filter(
            pk__in=wanted, conversation=conversation, uploaded_by=actor, message__isnull=True
        )
    }
    unknown = [pk for pk in wanted if pk not in drafts]
    if unknown:
        message = f"No draft attachment {unknown[0]} of yours in conversation {conversation.pk}."
        raise ValidationFailed(message, code="unknown_attachment", fields={"attachments": message})
    return [drafts[pk] for pk in wanted]


def attachment_drafts_remove(*, older_than: timedelta = DRAFT_MAX_AGE) -> int:
    """Remove the drafts (and their files) uploaded more than ``older_than`` ago; how many (the beat)."""
    cutoff = timezone.now() - older_than
    removed = 0
    for draft in Attachment.objects.filter(message__isnull=True, created_at__lt=cutoff).iterator():
        with transaction.atomic():
            deleted, _ = Attachment.objects.filter(pk=draft.pk, message__isnull=True).delete()
        if deleted:
            draft.file.delete(save=False)
            removed += 1
    return removed


# --- The signed link -------------------------------------------------------------------------------

_MEDIA_SALT = "cea.attachment-media"


def attachment_media_path(attachment: Attachment | int) -> str:
    """The path (under the API) that serves ``attachment`` (or the one of that id) without a login, for
    ``CEA_MEDIA_URL_SECONDS``."""
    pk = attachment if isinstance(attachment, int) else attachment.pk
    token = signing.TimestampSigner(salt=_MEDIA_SALT).sign(str(pk))
    return reverse("engagement-api:attachment-media", kwargs={"token": token})


def attachment_media_url(attachment: Attachment) -> str:
    """``attachment_media_path`` made absolute with ``CEA_PUBLIC_URL`` (what a provider fetches)."""
    return f"{settings.CEA_PUBLIC_URL}{attachment_media_path(attachment)}"


class LinkExpired(ApplicationError):
    """A signed link older than ``CEA_MEDIA_URL_SECONDS``: it served once, it serves no more."""

    status_code = 410
    code = "link_expired"


def attachment_by_token(token: str) -> Attachment:
    """The sent file a signed link names. ``LinkExpired`` (410) for an expired token,
    ``PermissionDenied`` ``bad_token`` (403) for a forged or malformed one, ``NotFound`` (404) for a
    file that is gone or was never sent (a draft)."""
    signer = signing.TimestampSigner(salt=_MEDIA_SALT)
    try:
        value = signer.unsign(token, max_age=settings.CEA_MEDIA_URL_SECONDS)
    except signing.SignatureExpired as error:
        raise LinkExpired("This link has expired.") from error
    except signing.BadSignature as error:
        raise PermissionDenied("This link is not valid.", code="bad_token") from error
    attachment = (
        Attachment.objects.filter(pk=int(value), message__isnull=False).first()
        if value.isascii() and value.isdigit()
        else None
    )
    if attachment is None:
        raise NotFound("No such file.")
    return attachment
