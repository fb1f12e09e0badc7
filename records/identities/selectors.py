"""Finding a customer from any of their channel identifiers."""

from __future__ import annotations

from django.db.models import Q

from cea.common.errors import ValidationFailed
from records.customers.models import Customer
from records.identities.models import Identity, IdentityKind
from records.identities.normalise import normalise


def customer_lookup(*, kind: str, value: str) -> Customer | None:
    """The customer identified by ``value`` of ``kind``, or ``None``. Malformed values raise."""
    stored, _ = normalise(kind, value)
    identity = Identity.objects.select_related("customer").filter(kind=kind, value=stored).first()
    return identity.customer if identity else None


def customer_lookup_any(*, value: str) -> list[tuple[str, Customer]]:
    """Every ``(kind, customer)`` whose identifier of any kind matches ``value``.

    Each kind reads the value its own way (a phone number, an email, an account number …);
    kinds that cannot read it are skipped. Several matches are all returned, not guessed between.
    """
    candidates: dict[str, str] = {}
    for kind in IdentityKind.values:
        try:
            candidates[kind], _ = normalise(kind, value)
        except ValidationFailed:
            continue
    if not candidates:
        return []

    query = Q()
    for kind, stored in candidates.items():
        query |= Q(kind=kind, value=stored)
    return [
        (identity.kind, identity.customer) for identity in Identity.objects.select_related("customer").filter(query)
    ]
