"""Write-back through the outbox: changes the CEA made that a legacy system owns.

Call ``outbox_enqueue`` INSIDE the transaction that makes the change (it refuses to run outside
one): the message commits with the change or not at all, so a change is never lost on its way to
the back-end, and a rolled-back change sends nothing. On commit a Celery task delivers it; the
beat sweep (``CEA_OUTBOX_SWEEP_SECONDS``) sends what fell due again or whose task was lost.

Delivery calls ``connector_for(connector).write_back(kind, payload, str(key))`` holding the
message's row lock (``FOR UPDATE SKIP LOCKED``): no two workers deliver one message at once, and
a delivered message is never delivered again. ``key`` goes to the back-end so that an attempt
whose answer was lost (a worker killed after the call) is recognised when repeated. A retryable
``ConnectorError`` (down, timeout, 5xx, 429) is tried again with exponential backoff and jitter,
at least its ``retry_after``, up to ``CEA_OUTBOX_MAX_ATTEMPTS``; a permanent one fails the
message with the reason (an admin can send it again from the console).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from cea.accounts.models import User
from cea.accounts.types import Actor
from cea.common.errors import Conflict, ValidationFailed
from cea.common.redact import redact_cards, redact_cards_value
from cea.common.tasks import send_on_commit
from integration.connectors.base import ConnectorError, connector_for
from integration.connectors.models import Connector
from integration.outbox.models import OutboxMessage, OutboxStatus
from integration.retry import backoff_seconds
from records.customers.models import Customer
from records.customers.services import customer_update
from records.holdings.selectors import source_records_of_customer

logger = logging.getLogger(__name__)

ERROR_LIMIT = 1000
ADDRESS_FIELDS = ("address_line1", "address_line2", "city", "postcode", "country")


def outbox_enqueue(
    *,
    connector: Connector,
    kind: str,
    payload: Mapping[str, Any],
    customer: Customer | None = None,
    actor: Actor = None,
) -> OutboxMessage:
    """Write a message for ``connector`` to deliver, in the caller's transaction.

    Precondition: called inside ``transaction.atomic()`` with the change it carries (else
    ``ValidationFailed``). The message is delivered after that transaction commits.
    """
    if not transaction.get_connection().in_atomic_block:
        raise ValidationFailed("outbox_enqueue runs inside the transaction that makes the change.")
    if not connector.is_active:
        raise Conflict(f"The connector {connector.name} is switched off; nothing can be written back to it.")
    if not kind or not kind.replace("_", "").replace("-", "").isalnum():
        raise ValidationFailed("An outbox kind is a slug such as address_change.", fields={"kind": "Invalid."})
    # Stored as JSON: dates and decimals become strings now, not at delivery. Card data never
    # leaves nor is kept in clear (cea.common.redact); the rest is the back-end's own profile data
    # (an address, an email), which a write-back must carry as it is.
    body = redact_cards_value(json.loads(json.dumps(dict(payload), cls=DjangoJSONEncoder)))
    message = OutboxMessage.objects.create(
        connector=connector,
        customer=customer,
        kind=kind,
        payload=body,
        created_by=actor if isinstance(actor, User) and actor.pk else None,
    )
    _deliver_on_commit(message.pk)
    return message


def _deliver_on_commit(message_id: int) -> None:
    from integration.outbox.tasks import outbox_deliver  # the task calls back into this module

    send_on_commit(outbox_deliver, message_id)


@dataclass(frozen=True)
class OutboxAttempt:
    """What one attempt did: ``status`` is the message's status after it (or ``skipped``)."""

    status: str
    retry_in: float | None = None


SKIPPED = OutboxAttempt(status="skipped")


