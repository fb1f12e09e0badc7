"""CEA's own SMTP server (aiosmtpd): mail delivered to a configured address becomes an email conversation.

- ``RCPT TO`` an address not in ``CEA_SMTP_RECIPIENTS`` (addresses, or ``@domain`` for a whole
  domain) is refused with ``550 5.1.1`` before any data is sent.
- A message over ``CEA_SMTP_MAX_BYTES`` is refused with ``552`` (aiosmtpd stops reading it), and
  the limit is announced in ``EHLO`` (``SIZE``).
- The message goes through the email adapter (``email_ingest``): ``250`` once it is kept (or was
  already: a redelivery is one message), ``554 5.6.0`` when it is not a readable email (the sender
  must not retry), ``451 4.3.0`` when CEA cannot keep it now (the sending server retries later,
  as SMTP servers do).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

from cea.common.errors import ValidationFailed
from engagement.adapters.email import email_ingest
from engagement.adapters.ingest import Ingested

logger = logging.getLogger(__name__)


class Recipients:
    """The addresses mail is accepted for: exact addresses and whole domains (``@domain``)."""

    def __init__(self, entries: Iterable[str]):
        cleaned = [entry.strip().lower() for entry in entries if entry.strip()]
        self.domains = frozenset(entry[1:] for entry in cleaned if entry.startswith("@"))
        self.addresses = frozenset(entry for entry in cleaned if not entry.startswith("@"))

    def accepts(self, address: str) -> bool:
        address = address.strip().lower()
        local, at, domain = address.rpartition("@")
        return bool(local and at) and (address in self.addresses or domain in self.domains)

    def __bool__(self) -> bool:
        return bool(self.domains or self.addresses)


def _ingest(raw: bytes) -> Ingested:
    # A long-running server: drop connections the database closed, as Django does around a request.
    close_old_connections()
    try:
        return email_ingest(raw=raw, received_by="smtp")
    finally:
        close_old_connections()


class IngestHandler:
    """aiosmtpd's handler: refuses unknown recipients, hands each message to the email adapter."""

    def __init__(self, recipients: Recipients):
        self.recipients = recipients

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options):
        if not self.recipients.accepts(address):
            logger.info("SMTP: refused a recipient not accepted here (%s)", address)
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        try:
            ingested = await sync_to_async(_ingest, thread_sensitive=False)(raw)
        except ValidationFailed as refusal:
            logger.warning("SMTP: refused a message from %s: %s", envelope.mail_from, refusal.message)
            return f"554 5.6.0 {' '.join(refusal.message.split())}"[:500]
        except Exception:
            logger.exception("SMTP: a message from %s could not be kept", envelope.mail_from)
            return "451 4.3.0 The message cannot be kept now; try again later"
        return f"250 2.0.0 Kept as message {ingested.message.pk} of conversation {ingested.conversation.pk}"


def smtp_controller(*, host: str, port: int, recipients: Recipients | None = None) -> Controller:
    """An aiosmtpd controller (not started) accepting mail for ``recipients`` (the settings' by default)."""
    handler = IngestHandler(recipients if recipients is not None else Recipients(settings.CEA_SMTP_RECIPIENTS))
    return Controller(
        handler,
        hostname=host,
        port=port,
        data_size_limit=settings.CEA_SMTP_MAX_BYTES,
        server_hostname=host,
        decode_data=False,
    )
