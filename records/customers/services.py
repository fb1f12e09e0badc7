"""Writes for customers: create, update, consent, scores, persona, merge."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from cea.accounts.models import User
from cea.accounts.types import Actor
from cea.common.channels import Channel
from cea.common.errors import Conflict, NotFound, ValidationFailed
from cea.common.redact import redact_cards, redact_cards_value
from records.access import default_team_of, require_supervisor, require_team_kept
from records.audit.context import audited
from records.cases.models import Case
from records.customers.models import Consent, ConsentPurpose, Customer, CustomerStatus
from records.customers.profile import EDITABLE_FIELDS, NAME_FIELDS, PROFILE, Check, fields_checked_as
from records.identities.models import Identity, IdentityKind
from records.identities.normalise import normalise_email, normalise_phone
from records.identities.services import identity_add
from records.interactions.models import Interaction
from records.journey.models import JourneyEvent
from records.journey.services import journey_record

# A BCP 47 language tag as the API takes it: a lower-case language and optional subtags (en, pt-BR).
LANGUAGE_TAG = r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*"
LANGUAGE_TAG_MESSAGE = "Use a BCP 47 language tag such as en, fr or pt-BR."
_LANGUAGE = re.compile(rf"^{LANGUAGE_TAG}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


# --- How each profile field is checked: a rule returns the value to save or raises ValidationFailed
# with the message for that field (``_clean`` gathers them into one error).


def _as_given(value: Any) -> Any:
    return value


def _trimmed(value: str | None) -> str:
    # A profile is the record of the customer's name and address, kept as given; only card data,
    # never stored in clear, is masked (cea.common.redact).
    return redact_cards((value or "").strip())


def _email(value: str | None) -> str | None:
    return normalise_email(value) if value else value


def _phone(value: str | None) -> str | None:
    return normalise_phone(value) if value else value


def _country(value: str | None) -> str | None:
    if not value:
        return value
    value = value.upper()
    if not _COUNTRY.match(value):
        raise ValidationFailed("Use an ISO 3166-1 alpha-2 code such as GB or FR.")
    return value


def _language(value: str | None) -> str | None:
    if not _LANGUAGE.match(value or ""):
        raise ValidationFailed(LANGUAGE_TAG_MESSAGE)
    return value


def _key_values(value: Any) -> Any:
    if not isinstance(value, dict):
        raise ValidationFailed("Must be an object of key/values.")
    return redact_cards_value(value)  # preferences, custom attributes: card data masked (cea.common.redact)


def _one_of_choices(name: str) -> Callable[[Any], Any]:
    """The rule of a field with choices: one of them, or blank where the model allows a blank."""
    model_field = cast("models.Field[Any, Any]", Customer._meta.get_field(name))  # a concrete column, never a relation
    values = [value for value, _ in model_field.choices or ()]
    # A set made once: bulk loads clean millions of rows.
    allowed = frozenset(values)
    message = f"Choose one of {', '.join(values)}."

    def rule(value: Any) -> Any:
        if (value or not model_field.blank) and value not in allowed:
            raise ValidationFailed(message)
        return value

    return rule


_RULES: dict[Check, Callable[[Any], Any]] = {
    Check.TEXT: _trimmed,
    Check.DATE: _as_given,
    Check.EMAIL: _email,
    Check.PHONE: _phone,
    Check.COUNTRY: _country,
    Check.LANGUAGE: _language,
    Check.KEY_VALUES: _key_values,
    Check.TEAM: _as_given,  # whether the actor may keep it is ``customer_check``'s (it needs the actor)
}
# A merge combines these two customers' keys (the survivor's win) instead of filling a blank.
_KEY_VALUE_FIELDS = fields_checked_as(Check.KEY_VALUES)
_RULE_OF: dict[str, Callable[[Any], Any]] = {
    field.name: _one_of_choices(field.name) if field.check == Check.CHOICE else _RULES[field.check] for field in PROFILE
}


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
    unknown = set(fields) - _RULE_OF.keys()
    if unknown:
        raise ValidationFailed(f"Unknown customer fields: {', '.join(sorted(unknown))}.")
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, value in fields.items():
        try:
            cleaned[name] = _RULE_OF[name](value)
        except ValidationFailed as exc:
            errors[name] = exc.message
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
    if not any(cleaned.get(name) for name in NAME_FIELDS):
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
        if not any(getattr(customer, name) for name in NAME_FIELDS):
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


PERSONA_KEY_LENGTH = Customer._meta.get_field("persona").max_length or 50


@dataclass(frozen=True)
class PersonaPlacement:
    """Where insights places one customer: a persona's key ("" for none) and why, in words."""

    customer_id: int
    persona: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class PersonaChange:
    customer_id: int
    previous: str
    persona: str


