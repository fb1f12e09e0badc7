"""Email: an inbound RFC 822 message becomes a message of a conversation, threaded as mail clients do.

- The message's external id is its ``Message-ID`` (without angle brackets); a message without
  one gets ``sha256-<digest of the raw bytes>@cea.invalid``, so a redelivery is still one message.
- Threading: the ``In-Reply-To`` and ``References`` ids are looked up among the messages
  already kept (inbound emails and our own replies, whose ``Message-ID`` we chose, on the email
  and web form channels); the message joins the newest open conversation among them whose
  contact address is the sender's or whose customer the sender's address identifies. When that
  conversation has ended, or nothing is found, a new conversation opens, its external id the
  opening message's id.
- The sender's address identifies the customer; the subject goes on the conversation; the text
  is the ``text/plain`` body, or the ``text/html`` one made plain; attachments are kept in the
  media storage with their size and SHA-256.
  Text, subject, names and text attachments (forwarded emails too) are redacted
  (``cea.common.pii``) before they are kept; the raw message itself is never stored.
- The message is read (MIME, and HTML made plain) before the transaction that keeps it opens:
  the sender controls what is read, so no lock or connection waits on it. HTML is read by
  libxml2 (lxml), in time linear in its size, and only its first ``CEA_EMAIL_HTML_MAX_CHARS``
  characters.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.errors import MessageError
from email.message import EmailMessage
from email.parser import BytesParser
from functools import partial

import lxml.html
from django.conf import settings
from django.core.files.base import ContentFile
from django.db.models import Q
from django.utils import timezone
from lxml import etree

from cea.accounts.models import Team
from cea.common.channels import Channel
from cea.common.errors import ValidationFailed
from cea.common.pii import redact_text
from engagement.adapters.ingest import DEFAULT_QUEUES, Ingested, conversation_start, delivery_ingest, identify_contact
from engagement.conversations.models import Attachment, Conversation, ConversationStatus, Message
from records.identities.models import IdentityKind

# Channels whose conversations are written to by email (a web form is answered by email).
EMAIL_THREAD_CHANNELS = (Channel.EMAIL, Channel.WEB_FORM)
# The largest raw message accepted (bytes), the usual limit of mail providers.
MAX_EMAIL_BYTES = 25 * 1024 * 1024
# ``References`` kept on a message and sent on a reply (RFC 5322 lets long chains be trimmed).
MAX_REFERENCES = 20

_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
# HTML elements whose content is never shown, those whose end is a line break, and table cells
# (a space between them).
_INVISIBLE_ELEMENTS = frozenset({"head", "title", "script", "style"})
_LINE_ENDING_ELEMENTS = frozenset({"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6"})
_CELL_ELEMENTS = frozenset({"td", "th"})
# libxml2's forgiving HTML parser: no network, comments and processing instructions dropped. It
# is given UTF-8 bytes (a ``<meta charset>`` in the body cannot change that) and stops at 256
# levels of nesting, dropping what lies deeper (hostile input only).
_HTML_PARSER = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True)


def message_ids(header_value: str | None) -> list[str]:
    """The ids in a ``Message-ID``/``In-Reply-To``/``References`` header, without angle brackets."""
    if not header_value:
        return []
    text = _printable(str(header_value))
    found = _MESSAGE_ID.findall(text)
    if found:
        return found
    bare = text.strip()
    return [bare] if bare and " " not in bare else []


def _printable(text: str) -> str:
    """``text`` without NUL characters, which PostgreSQL cannot store (a hostile email may carry them)."""
    return text.replace("\x00", "")


@dataclass
class ParsedAttachment:
    filename: str
    content_type: str
    content: bytes


@dataclass
class ParsedEmail:
    message_id: str
    in_reply_to: list[str]
    references: list[str]
    sender: str
    sender_name: str
    to: list[str]
    cc: list[str]
    subject: str
    sent_at: datetime | None
    text: str
    attachments: list[ParsedAttachment] = field(default_factory=list)
    # Sent by a machine, not a person (RFC 3834: an auto-reply, a bounce, a mailing list's mail):
    # CEA never answers it automatically, or two auto-responders would answer each other forever.
    automatic: bool = False

    @property
    def thread_ids(self) -> list[str]:
        """The ids this message answers, nearest first."""
        ids = list(self.in_reply_to) + list(reversed(self.references))
        return list(dict.fromkeys(i for i in ids if i != self.message_id))


def html_to_text(markup: str) -> str:
    """Readable text of an HTML body: head, scripts and styles dropped, block ends as line breaks.

    Reads only the first ``settings.CEA_EMAIL_HTML_MAX_CHARS`` characters, in time linear in
    them, and then says that the rest is not shown. Markup no parser can read gives ``""``.
    """
    limit = settings.CEA_EMAIL_HTML_MAX_CHARS
    try:
        root = lxml.html.document_fromstring(markup[:limit].encode("utf-8", "replace"), parser=_HTML_PARSER)
    except (etree.LxmlError, ValueError):  # nothing but whitespace, comments or garbage
        return ""
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in _visible_text(root).splitlines()]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    if len(markup) > limit:
        text += f"\n\n[The email's HTML is longer than {limit} characters; the rest is not shown.]"
    return text


def _visible_text(root: etree._Element) -> str:
    """The text of ``root``'s shown elements, in document order (an iterative walk: no recursion limit)."""
    parts: list[str] = []
    walk = etree.iterwalk(root, events=("start", "end"))
    for event, element in walk:
        if event == "start":
            if element.tag in _INVISIBLE_ELEMENTS:
                walk.skip_subtree()  # its "end" still comes, with the tail that follows it
            elif element.text:
                parts.append(element.text)
            continue
        if element.tag in _LINE_ENDING_ELEMENTS:
            parts.append("\n")
        elif element.tag in _CELL_ELEMENTS:
            parts.append(" ")
        if element.tail and element is not root:
            parts.append(element.tail)
    return "".join(parts)


