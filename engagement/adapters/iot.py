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
from django.db import transaction

from cea.common.channels import Channel, Direction
from cea.common.errors import NotFound, ValidationFailed
from engagement.adapters.ingest import DEFAULT_QUEUES, Ingested, already_ingested, open_thread, queue_for_agents
from engagement.context.models import ContextScope
from engagement.context.services import context_write_on_commit
from engagement.conversations.models import AuthorKind
from engagement.conversations.selectors import identify_contact
from engagement.conversations.services import message_add
from records.identities.models import IdentityKind

logger = logging.getLogger(__name__)


class Severity:
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"
    ALL = (INFO, WARNING, ERROR, CRITICAL)


@transaction.atomic
def device_fault_ingest(
    *,
    device_id: str,
    event_id: str,
    fault_code: str,
    severity: str,
    details: dict,
    occurred_at: datetime | None = None,
) -> Ingested:
    """Record a device's fault in its customer's proactive conversation; a redelivery changes nothing.

    Raises ``NotFound`` (``unknown_device``) when no customer has the device, and
    ``ValidationFailed`` when the fault is too large for the context store.
    """
    external_id = f"{device_id}:{event_id}"
    duplicate = already_ingested(channels=[Channel.IOT], external_id=external_id)
    if duplicate is not None:
        return duplicate
    customer = identify_contact(kind=IdentityKind.DEVICE, value=device_id)
    if customer is None:
        logger.warning("Device event refused: device=%s event=%s code=unknown_device", device_id, event_id)
        raise NotFound(
            f"No customer has the device {device_id!r}; register it as a device identity in records first.",
            code="unknown_device",
        )
    fault = {
        "device_id": device_id,
        "event_id": event_id,
        "fault_code": fault_code,
        "severity": severity,
        "details": details,
        **({"occurred_at": occurred_at.isoformat()} if occurred_at else {}),
    }
    size = len(json.dumps(fault).encode())
    if size > settings.CEA_CONTEXT_MAX_VALUE_BYTES:
        # Checked here: the context is written after the commit, too late to refuse.
        raise ValidationFailed(
            f"The fault is {size} bytes as context; the limit is {settings.CEA_CONTEXT_MAX_VALUE_BYTES}.",
            fields={"details": "Too large; send a shorter description."},
        )
    conversation, opened = open_thread(
        channel=Channel.IOT,
        thread_key=device_id,
        direction=Direction.OUTBOUND,
        contact_kind=IdentityKind.DEVICE,
        contact_value=device_id,
        customer=customer,
        subject=f"Device {device_id} reported {fault_code}",
        source="iot",
    )
    if opened:
        conversation = queue_for_agents(
            conversation=conversation,
            queue=DEFAULT_QUEUES[Channel.IOT],
            reason=f"Device {device_id} reported {fault_code} ({severity})",
        )
    message, created = message_add(
        conversation=conversation,
        direction=Direction.INBOUND,
        author_kind=AuthorKind.SYSTEM,
        author_name=device_id,
        body=f"Device {device_id} reported fault {fault_code} ({severity})",
        external_id=external_id,
        sent_at=occurred_at,
        payload={"event": "device_fault", **fault},
    )
    context_write_on_commit(
        actor=None,
        scope=ContextScope.CONVERSATION,
        context_id=conversation.pk,
        values={"device_fault": fault},
        customer_id=customer.pk,
        source="iot",
        summary=f"Device {device_id} reported {fault_code}",
    )
    return Ingested(conversation=conversation, message=message, created=created)