def _placements_problems(placements: Sequence[PersonaPlacement]) -> dict[str, str]:
    seen: set[int] = set()
    for placement in placements:
        if placement.customer_id in seen:
            return {"placements": f"Customer {placement.customer_id} is placed twice."}
        seen.add(placement.customer_id)
        if len(placement.persona) > PERSONA_KEY_LENGTH:
            return {"persona": f"A persona key has at most {PERSONA_KEY_LENGTH} characters: {placement.persona!r}."}
        if not all(isinstance(reason, str) and reason.strip() for reason in placement.reasons):
            return {"reasons": f"The reasons for customer {placement.customer_id} must be non-blank words."}
    return {}


# Only the rows whose persona or reasons differ are written (an UPDATE … FROM unnest, one statement):
# their audit events come from the row trigger, under the caller's audit context; the persona each
# had before comes from the locked rows the CTE reads.
_SET_PERSONAS_SQL = """
WITH placed AS (
    SELECT * FROM unnest(%(ids)s::bigint[], %(personas)s::text[], %(reasons)s::text[])
        AS p(customer_id, persona, reasons)
),
previous AS (
    SELECT c.id, c.persona FROM records_customer c JOIN placed ON placed.customer_id = c.id
    WHERE c.status = 'active'
      AND (c.persona IS DISTINCT FROM placed.persona OR c.persona_reasons IS DISTINCT FROM placed.reasons::jsonb)
    ORDER BY c.id
    FOR UPDATE OF c
)
UPDATE records_customer c
SET persona = placed.persona, persona_reasons = placed.reasons::jsonb, persona_assigned_at = %(now)s,
    updated_at = %(now)s
FROM placed, previous
WHERE c.id = placed.customer_id AND previous.id = c.id
RETURNING c.id, previous.persona, c.persona
"""


@transaction.atomic
def customers_set_personas(
    *, actor: Actor, placements: Sequence[PersonaPlacement], source_system: str = "insights"
) -> list[PersonaChange]:
    """Write each active customer's persona and its reasons, set-based; return the customers whose
    persona changed (from ``previous`` to ``persona``), in id order.

    Only rows whose persona or reasons differ are updated (and audited, under ``actor``); a row
    whose persona changed gets a ``persona.assigned`` journey event. Merged customers and unknown
    ids are skipped. ``ValidationFailed`` (nothing written) if a customer is placed twice, a key is
    too long or a reason blank. Takes the changed rows' locks (``FOR UPDATE``) in id order.
    """
    problems = _placements_problems(placements)
    if problems:
        raise ValidationFailed("The persona placements are invalid.", fields=problems)
    if not placements:
        return []
    now = timezone.now()
    params: dict[str, Any] = {
        "ids": [placement.customer_id for placement in placements],
        "personas": [placement.persona for placement in placements],
        "reasons": [json.dumps(list(placement.reasons)) for placement in placements],
        "now": now,
    }
    with audited(actor), connection.cursor() as cursor:
        cursor.execute(_SET_PERSONAS_SQL, params)
        rows = cursor.fetchall()
    changes = sorted(
        (PersonaChange(customer_id=row[0], previous=row[1], persona=row[2]) for row in rows if row[1] != row[2]),
        key=lambda change: change.customer_id,
    )
    reasons = {placement.customer_id: list(placement.reasons) for placement in placements}
    JourneyEvent.objects.bulk_create(
        [
            JourneyEvent(
                customer_id=change.customer_id,
                kind="persona.assigned",
                summary=(
                    f"Persona {change.persona}" + (f" (was {change.previous})" if change.previous else "")
                    if change.persona
                    else f"Persona {change.previous} no longer fits: no persona's rules match"
                )[:300],
                source_system=source_system,
                payload={
                    "persona": change.persona,
                    "previous": change.previous,
                    "reasons": reasons[change.customer_id],
                },
                occurred_at=now,
            )
            for change in changes
        ],
        batch_size=1000,
    )
    return changes