def outbox_deliver_one(*, message_id: int, now: datetime | None = None) -> OutboxAttempt:
    """Deliver message ``message_id`` once if it is pending and due; record the result.

    Holds the message's row lock for the call (``FOR UPDATE SKIP LOCKED``): a message another
    worker is delivering is skipped, as is one already delivered, failed or not yet due.
    """
    now = now or timezone.now()
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("connector")
            .filter(pk=message_id, status=OutboxStatus.PENDING, next_attempt_at__lte=now + timedelta(seconds=1))
            .first()
        )
        if message is None:
            return SKIPPED
        message.attempts += 1
        retry_in = None
        try:
            connector = connector_for(message.connector)
            try:
                result = connector.write_back(message.kind, message.payload, str(message.key))
            finally:
                close = getattr(connector, "close", None)
                if callable(close):
                    close()
        except Exception as exc:
            if isinstance(exc, ConnectorError):
                error = exc
            else:
                logger.exception("Write-back %s: the connector raised an unexpected error", message.pk)
                error = ConnectorError(f"{type(exc).__name__}: {exc}")
            message.last_error = redact_cards(error.message.replace("\x00", ""))[:ERROR_LIMIT]
            if not error.permanent and message.attempts < settings.CEA_OUTBOX_MAX_ATTEMPTS:
                retry_in = backoff_seconds(
                    attempt=message.attempts,
                    base=settings.CEA_OUTBOX_RETRY_BASE_SECONDS,
                    cap=settings.CEA_OUTBOX_RETRY_MAX_SECONDS,
                    retry_after=error.retry_after,
                )
                message.next_attempt_at = timezone.now() + timedelta(seconds=retry_in)
            else:
                message.status = OutboxStatus.FAILED
                if not error.permanent:
                    message.last_error = f"Gave up after {message.attempts} attempts: {message.last_error}"[
                        :ERROR_LIMIT
                    ]
                logger.warning("Write-back %s (%s) failed: %s", message.pk, message.kind, message.last_error)
        else:
            message.status = OutboxStatus.DELIVERED
            message.delivered_at = timezone.now()
            message.last_error = ""
            message.result = redact_cards_value(json.loads(json.dumps(result or {}, cls=DjangoJSONEncoder)))
        message.save(update_fields=["status", "attempts", "next_attempt_at", "last_error", "result", "delivered_at"])
    return OutboxAttempt(status=message.status, retry_in=retry_in)


@transaction.atomic
def outbox_retry(*, actor: Actor, message: OutboxMessage) -> OutboxMessage:
    """Send a failed (or waiting) message again now, its attempts counted afresh; a delivered one is refused."""
    locked = OutboxMessage.objects.select_for_update().get(pk=message.pk)
    if locked.status == OutboxStatus.DELIVERED:
        raise Conflict("This write-back was delivered; it is not sent twice.")
    locked.status = OutboxStatus.PENDING
    locked.attempts = 0
    locked.next_attempt_at = timezone.now()
    locked.save(update_fields=["status", "attempts", "next_attempt_at"])
    _deliver_on_commit(locked.pk)
    return locked


# --- Write-backs the CEA makes -------------------------------------------------------------------


@transaction.atomic
def customer_address_change(
    *, actor: Actor, customer: Customer, address: Mapping[str, str], connector: Connector
) -> tuple[Customer, OutboxMessage]:
    """Change the customer's postal address in records and write it back to ``connector``'s system.

    ``address`` holds any of ``address_line1``, ``address_line2``, ``city``, ``postcode``,
    ``country``. Both happen in one transaction: records' change (with its journey event and
    audit) and the outbox message commit together or not at all. The message carries the
    customer's id in the legacy system (``external_id``, empty if records knows none).
    """
    unknown = set(address) - set(ADDRESS_FIELDS)
    if unknown:
        raise ValidationFailed(
            f"Not address fields: {', '.join(sorted(unknown))}.", fields={name: "Unknown field." for name in unknown}
        )
    if not address:
        raise ValidationFailed("Give the new address.", fields={"address_line1": "This field is required."})
    customer = customer_update(actor=actor, customer=customer, **address)
    external_id = (
        source_records_of_customer(customer=customer)
        .filter(system=connector.system)
        .values_list("external_id", flat=True)
        .first()
    )
    message = outbox_enqueue(
        connector=connector,
        kind="address_change",
        customer=customer,
        actor=actor,
        payload={
            "customer_id": customer.pk,
            "external_id": external_id or "",
            "address": {name: getattr(customer, name) for name in ADDRESS_FIELDS},
        },
    )
    return customer, message
