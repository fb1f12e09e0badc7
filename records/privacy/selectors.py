from __future__ import annotations

from django.db.models import Q

from records.privacy.models import LegalHold


def legal_hold_active(*, customer_id: int) -> bool:
    """Whether a customer, or any of their cases, is under an active (unreleased) legal hold."""
    return (
        LegalHold.objects.filter(released_at__isnull=True)
        .filter(Q(customer_id=customer_id) | Q(case__customer_id=customer_id))
        .exists()
    )


def customers_on_hold_ids() -> set[int]:
    """Customers held themselves or through one of their cases: retention skips all of their data."""
    held = LegalHold.objects.filter(released_at__isnull=True)
    direct = held.filter(customer_id__isnull=False).values_list("customer_id", flat=True)
    through_cases = held.filter(case_id__isnull=False).values_list("case__customer_id", flat=True)
    return set(direct) | set(through_cases)