def customer_set_persona(
    *, actor: Actor, customer: Customer, persona: str, reasons: Sequence[str], source_system: str = "insights"
) -> Customer:
    """One customer's persona and reasons (``customers_set_personas`` for one); returns it re-read."""
    customers_set_personas(
        actor=actor,
        placements=[PersonaPlacement(customer_id=customer.pk, persona=persona, reasons=tuple(reasons))],
        source_system=source_system,
    )
    customer.refresh_from_db(fields=["persona", "persona_reasons", "persona_assigned_at", "updated_at"])
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
            if name in _KEY_VALUE_FIELDS:
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


# A bulk rescoring writes this many customers per statement.
SCORES_BATCH = 2000


def _score_moved(old: Any, new: Any, material_change: float) -> bool:
    """Whether a score moved materially: both numbers, and their values rounded to 0.1 differ by at
    least ``material_change``. A first score (no old value) is not a move: scoring every customer the
    first time must not write a journey event for each."""
    numbers = (int, float)
    if not isinstance(old, numbers) or not isinstance(new, numbers) or isinstance(old, bool):
        return False
    return abs(round(float(new), 1) - round(float(old), 1)) >= material_change - 1e-9


def customers_set_scores_bulk(
    *,
    actor: Actor,
    scores: Mapping[int, Mapping[str, Any]],
    journey_keys: Iterable[str] = (),
    material_change: float = 0.2,
    source_system: str = "insights",
) -> tuple[int, int]:
    """Merge each customer's ``scores`` (customer id → keys and values) into their scores, set-wise.

    Active customers only (others, and unknown ids, are skipped); rows whose scores would not
    change are not written. A customer gets one ``customer.scored`` journey event only when one of
    ``journey_keys`` moved materially (``_score_moved``), never one per rescoring. Locks the
    customers' rows of each batch (``SELECT … FOR UPDATE``) for the read-modify-write. Returns
    (customers updated, journey events written).
    """
    if not isinstance(scores, Mapping) or any(not isinstance(value, Mapping) or not value for value in scores.values()):
        raise ValidationFailed("Scores are an object of non-empty objects per customer.", fields={"scores": "Invalid."})
    if not 0 < material_change <= 1:
        raise ValidationFailed("A material change is above 0 and at most 1.", fields={"material_change": "Invalid."})
    watched = tuple(journey_keys)
    updated = events = 0
    ids = sorted(scores)
    with audited(actor):
        for start in range(0, len(ids), SCORES_BATCH):
            batch_updated, batch_events = _scores_batch_write(
                batch={pk: scores[pk] for pk in ids[start : start + SCORES_BATCH]},
                watched=watched,
                material_change=material_change,
                source_system=source_system,
            )
            updated += batch_updated
            events += batch_events
    return updated, events


