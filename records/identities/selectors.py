"""Finding a customer from any of their channel identifiers."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

from cea.common.errors import ValidationFailed
from cea.common.sql import fetch_models, row_mapper
from records.customers.models import Customer
from records.identities.models import Identity, IdentityKind
from records.identities.normalise import normalise

_CUSTOMER = row_mapper(Customer, "c")
# One row through the unique (kind, value) index; hand-written for speed (cea/common/sql.py).
# The select list comes from the model's own fields, never from input.
_LOOKUP_SQL = (
    f"SELECT {_CUSTOMER.columns} FROM records_identity i JOIN records_customer c ON c.id = i.customer_id"  # noqa: S608
    " WHERE i.kind = %s AND i.value = %s"
)


def customer_lookup(*, kind: str, value: str) -> Customer | None:
    """The customer identified by ``value`` of ``kind``, or ``None``. Malformed values raise."""
    stored, _ = normalise(kind, value)
    found = fetch_models(_CUSTOMER, _LOOKUP_SQL, [kind, stored])
    return found[0] if found else None


def identities_matching(*, value: str, kinds: Iterable[str] | None = None) -> list[Identity]:
    """Identities of any kind (or of ``kinds``) matching ``value``, each kind reading it its own way.

    A phone number, an email, an account number … are normalised as their kind does;
    kinds that cannot read ``value`` are skipped.
    """
    query = Q()
    for kind in IdentityKind.values if kinds is None else kinds:
        try:
            stored, _ = normalise(kind, value)
        except ValidationFailed:
            continue
        query |= Q(kind=kind, value=stored)
    if not query:
        return []
    return list(Identity.objects.select_related("customer").filter(query))


def customer_lookup_any(*, value: str) -> list[tuple[str, Customer]]:
    """Every ``(kind, customer)`` whose identifier of any kind matches ``value``.

    Several matches are all returned, never guessed between.
    """
    return [(identity.kind, identity.customer) for identity in identities_matching(value=value)]
