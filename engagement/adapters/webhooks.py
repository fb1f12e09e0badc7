"""Signed inbound webhooks, and the SMS and social DM adapters that receive through them.

A provider (an SMS gateway, a social platform, a telephony provider) is a ``WebhookSource``;
it posts to ``/api/v1/engagement/webhooks/<source-name>/`` with two headers:

- ``X-CEA-Timestamp``: the Unix time (seconds) of sending;
- ``X-CEA-Signature``: ``sha256=<hex>``, the HMAC-SHA256 of ``"<timestamp>.<raw body>"`` keyed
  with the source's secret.

A timestamp further than ``CEA_WEBHOOK_TOLERANCE_SECONDS`` from now is refused, so a captured
request cannot be replayed later; a replay inside the window is a duplicate, which the
idempotent ingest turns into nothing.

SMS and social DMs thread per sender: the conversation's external id is
``<source>:<sender>:<n>``, the sender's ``n``-th conversation on that source (see
``ingest.open_thread``). Message external ids are ``<source>:<provider message id>`` because
two providers may use the same ids.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial

from django.conf import settings
from django.db import transaction

from cea.common.channels import Channel
from cea.common.errors import ApplicationError, NotFound
from engagement.adapters.ingest import DEFAULT_QUEUES, Ingested, delivery_ingest, open_thread
from engagement.adapters.models import WebhookSource
from engagement.conversations.files import CheckedFile, attachment_store
from engagement.hooks import Claimed, InboundText, inbound_claim
from records.identities.models import IdentityKind

SIGNATURE_PREFIX = "sha256="


class SignatureRefused(ApplicationError):
    """The request is not provably from the source: missing, malformed, expired or wrong signature."""

    status_code = 401
    code = "bad_signature"


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-CEA-Signature`` value a sender computes (providers' SDKs and the tests use it)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def webhook_source_verify(*, name: str, timestamp: str | None, signature: str | None, body: bytes) -> WebhookSource:
    """The active source named ``name`` if the request is signed by it.

    Raises ``NotFound`` (404) for an unknown or inactive source and ``SignatureRefused`` (401)
    for a missing, malformed, expired or wrong signature; each with a code saying which
    (``unknown_source``, ``missing_signature``, ``malformed_signature``, ``expired_signature``,
    ``bad_signature``). The webhook endpoint logs every refusal.
    """
    source = WebhookSource.objects.select_related("team").filter(name=name, is_active=True).first()
    if source is None:
        raise NotFound(f"No active webhook source named {name!r}.", code="unknown_source")
    if not timestamp or not signature:
        missing = " and ".join(h for h, v in (("X-CEA-Timestamp", timestamp), ("X-CEA-Signature", signature)) if not v)
        raise SignatureRefused(f"The request is not signed: {missing} missing.", code="missing_signature")
    timestamp = timestamp.strip()
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise SignatureRefused("X-CEA-Timestamp must be the Unix time in seconds.", code="malformed_signature")
    if not signature.startswith(SIGNATURE_PREFIX):
        raise SignatureRefused("X-CEA-Signature must be 'sha256=<hex digest>'.", code="malformed_signature")
    tolerance = settings.CEA_WEBHOOK_TOLERANCE_SECONDS
    if abs(time.time() - int(timestamp)) > tolerance:
        raise SignatureRefused(
            f"The signature's timestamp is more than {tolerance} seconds from now; sign the request again.",
            code="expired_signature",
        )
    expected = webhook_signature(secret=source.secret, timestamp=timestamp, body=body)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise SignatureRefused("The signature does not match the body and timestamp.", code="bad_signature")
    return source


def sender_ingest(
    *,
    source: WebhookSource,
    contact_kind: str,
    contact_value: str,
    message_id: str,
    text: str,
    sent_at: datetime,
    author_name: str,
    payload: dict,
    after: Callable[[Ingested], None] | None = None,
) -> Ingested:
    """A message from a sender of a provider's source (SMS, a social DM, WhatsApp): the sender's open
    thread on the source (``<source>:<contact>:<n>``), a new one waiting in the source's queue; all or
    nothing, as every ``delivery_ingest`` (``after`` runs inside, for a new message only)."""
    sender_thread = partial(
        open_thread,
        channel=source.channel,
        thread_key=f"{source.name}:{contact_value}",
        contact_kind=contact_kind,
        contact_value=contact_value,
        team=source.team,
        source=source.channel,
        context={"webhook_source": source.name},
    )
    return delivery_ingest(
        channels=[source.channel],
        external_id=f"{source.name}:{message_id}",
        conversation=sender_thread,
        queue=source.queue or DEFAULT_QUEUES[source.channel],
        queue_reason=f"{Channel(source.channel).label} has no self-service",
        author_name=author_name,
        body=text,
        sent_at=sent_at,
        payload={"source": source.name, **payload},
        after=after,
    )


def _files_keep(files: Sequence[CheckedFile], ingested: Ingested) -> None:
    if ingested.created:
        for file in files:
            attachment_store(file, message=ingested.message)


@transaction.atomic
def sms_ingest(
    *,
    source: WebhookSource,
    message_id: str,
    sender: str,
    to: str,
    text: str,
    sent_at: datetime,
    files: Sequence[CheckedFile] = (),
    media_refused: Sequence[dict] = (),
) -> Ingested | Claimed:
    """An inbound SMS: ``sender`` (E.164 when it is a phone number) identifies the customer.

    An MMS's ``files`` (checked, ``engagement.conversations.files``) are kept as the message's
    attachments and listed in its payload (``attachments``), with the ones refused (``media_refused``);
    without text, the body is the files' names.

    An interceptor registered in ``engagement.hooks`` (a survey awaiting this sender's reply) may
    claim it first: then no conversation is opened and its ``Claimed`` is returned.
    All or nothing, as every ``delivery_ingest``.
    """
    claimed = inbound_claim(
        InboundText(
            channel=Channel.SMS, sender=sender, text=text, sent_at=sent_at, external_id=f"{source.name}:{message_id}"
        )
    )
    if claimed is not None:
        return claimed
    if not text.strip() and files:
        text = ", ".join(file.filename for file in files)
    return sender_ingest(
        source=source,
        contact_kind=IdentityKind.PHONE,
        contact_value=sender,
        message_id=message_id,
        text=text,
        sent_at=sent_at,
        author_name=sender,
        payload={
            "message_id": message_id,
            "from": sender,
            "to": to,
            **({"attachments": [file.summary() for file in files]} if files else {}),
            **({"media_refused": list(media_refused)} if media_refused else {}),
        },
        after=partial(_files_keep, files) if files else None,
    )


def social_ingest(
    *,
    source: WebhookSource,
    message_id: str,
    platform: str,
    handle: str,
    text: str,
    sent_at: datetime,
    sender: str = "",
    to: str = "",
) -> Ingested:
    """An inbound social DM: ``platform:handle`` (normalised, e.g. ``twitter:alice_b``) identifies the customer.

    All or nothing, as every ``delivery_ingest``.
    """
    return sender_ingest(
        source=source,
        contact_kind=IdentityKind.SOCIAL,
        contact_value=f"{platform}:{handle}",
        message_id=message_id,
        text=text,
        sent_at=sent_at,
        author_name=f"@{handle}",
        payload={"message_id": message_id, "platform": platform, "handle": handle, "from": sender, "to": to},
    )