def _text_of(part) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, AssertionError):  # an unknown or lying charset
        content = (part.get_payload(decode=True) or b"").decode("utf-8", errors="replace")
    return content if isinstance(content, str) else content.decode("utf-8", errors="replace")


def _body_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = _text_of(part)
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    return _printable(text.replace("\r\n", "\n")).strip()


def _attachments_of(message: EmailMessage) -> list[ParsedAttachment]:
    found = []
    for number, part in enumerate(message.iter_attachments(), start=1):
        content_type = part.get_content_type()
        if part.get_content_maintype() == "multipart":
            continue
        if part.get_content_maintype() == "message":  # a forwarded email, kept whole
            inner = part.get_payload()
            content = (inner[0] if isinstance(inner, list) else inner).as_bytes()
        else:
            content = part.get_payload(decode=True) or b""
        filename = _printable(part.get_filename() or "").strip()
        if not filename:
            filename = f"attachment-{number}{mimetypes.guess_extension(content_type) or '.bin'}"
        found.append(
            ParsedAttachment(filename=filename[:255], content_type=_printable(content_type)[:100], content=content)
        )
    return found


def _addresses(message: EmailMessage, name: str) -> list:
    header = message[name]
    return list(getattr(header, "addresses", ())) if header is not None else []


def _size_check(raw: bytes) -> None:
    """``ValidationFailed`` (field ``raw``) for an empty message or one over ``MAX_EMAIL_BYTES``."""
    if not raw or not raw.strip():
        raise ValidationFailed("The email is empty.", fields={"raw": "An RFC 822 message is required."})
    if len(raw) > MAX_EMAIL_BYTES:
        raise ValidationFailed(
            f"The email is {len(raw)} bytes; the limit is {MAX_EMAIL_BYTES}.", fields={"raw": "Too large."}
        )


