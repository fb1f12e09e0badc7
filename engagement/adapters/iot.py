"""IoT device events: a device reports a fault and a proactive, outbound conversation opens.

The device id is an identity in records; its customer is the one to contact. Faults of one
device share its open conversation (external id ``<device>:<n>``, see ``ingest.open_thread``);
each fault is a system message (external id ``<device>:<event id>``) and the latest one is in
the conversation's context as ``device_fault``, for routing and the desktop.

An unknown device is refused with 404 ``unknown_device`` and logged: a proactive
conversation exists to contact a customer, and without one there is nobody to contact and
nobody who may see it; the device platform gets a clear answer to act on (register the device
to its customer in records) instead of a conversation nobody can route.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from django.conf import settings

from cea.common.channels import Channel, Direction
from cea.common.errors import NotFound, ValidationFailed
from engagement.adapters.ingest import DEFAULT_QUEUES, Ingested, delivery_ingest, identify_contact, open_thread
from engagement.context.models import ContextScope
from engagement.context.services import context_write_on_commit
from engagement.conversations.models import AuthorKind, Conversation
from records.customers.models import Customer
from records.identities.models import IdentityKind

logger = logging.getLogger(__name__)


class Severity:
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"
    ALL = (INFO, WARNING, ERROR, CRITICAL)


def device_fault_ingest(
    *,
    device_id: str,
    event_id: str,
    fault_code: str,
    severity: str,
    details: dict,
    occurred_at: datetime | None = None,
    client=None,
) -> Ingested:
    """Record a device's fault in its customer's proactive conversation; a redelivery changes nothing.

    ``client``, the device platform that sent it, is kept with the message (``push_devices.py``).
    Raises ``NotFound`` (``unknown_device``) when no customer has the device, and
    ``ValidationFailed`` when the fault is too large for the context store. All or nothing, as
    every ``delivery_ingest``.
    """
    fault = {
        "device_id": device_id,
        "event_id": event_id,
        "fault_code": fault_code,
        "severity": severity,
        "details": details,
        **({"occurred_at": occurred_at.isoformat()} if occurred_at else {}),
    }
    customer: Customer  # the device's owner: device_thread finds it once the delivery is known to be new

    def device_thread() -> tuple[Conversation, bool]:
        nonlocal customer
        customer = _device_customer(device_id=device_id, event_id=event_id)
        _fault_size_check(fault)
        return open_thread(
            channel=Channel.IOT,
            thread_key=device_id,
            direction=Direction.OUTBOUND,
            contact_kind=IdentityKind.DEVICE,
            contact_value=device_id,
            customer=customer,
            subject=f"Device {device_id} reported {fault_code}",
            source="iot",
        )

    def fault_to_context(ingested: Ingested) -> None:
        context_write_on_commit(
            actor=None,
            scope=ContextScope.CONVERSATION,
            context_id=ingested.conversation.pk,
            values={"device_fault": fault},
            customer_id=customer.pk,
            source="iot",
            summary=f"Device {device_id} reported {fault_code}",
        )

    return delivery_ingest(
        channels=[Channel.IOT],
        external_id=f"{device_id}:{event_id}",
        conversation=device_thread,
        queue=DEFAULT_QUEUES[Channel.IOT],
        queue_reason=f"Device {device_id} reported {fault_code} ({severity})",
        author_kind=AuthorKind.SYSTEM,
        author_name=device_id,
        body=f"Device {device_id} reported fault {fault_code} ({severity})",
        sent_at=occurred_at,
        # The client that sent it: it may register the device for push and acknowledge its replies.
        payload={"event": "device_fault", **fault, **({"client": client.pk} if client is not None else {})},
        after=fault_to_context,
    )


def _device_customer(*, device_id: str, event_id: str) -> Customer:
    """The customer who has the device; ``NotFound`` (``unknown_device``), logged, when nobody has it."""
    customer = identify_contact(kind=IdentityKind.DEVICE, value=device_id)
    if customer is None:
        logger.warning("Device event refused: device=%s event=%s code=unknown_device", device_id, event_id)
        raise NotFound(
            f"No customer has the device {device_id!r}; register it as a device identity in records first.",
            code="unknown_device",
        )
    return customer


def _fault_size_check(fault: dict) -> None:
    size = len(json.dumps(fault).encode())
    if size > settings.CEA_CONTEXT_MAX_VALUE_BYTES:
        # Checked here: the context is written after the commit, too late to refuse.
        raise ValidationFailed(
            f"The fault is {size} bytes as context; the limit is {settings.CEA_CONTEXT_MAX_VALUE_BYTES}.",
            fields={"details": "Too large; send a shorter description."},
        )
