"""Consent before CEA contacts a customer: records' ``Consent`` per channel and purpose is the truth.

Below both agents' replies (``engagement.conversations.replies``) and proactive outbound
(``engagement.outbound.services``, which re-exports it), so that both check it the same way.
"""

from __future__ import annotations

from cea.common.channels import Channel
from cea.common.errors import Conflict
from records.customers.models import Consent, Customer


def consent_required(*, customer: Customer, channel: str, purpose: str) -> None:
    """``Conflict`` unless the customer granted consent for ``channel`` and ``purpose``
    (``consent_missing``: never asked; ``consent_withdrawn``: they said no)."""
    consent = Consent.objects.filter(customer=customer, channel=channel, purpose=purpose).first()
    if consent is None:
        raise Conflict(
            f"The customer has not given consent to {purpose} messages by {Channel(channel).label}.",
            code="consent_missing",
        )
    if not consent.granted:
        raise Conflict(
            f"The customer withdrew their consent to {purpose} messages by {Channel(channel).label}.",
            code="consent_withdrawn",
        )
