"""Writes for customers: create, update, consent, scores, merge."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from cea.accounts.models import User
from cea.accounts.types import Actor
from cea.common.channels import Channel
from cea.common.errors import Conflict, NotFound, ValidationFailed
from records.access import default_team_of, require_supervisor, require_team_kept
from records.audit.context import audited
from records.cases.models import Case
from records.customers.models import Consent, ConsentPurpose, Customer, CustomerStatus, ValueTier
from records.identities.models import Identity, IdentityKind
from records.identities.normalise import normalise_email, normalise_phone
from records.identities.services import identity_add
from records.interactions.models import Interaction
from records.journey.models import JourneyEvent
from records.journey.services import journey_record

# Fields a person may edit on a profile; everything else is set by a dedicated service.
EDITABLE_FIELDS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "city",
    "postcode",
    "country",
    "language",
    "preferred_channel",
    "preferences",
    "segment",
    "persona",
    "value_tier",
    "custom_attributes",
    "team",
)
# A BCP 47 language tag as the API takes it: a lower-case language and optional subtags (en, pt-BR).
LANGUAGE_TAG = r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*"
LANGUAGE_TAG_MESSAGE = "Use a BCP 47 language tag such as en, fr or pt-BR."
_LANGUAGE = re.compile(rf"^{LANGUAGE_TAG}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
# Computed once: an enum's ``values`` is rebuilt on every access, and bulk loads clean millions of rows.
_VALUE_TIERS = frozenset(ValueTier.values)
_CHANNELS = frozenset(Channel.values)


def search_name_of(*, given_name: str, family_name: str) -> str:
    return " ".join(part for part in (given_name.strip(), family_name.strip()) if part).lower()


def customer_check(*, actor: Actor, fields: Mapping[str, Any], customer: Customer | None = None) -> dict[str, Any]:
    """Check, before any write, that ``fields`` may be set on ``customer`` (or a new customer).

    Returns the normalised fields. Raises one ``ValidationFailed`` listing every bad field,
    ``PermissionDenied`` for a team the actor is not in or for no team unless the actor is an
    admin, an integration client or the system (``require_team_kept``), ``Conflict`` for a
    contact email or phone that identifies another customer. Forms call it to show errors; the
    services call it first.
    """
    cleaned = _clean(fields)
    if "team" in cleaned:
        require_team_kept(actor, cleaned["team"])
    for kind, name in ((IdentityKind.EMAIL, "email"), (IdentityKind.PHONE, "phone")):
        value = cleaned.get(name)
        if not value:
            continue
        owner = Identity.objects.filter(kind=kind, value=value).values_list("customer_id", flat=True).first()
        if owner is not None and (customer is None or owner != customer.pk):
            raise Conflict(
                # Never the other customer's id: the actor may not be allowed to see that customer.
                f"This {name} already identifies another customer.",
                fields={name: "Already in use by another customer."},
                code="identity_taken",
            )
    return cleaned


def customer_fields_clean(*, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Validate and normalise profile fields without touching the database (bulk loads check
    identities themselves, for a whole batch at once); raises one ``ValidationFailed``."""
    return _clean(fields)