def email_parse(raw: bytes) -> ParsedEmail:
    """Read an RFC 822 message; ``ValidationFailed`` (field ``raw``) when it cannot be one."""
    _size_check(raw)
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        senders = _addresses(message, "From")
        to = [a.addr_spec for a in _addresses(message, "To")]
        cc = [a.addr_spec for a in _addresses(message, "Cc")]
        date_header = message["Date"]
        sent_at = getattr(date_header, "datetime", None) if date_header is not None else None
        subject = str(message["Subject"] or "")
        text = _body_of(message)
        attachments = _attachments_of(message)
        own_ids = message_ids(message["Message-ID"])
        in_reply_to = message_ids(message["In-Reply-To"])
        references = message_ids(message["References"])
        automatic = _is_automatic(message, senders)
    except (MessageError, ValueError, TypeError, IndexError, AttributeError, LookupError) as exc:
        raise ValidationFailed(
            f"The email cannot be read: {exc}.", fields={"raw": "Not a readable RFC 822 message."}
        ) from None
    sender = next((a for a in senders if a.addr_spec and "@" in a.addr_spec), None)
    if sender is None:
        raise ValidationFailed("The email has no sender address (From).", fields={"raw": "A From address is required."})
    if sent_at is not None and timezone.is_naive(sent_at):
        sent_at = sent_at.replace(tzinfo=UTC)
    message_id = own_ids[0][:255] if own_ids else f"sha256-{hashlib.sha256(raw).hexdigest()}@cea.invalid"
    return ParsedEmail(
        message_id=message_id,
        in_reply_to=[i[:255] for i in in_reply_to],
        references=[i[:255] for i in references][-MAX_REFERENCES:],
        sender=_printable(sender.addr_spec).strip().lower(),
        sender_name=_printable(sender.display_name or ""),
        to=[_printable(address) for address in to],
        cc=[_printable(address) for address in cc],
        subject=" ".join(_printable(subject).split())[:300],
        sent_at=sent_at,
        text=text,
        attachments=attachments,
        automatic=automatic,
    )


# Precedence values mailing lists and auto-responders set (not a standard, long a convention).
AUTOMATIC_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
# Senders of bounces (delivery status notifications).
BOUNCE_SENDERS = ("mailer-daemon@", "postmaster@")


def _is_automatic(message: EmailMessage, senders) -> bool:
    """Whether a machine sent it: ``Auto-Submitted`` other than ``no`` (RFC 3834), a bulk or list
    ``Precedence``, a list's ``List-Id``, the common auto-reply flags, or a bounce's sender."""
    auto_submitted = str(message["Auto-Submitted"] or "").strip().lower()
    if auto_submitted and auto_submitted != "no":
        return True
    if str(message["Precedence"] or "").strip().lower() in AUTOMATIC_PRECEDENCE:
        return True
    if message["List-Id"] is not None or message["X-Autoreply"] is not None or message["X-Autorespond"] is not None:
        return True
    addresses = [str(a.addr_spec or "").lower() for a in senders]
    return any(address.startswith(BOUNCE_SENDERS) for address in addresses)


def _open_conversation_of_thread(email: ParsedEmail) -> Conversation | None:
    """The newest open conversation holding a message this email answers and written with its
    sender, locked; ``None`` if none.

    ``In-Reply-To`` and ``References`` are the sender's to choose, so they only thread an email
    onto a conversation with the same party: its contact address is the sender's, or the sender's
    address identifies the conversation's customer. Anyone else starts a conversation of their own.
    """
    ids = email.thread_ids
    if not ids:
        return None
    conversation_ids = Message.objects.filter(channel__in=EMAIL_THREAD_CHANNELS, external_id__in=ids).values(
        "conversation_id"
    )
    same_party = Q(contact_kind=IdentityKind.EMAIL, contact_value__iexact=email.sender)
    sender_customer = identify_contact(kind=IdentityKind.EMAIL, value=email.sender)
    if sender_customer is not None:
        same_party |= Q(customer=sender_customer)
    return (
        Conversation.objects.select_for_update()
        .filter(same_party, pk__in=conversation_ids)
        .exclude(status=ConversationStatus.ENDED)
        .order_by("-id")
        .first()
    )


