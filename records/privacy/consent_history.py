"""A customer's consent history: every grant, withdrawal and removal, who made it, when and from where.

Read from the audit trail of ``Consent`` (pghistory's events, written by a trigger on every change,
whatever wrote it), so that nothing can change consent without leaving its history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model

from records.customers.models import Consent, Customer


@dataclass(frozen=True)
class ConsentChange:
    at: datetime  # when CEA recorded the change
    channel: str
    purpose: str
    granted: bool | None  # None: the consent was removed (e.g. a merge folded it into another)
    change: str  # granted / withdrawn / removed
    given_at: datetime | None  # when the customer said so
    source: str  # where it was captured (web form, agent, import …)
    user_id: int | None  # who recorded it; None for the system
    username: str | None
    url: str | None  # the request that recorded it, if any


def consent_history(*, customer: Customer, limit: int = 200) -> list[ConsentChange]:
    """The customer's consent changes (as recorded, each save of a consent one entry), newest first."""
    events = Consent.pgh_event_models["insert"]  # type: ignore[attr-defined]  # added by pghistory
    rows = list(
        events.objects.filter(customer_id=customer.pk)
        .select_related("pgh_context")
        .order_by("-pgh_created_at", "-pgh_id")[:limit]
    )
    user_ids = {(row.pgh_context.metadata if row.pgh_context else {}).get("user") for row in rows} - {None}
    names = dict(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "username"))
    history = []
    for row in rows:
        metadata = row.pgh_context.metadata if row.pgh_context else {}
        removed = row.pgh_label == "delete"
        history.append(
            ConsentChange(
                at=row.pgh_created_at,
                channel=row.channel,
                purpose=row.purpose,
                granted=None if removed else row.granted,
                change="removed" if removed else ("granted" if row.granted else "withdrawn"),
                given_at=row.given_at,
                source=row.source,
                user_id=metadata.get("user"),
                username=names.get(metadata["user"]) if metadata.get("user") is not None else None,
                url=metadata.get("url"),
            )
        )
    return history