def _clean(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Validate and normalise profile fields; raise one ``ValidationFailed`` listing every bad field."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(f"Unknown customer fields: {', '.join(sorted(unknown))}.")
    cleaned = dict(fields)
    errors: dict[str, str] = {}
    for name in (
        "given_name",
        "family_name",
        "address_line1",
        "address_line2",
        "city",
        "postcode",
        "segment",
        "persona",
    ):
        if name in cleaned:
            cleaned[name] = (cleaned[name] or "").strip()
    if cleaned.get("email"):
        try:
            cleaned["email"] = normalise_email(cleaned["email"])
        except ValidationFailed as exc:
            errors["email"] = exc.message
    if cleaned.get("phone"):
        try:
            cleaned["phone"] = normalise_phone(cleaned["phone"])
        except ValidationFailed as exc:
            errors["phone"] = exc.message
    if "language" in cleaned and not _LANGUAGE.match(cleaned["language"] or ""):
        errors["language"] = LANGUAGE_TAG_MESSAGE
    if cleaned.get("country"):
        cleaned["country"] = cleaned["country"].upper()
        if not _COUNTRY.match(cleaned["country"]):
            errors["country"] = "Use an ISO 3166-1 alpha-2 code such as GB or FR."
    if "value_tier" in cleaned and cleaned["value_tier"] not in _VALUE_TIERS:
        errors["value_tier"] = f"Choose one of {', '.join(ValueTier.values)}."
    if cleaned.get("preferred_channel") and cleaned["preferred_channel"] not in _CHANNELS:
        errors["preferred_channel"] = f"Choose one of {', '.join(Channel.values)}."
    for name in ("preferences", "custom_attributes"):
        if name in cleaned and not isinstance(cleaned[name], dict):
            errors[name] = "Must be an object of key/values."
    if errors:
        raise ValidationFailed("The customer has invalid fields.", fields=errors)
    return cleaned


@transaction.atomic
def customer_create(
    *, actor: Actor, source_system: str = "records", identities: Iterable[Mapping[str, Any]] = (), **fields: Any
) -> Customer:
    """Create a customer; their contact email and phone also become identities.

    ``identities`` are further ``{"kind", "value"}`` identifiers. Without ``team``, an agent's
    or supervisor's customer goes to their only team (``default_team_of``). Nothing is saved if
    any field or identifier is refused.
    """
    if "team" not in fields:
        fields["team"] = default_team_of(actor)
    cleaned = customer_check(actor=actor, fields=fields)
    if not (cleaned.get("given_name") or cleaned.get("family_name")):
        raise ValidationFailed("A customer needs a name.", fields={"family_name": "Give a given or family name."})
    with audited(actor):
        customer = Customer(**cleaned)
        customer.search_name = search_name_of(given_name=customer.given_name, family_name=customer.family_name)
        customer.created_by = actor if isinstance(actor, User) and actor.pk else None
        customer.save()
        journey_record(
            customer=customer,
            kind="customer.created",
            summary=f"Customer {customer.full_name} created",
            source_system=source_system,
        )
        wanted = list(identities)
        if customer.email:
            wanted.append({"kind": IdentityKind.EMAIL, "value": customer.email, "is_primary": True})
        if customer.phone:
            wanted.append({"kind": IdentityKind.PHONE, "value": customer.phone, "is_primary": True})
        for identity in wanted:
            identity_add(actor=actor, customer=customer, source_system=source_system, **identity)
    return customer


@transaction.atomic
def customer_update(*, actor: Actor, customer: Customer, source_system: str = "records", **fields: Any) -> Customer:
    """Change profile fields; a journey event lists what changed. Tombstones cannot change."""
    if customer.status == CustomerStatus.MERGED:
        raise Conflict(f"Customer {customer.pk} was merged into {customer.merged_into_id}; edit that one.")
    cleaned = customer_check(actor=actor, fields=fields, customer=customer)
    changed = [name for name, value in cleaned.items() if getattr(customer, name) != value]
    if not changed:
        return customer
    with audited(actor):
        for name in changed:
            setattr(customer, name, cleaned[name])
        if not (customer.given_name or customer.family_name):
            raise ValidationFailed("A customer needs a name.", fields={"family_name": "Give a given or family name."})
        customer.search_name = search_name_of(given_name=customer.given_name, family_name=customer.family_name)
        customer.save()
        for kind, field in ((IdentityKind.EMAIL, "email"), (IdentityKind.PHONE, "phone")):
            if field in changed and getattr(customer, field):
                identity_add(actor=actor, customer=customer, kind=kind, value=getattr(customer, field))
        journey_record(
            customer=customer,
            kind="customer.updated",
            summary=f"Profile updated: {', '.join(changed)}",
            source_system=source_system,
            payload={"fields": changed},
        )
    return customer


@transaction.atomic
def customer_set_consent(
    *,
    actor: Actor,
    customer: Customer,
    channel: str,
    purpose: str,
    granted: bool,
    given_at: datetime | None = None,
    source: str = "",
) -> Consent:
    errors = {}
    if channel not in Channel.values:
        errors["channel"] = f"Choose one of {', '.join(Channel.values)}."
    if purpose not in ConsentPurpose.values:
        errors["purpose"] = f"Choose one of {', '.join(ConsentPurpose.values)}."
    given_at = given_at or timezone.now()
    if given_at > timezone.now() + timedelta(minutes=5):
        errors["given_at"] = "Consent cannot be given in the future."
    if errors:
        raise ValidationFailed("The consent has invalid fields.", fields=errors)
    with audited(actor):
        consent, _ = Consent.objects.update_or_create(
            customer=customer,
            channel=channel,
            purpose=purpose,
            defaults={"granted": granted, "given_at": given_at, "source": source},
        )
        journey_record(
            customer=customer,
            kind="consent.changed",
            channel=channel,
            summary=f"Consent for {purpose} on {channel} {'granted' if granted else 'withdrawn'}",
            payload={"channel": channel, "purpose": purpose, "granted": granted},
        )
    return consent


@transaction.atomic
def customer_set_scores(
    *, actor: Actor, customer: Customer, scores: Mapping[str, Any], source_system: str = "insights"
) -> Customer:
    """Merge ``scores`` (churn risk, sentiment trend …) into the customer's scores."""
    if not isinstance(scores, Mapping) or not scores:
        raise ValidationFailed("Scores are a non-empty object.", fields={"scores": "Invalid."})
    with audited(actor):
        customer.scores = {**customer.scores, **scores}
        customer.scores_updated_at = timezone.now()
        customer.save(update_fields=["scores", "scores_updated_at", "updated_at"])
        journey_record(
            customer=customer,
            kind="customer.scored",
            summary=f"Scores updated: {', '.join(sorted(scores))}",
            source_system=source_system,
            payload={"scores": dict(scores)},
        )
    return customer


@transaction.atomic
def customer_merge(*, actor: Actor, survivor_id: int, merged_id: int) -> Customer:
    """Merge customer ``merged_id`` into ``survivor_id``; return the survivor.

    Moves identities, consents (the survivor's own win), cases, interactions and journey
    events; fills the survivor's blank profile fields from the merged customer; leaves
    the merged customer as a tombstone pointing to the survivor (earlier tombstones of the
    merged customer are re-pointed too). Locks both rows, in id order, for the duration.
    Needs a supervisor, an administrator or an integration client.
    """
    require_supervisor(actor, "merge customers")
    if survivor_id == merged_id:
        raise ValidationFailed("A customer cannot be merged into itself.", fields={"merged_id": "Same as survivor."})
    locked = {
        c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=[survivor_id, merged_id]).order_by("pk")
    }
    survivor, merged = locked.get(survivor_id), locked.get(merged_id)
    if survivor is None or merged is None:
        raise NotFound(f"No customer with id {merged_id if survivor else survivor_id}.")
    for customer in (survivor, merged):
        if customer.status == CustomerStatus.MERGED:
            raise Conflict(f"Customer {customer.pk} is already merged into {customer.merged_into_id}.")

    now = timezone.now()
    with audited(actor, merge={"survivor": survivor.pk, "merged": merged.pk}):
        moved = {
            "identities": Identity.objects.filter(customer=merged).update(customer=survivor, is_primary=False),
            "cases": Case.objects.filter(customer=merged).update(customer=survivor),
            "interactions": Interaction.objects.filter(customer=merged).update(customer=survivor),
            "journey_events": JourneyEvent.objects.filter(customer=merged).update(customer=survivor),
        }
        own = set(survivor.consents.values_list("channel", "purpose"))
        taken = [c.pk for c in merged.consents.all() if (c.channel, c.purpose) not in own]
        moved["consents"] = Consent.objects.filter(pk__in=taken).update(customer=survivor)
        merged.consents.exclude(pk__in=taken).delete()

        filled = []
        for name in EDITABLE_FIELDS:
            if name in ("preferences", "custom_attributes"):
                combined = {**getattr(merged, name), **getattr(survivor, name)}
                if combined != getattr(survivor, name):
                    setattr(survivor, name, combined)
                    filled.append(name)
            elif getattr(survivor, name) in ("", None) and getattr(merged, name) not in ("", None):
                setattr(survivor, name, getattr(merged, name))
                filled.append(name)
        survivor.search_name = search_name_of(given_name=survivor.given_name, family_name=survivor.family_name)
        survivor.save()

        Customer.objects.filter(merged_into=merged).update(merged_into=survivor)
        merged.status = CustomerStatus.MERGED
        merged.merged_into = survivor
        merged.merged_at = now
        merged.save(update_fields=["status", "merged_into", "merged_at", "updated_at"])

        journey_record(
            customer=survivor,
            kind="customer.merged",
            summary=f"Customer {merged.full_name} (id {merged.pk}) merged into this one",
            payload={"merged_id": merged.pk, "moved": moved, "filled_fields": filled},
        )
    return survivor