def _readable_redacted(attachment: ParsedAttachment) -> bytes:
    """The content to keep: a text attachment or a forwarded email (``text/*``, ``message/*``,
    raw RFC 822 included) redacted (``cea.common.pii``), byte for byte elsewhere; other kinds
    (PDF, images) are kept as they came, which the privacy docs say."""
    if not attachment.content_type.startswith(("text/", "message/")):
        return attachment.content
    # surrogateescape: bytes that are not UTF-8 go back out unchanged around the redacted text.
    text = attachment.content.decode("utf-8", errors="surrogateescape")
    redacted = redact_text(text)
    return attachment.content if redacted == text else redacted.encode("utf-8", errors="surrogateescape")


def attachment_keep(message: Message, attachment: ParsedAttachment) -> Attachment:
    """Keep a file that came with ``message`` in the media storage (an email's attachment, a WhatsApp
    media): its name redacted, a text file's content too, its SHA-256 kept."""
    filename = redact_text(attachment.filename)[:255]
    content = _readable_redacted(attachment)
    return Attachment.objects.create(
        message=message,
        filename=filename,
        content_type=attachment.content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        file=ContentFile(content, name=filename),
    )


def email_ingest(*, raw: bytes, queue: str = "", received_by: str = "", team: Team | None = None) -> Ingested:
    """Keep one inbound email; a redelivery of the same ``Message-ID`` changes nothing.

    ``queue`` is the agents' queue a new conversation waits in (the Email queue when empty);
    ``team`` the team a new conversation belongs to (a mailbox's; else the identified customer's);
    ``received_by`` says where the message came in (``imap:<mailbox>``, ``smtp``), kept in its payload.

    Raises ``ValidationFailed`` (400) when ``raw`` is not a readable message with a sender. The
    message is read before the transaction opens (the sender decides how much work that is);
    then it is kept all or nothing, as every ``delivery_ingest``. Attachment files are written to
    the media storage before it commits: a rollback leaves the files without a row (never a row
    without its file).
    """
    email = email_parse(raw)
    return delivery_ingest(
        channels=EMAIL_THREAD_CHANNELS,
        external_id=email.message_id,
        conversation=partial(_email_conversation, email, team),
        queue=queue or DEFAULT_QUEUES[Channel.EMAIL],
        queue_reason="Email has no self-service",
        author_name=email.sender_name or email.sender,
        body=email.text,
        sent_at=email.sent_at,
        payload={
            "message_id": email.message_id,
            "in_reply_to": email.in_reply_to,
            "references": email.references,
            "from": email.sender,
            "to": email.to,
            "cc": email.cc,
            "subject": email.subject,
            **({"received_by": received_by} if received_by else {}),
            **({"automatic": True} if email.automatic else {}),
        },
        after=partial(_attachments_keep, email),
    )


def _email_conversation(email: ParsedEmail, team: Team | None = None) -> tuple[Conversation, bool]:
    """The open conversation of the thread the email answers, or a new one its message id names."""
    conversation = _open_conversation_of_thread(email)
    if conversation is not None:
        return conversation, False
    return conversation_start(
        channel=Channel.EMAIL,
        source="email",
        external_id=email.message_id,
        contact_kind=IdentityKind.EMAIL,
        contact_value=email.sender,
        subject=email.subject,
        team=team,
    )


def _attachments_keep(email: ParsedEmail, ingested: Ingested) -> None:
    if ingested.created:
        for attachment in email.attachments:
            attachment_keep(ingested.message, attachment)
