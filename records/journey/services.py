"""Writing the journey: every service that changes a customer's story calls ``journey_record``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from cea.common.errors import ValidationFailed
from cea.common.pii import redact_text, redact_value
from records.customers.models import Customer
from records.journey.models import JourneyEvent


def journey_record(
    *,
    customer: Customer,
    kind: str,
    summary: str,
    source_system: str = "records",
    channel: str = "",
    payload: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> JourneyEvent:
    """Append one event to the customer's journey.

    The summary and every text in the payload are redacted (``cea.common.pii``) first: the journey
    is what outbound webhooks relay, so nothing in clear may enter it.
    """
    if not kind or "." not in kind:
        raise ValidationFailed(
            "A journey event kind is a dotted name such as case.opened.", fields={"kind": "Invalid."}
        )
    if not summary.strip():
        raise ValidationFailed("A journey event needs a summary.", fields={"summary": "This field is required."})
    return JourneyEvent.objects.create(
        customer=customer,
        kind=kind,
        summary=redact_text(summary)[:300],
        source_system=source_system,
        channel=channel or "",
        payload=redact_value(payload or {}),
        occurred_at=occurred_at or timezone.now(),
    )
