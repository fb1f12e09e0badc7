"""Adding, verifying and removing customers' channel identifiers."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from cea.accounts.types import Actor
from cea.common.errors import Conflict, ValidationFailed
from records.audit.context import audited
from records.customers.models import Customer
from records.identities.models import Identity, IdentityKind
from records.identities.normalise import normalise
from records.journey.services import journey_record

CONTACT_KINDS = (IdentityKind.PHONE, IdentityKind.EMAIL)


def _contact_change_on_commit(*, customer_id: int, kind: str, change: str, identity_id: int | None, value: str) -> None:
    """After commit, tell the customer's contacts on record that a phone or email changed.

    Records does not send messages: the notifier is named by ``settings.CEA_CONTACT_CHANGE_NOTIFIER``
    (engagement's ID&V, wired in the composition root; empty for none), as email backends are. It is
    called inside the writing transaction and sends its task on commit (``send_on_commit``).
    """
    path = getattr(settings, "CEA_CONTACT_CHANGE_NOTIFIER", "")
    if kind not in CONTACT_KINDS or not path:
        return
    notify = import_string(path)
    notify(customer_id=customer_id, kind=kind, change=change, identity_id=identity_id, value=value)


@transaction.atomic
def identity_add(
    *,
    actor: Actor,
    customer: Customer,
    kind: str,
    value: str,
    is_primary: bool = False,
    verified: bool = False,
    source_system: str = "records",
) -> Identity:
    """Attach an identifier to a customer.

    ``verified`` is for the system only (``actor=None``: a load from a system of record that
    verified it): a person or client cannot vouch for an identifier, which is verified by the
    customer proving it (``identity_verify``). Raises ``ValidationFailed`` for a malformed
    identifier or ``verified`` from an actor, ``Conflict`` if it already identifies another
    customer (an identifier belongs to one customer only; the message never names them).
    """
    if verified and actor is not None:
        raise ValidationFailed(
            "An identity is verified by the customer proving it, never by a client.",
            fields={"verified": "Cannot be set by a client."},
        )
    stored, label = normalise(kind, value)
    existing = Identity.objects.filter(kind=kind, value=stored).select_related("customer").first()
    if existing is not None:
        if existing.customer_id == customer.pk:
            return existing
        raise Conflict(
            # Never the other customer's id: the actor may not be allowed to see that customer.
            f"This {IdentityKind(kind).label.lower()} already identifies another customer.",
            fields={"value": "Already in use by another customer."},
            code="identity_taken",
        )
    with audited(actor):
        if is_primary:
            Identity.objects.filter(customer=customer, kind=kind, is_primary=True).update(is_primary=False)
        identity = Identity.objects.create(
            customer=customer,
            kind=kind,
            value=stored,
            label=label,
            is_primary=is_primary,
            verified_at=timezone.now() if verified else None,
        )
        journey_record(
            customer=customer,
            kind="identity.added",
            summary=f"{IdentityKind(kind).label} {label} added",
            source_system=source_system,
            payload={"identity_id": identity.pk, "kind": kind, "label": label},
        )
    _contact_change_on_commit(customer_id=customer.pk, kind=kind, change="added", identity_id=identity.pk, value=stored)
    return identity


@transaction.atomic
def identity_verify(*, actor: Actor, identity: Identity) -> Identity:
    with audited(actor):
        identity.verified_at = timezone.now()
        identity.save(update_fields=["verified_at", "updated_at"])
    return identity


@transaction.atomic
def identity_remove(*, actor: Actor, identity: Identity) -> None:
    if identity.is_primary and identity.customer.identities.filter(kind=identity.kind).count() > 1:
        raise ValidationFailed(
            "Make another identifier of this kind primary before removing the primary one.",
            fields={"is_primary": "Cannot remove the primary identifier while others exist."},
        )
    with audited(actor):
        journey_record(
            customer=identity.customer,
            kind="identity.removed",
            summary=f"{identity.get_kind_display()} {identity.label} removed",
            payload={"identity_id": identity.pk, "kind": identity.kind, "label": identity.label},
        )
        _contact_change_on_commit(
            customer_id=identity.customer_id,
            kind=identity.kind,
            change="removed",
            identity_id=None,
            value=identity.value,
        )
        identity.delete()
