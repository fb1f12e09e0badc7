"""Writing the journey: every service that changes a customer's story calls ``journey_record``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from cea.common.errors import ValidationFailed
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
    if not kind or "." not in kind:
        raise ValidationFailed(
            "A journey event kind is a dotted name such as case.opened.", fields={"kind": "Invalid."}
        )
    if not summary.strip():
        raise ValidationFailed("A journey event needs a summary.", fields={"summary": "This field is required."})
    return JourneyEvent.objects.create(
        customer=customer,
        kind=kind,
        summary=summary[:300],
        source_system=source_system,
        channel=channel or "",
        payload=payload or {},
        occurred_at=occurred_at or timezone.now(),
    )