@transaction.atomic
def _scores_batch_write(
    *, batch: Mapping[int, Mapping[str, Any]], watched: tuple[str, ...], material_change: float, source_system: str
) -> tuple[int, int]:
    current = dict(
        Customer.objects.select_for_update()
        .filter(pk__in=list(batch), status=CustomerStatus.ACTIVE)
        .order_by("pk")
        .values_list("pk", "scores")
    )
    merged = {pk: {**old, **batch[pk]} for pk, old in current.items() if {**old, **batch[pk]} != old}
    if not merged:
        return 0, 0
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE records_customer c SET scores = v.scores, scores_updated_at = %s, updated_at = %s"
            " FROM unnest(%s::bigint[], %s::jsonb[]) AS v(id, scores) WHERE c.id = v.id",
            [now, now, list(merged), [json.dumps(value, cls=DjangoJSONEncoder) for value in merged.values()]],
        )
    journey = []
    for pk, new in merged.items():
        moved = [key for key in watched if _score_moved(current[pk].get(key), new.get(key), material_change)]
        if moved:
            journey.append(
                JourneyEvent(
                    customer_id=pk,
                    kind="customer.scored",
                    summary="Scores moved: "
                    + ", ".join(f"{key} {round(current[pk][key], 2)} → {round(new[key], 2)}" for key in moved),
                    source_system=source_system,
                    payload={"scores": {key: new[key] for key in moved}},
                    occurred_at=now,
                )
            )
    JourneyEvent.objects.bulk_create(journey)
    return len(merged), len(journey)


@transaction.atomic
def customers_set_journey_stages(
    *, actor: Actor, stages: Iterable[tuple[int, str, datetime]], source_system: str = "insights"
) -> int:
    """Set each ``(customer id, stage key, since)``'s journey stage, set-based; return how many changed.

    Only customers whose stage or its start differs are written (one ``UPDATE … FROM unnest``) and
    get a ``stage.entered`` journey event (one ``INSERT … SELECT``): a customer who left a stage and
    entered it again has a new ``since``, which the stage triggers key on. Unknown ids are skipped.
    Stage rules never match ``stage.*`` events, so these events cannot move a customer again.
    """
    rows = list(stages)
    for _, stage, _ in rows:
        if not stage or len(stage) > 30:
            raise ValidationFailed("A journey stage is a key of 1 to 30 characters.", fields={"stage": "Invalid."})
    if not rows:
        return 0
    ids, keys, since = ([row[0] for row in rows], [row[1] for row in rows], [row[2] for row in rows])
    with audited(actor), connection.cursor() as cursor:
        cursor.execute(
            "WITH wanted AS (SELECT * FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[]) AS w(id, stage, since)),"
            " changed AS ("
            "  UPDATE records_customer c SET journey_stage = w.stage, journey_stage_since = w.since, updated_at = now()"
            "  FROM wanted w WHERE c.id = w.id"
            "   AND (c.journey_stage, c.journey_stage_since) IS DISTINCT FROM (w.stage, w.since)"
            "  RETURNING c.id, c.journey_stage, c.journey_stage_since)"
            " INSERT INTO records_journeyevent (customer_id, occurred_at, recorded_at, source_system, channel, kind,"
            "  summary, payload)"
            " SELECT id, journey_stage_since, now(), %s, '', 'stage.entered',"
            "  'Entered the journey stage ' || journey_stage,"
            "  jsonb_build_object('stage', journey_stage) FROM changed",
            [ids, keys, since, source_system],
        )
        return int(cursor.rowcount)


def customer_set_journey_stage(*, actor: Actor, customer: Customer, stage: str, since: datetime) -> bool:
    """Set one customer's journey stage (``customers_set_journey_stages`` for one); True if it changed."""
    changed = customers_set_journey_stages(actor=actor, stages=[(customer.pk, stage, since)]) == 1
    customer.refresh_from_db(fields=["journey_stage", "journey_stage_since", "updated_at"])
    return changed


@transaction.atomic
def customers_clear_journey_stages(*, actor: Actor, customer_ids: Iterable[int]) -> int:
    """Clear the journey stage of ``customer_ids`` (no rule places them any more); return how many had one."""
    ids = sorted(set(customer_ids))
    if not ids:
        return 0
    with audited(actor):
        return (
            Customer.objects.filter(pk__in=ids)
            .exclude(journey_stage="")
            .update(journey_stage="", journey_stage_since=None, updated_at=timezone.now())
        )
