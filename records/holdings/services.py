"""Loading what legacy systems say into records: customers found again by their source record, and holdings.

Two paths, with the same outcome per source record (``created``, ``updated``, ``unchanged``):

- ``source_customer_upsert`` and ``holding_upsert``: one record at a time through the customer
  and identity services, so every change writes its journey events and audit rows as any other
  edit does. Used for changed records, replays and small sources.
- ``source_customers_load``: a batch of source records at once, for nightly extracts of a
  million lines. Unchanged records (same checksum as last loaded) cost one indexed read per
  batch; records already known but changed go through the one-at-a-time path; *new* customers
  are inserted set-wise (source records first, ``ON CONFLICT DO NOTHING``, so two loaders never
  make the same customer twice; then customers, identities and one ``customer.created`` journey
  event each, listing the identifiers it was given). The ``identity.added`` events the
  one-at-a-time path would also write are left out there: at a million customers they would
  triple the journey table for no story a person reads. Audit rows are still written for every
  customer and identity by the database's pghistory triggers, under the context
  ``audited(actor, job="sync:<system>")``. Holdings are upserted with one
  ``INSERT … ON CONFLICT DO UPDATE … WHERE checksum differs`` per batch.

Holdings are a copy of what a source says (balances move every night): their changes are not
journey events; ``updated_at`` and ``as_of`` say when they last changed.

An identifier (email, phone, account number) that already identifies another customer is not
attached: the record is still loaded and the skipped identifier is reported to the caller.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from cea.accounts.models import User
from cea.accounts.types import Actor
from cea.common.copy import copy_in
from cea.common.errors import ApplicationError, ValidationFailed
from cea.common.locks import transaction_lock
from cea.common.redact import redact_cards, redact_cards_value
from records.audit.bulk import audited_copy
from records.audit.context import audited
from records.customers.models import Customer, CustomerStatus
from records.customers.profile import EDITABLE_FIELDS, NAME_FIELDS
from records.customers.services import customer_create, customer_fields_clean, customer_update, search_name_of
from records.holdings.models import Holding, HoldingKind, SourceRecord
from records.identities.models import Identity, IdentityKind
from records.identities.normalise import normalise
from records.identities.services import identity_add
from records.journey.models import JourneyEvent

CREATED, UPDATED, UNCHANGED, FAILED = "created", "updated", "unchanged", "failed"
# Canonical holding fields a source may set (besides kind and external_id).
HOLDING_VALUE_FIELDS = ("name", "status", "amount", "currency", "as_of", "data")
# Canonical customer fields that are identifiers (besides the profile's email and phone).
_IDENTIFIER_KINDS = {"email": IdentityKind.EMAIL, "phone": IdentityKind.PHONE, "account_number": IdentityKind.ACCOUNT}
# A new source record whose account number (else email) identifies a customer is linked to them.
LINK_ON = ("account_number", "email")
_PROFILE_FIELDS = tuple(name for name in EDITABLE_FIELDS if name != "team")
_HOLDING_KINDS = frozenset(HoldingKind.values)


class CustomerUpsert(tuple[Customer, str]):
    """``(customer, outcome)``, with ``skipped``: identifiers not attached because another customer has them."""

    skipped: list[str]

    def __new__(cls, customer: Customer, outcome: str, skipped: Sequence[str] = ()) -> CustomerUpsert:
        upsert = super().__new__(cls, (customer, outcome))
        upsert.skipped = list(skipped)
        return upsert

    @property
    def customer(self) -> Customer:
        return self[0]

    @property
    def outcome(self) -> str:
        return self[1]


def fields_checksum(*, fields: Mapping[str, Any]) -> str:
    """A stable digest of canonical fields (keys sorted; dates, decimals and the like as text)."""
    encoded = json.dumps(fields, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()


# --- One record at a time --------------------------------------------------------------------


def _profile_and_identifiers(fields: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, tuple[str, str]]]:
    """The profile fields a source gave (blanks dropped: an empty field in an extract does not
    erase what the CEA knows), cleaned; and the identifiers ``{canonical name: (value, label)}``."""
    given = {name: value for name, value in fields.items() if value not in (None, "")}
    profile = {name: given[name] for name in _PROFILE_FIELDS if name in given}
    if isinstance(profile.get("date_of_birth"), str):
        profile["date_of_birth"] = _date(profile["date_of_birth"], "date_of_birth")
    profile = customer_fields_clean(fields=profile)
    identifiers: dict[str, tuple[str, str]] = {}
    # The profile's email and phone are normalised already (and stored as their own label).
    for name in ("email", "phone"):
        if profile.get(name):
            identifiers[name] = (profile[name], profile[name])
    if given.get("account_number"):
        identifiers["account_number"] = normalise(IdentityKind.ACCOUNT, str(given["account_number"]))
    return profile, identifiers


def _owners(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """``{(kind, value): customer id}`` for identifiers that already identify a customer."""
    pairs = list(pairs)
    if not pairs:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.kind, i.value, i.customer_id FROM records_identity i"
            " JOIN unnest(%s::text[], %s::text[]) AS w(kind, value) ON i.kind = w.kind AND i.value = w.value",
            [[kind for kind, _ in pairs], [value for _, value in pairs]],
        )
        return {(kind, value): owner for kind, value, owner in cursor.fetchall()}


def _lock_source_record(system: str, external_id: str) -> None:
    # Serialises loaders of the same source record until the transaction ends (the source record
    # may not exist yet, so there is no row to lock).
    transaction_lock(f"source:{system}:{external_id}")


@transaction.atomic
def source_customer_upsert(
    *, system: str, external_id: str, fields: Mapping[str, Any], source_checksum: str = "", actor: Actor = None
) -> CustomerUpsert:
    """Create or update the customer whose record in ``system`` is ``external_id``.

    ``fields`` are canonical customer fields (``integration.connectors.base.CUSTOMER_FIELDS``);
    ``source_checksum`` (default: a digest of ``fields``) equal to the one last loaded means
    ``unchanged`` and nothing is written. A customer merged since is followed to the survivor. A
    record seen for the first time whose account number or email already identifies a customer is
    linked to that customer (``updated``) instead of making a second one.
    Raises ``ValidationFailed`` for fields records refuse (no name, a malformed email …).
    """
    if not external_id:
        raise ValidationFailed("A source record needs its id in the source.", fields={"external_id": "Required."})
    checksum = source_checksum or fields_checksum(fields=fields)
    _lock_source_record(system, external_id)
    record = (
        SourceRecord.objects.select_for_update()
        .select_related("customer")
        .filter(system=system, external_id=external_id)
        .first()
    )
    if record is not None and record.checksum == checksum:
        return CustomerUpsert(record.customer, UNCHANGED)
    profile, identifiers = _profile_and_identifiers(fields)
    customer = record.customer if record else None
    while customer is not None and customer.status == CustomerStatus.MERGED:
        customer = Customer.objects.get(pk=customer.merged_into_id)
    owners = _owners((_IDENTIFIER_KINDS[name], value) for name, (value, _) in identifiers.items())
    if customer is None:
        customer = _customer_to_link(identifiers, owners)
    skipped: list[str] = []
    for name, (value, _) in list(identifiers.items()):
        owner = owners.get((_IDENTIFIER_KINDS[name], value))
        if owner is not None and (customer is None or owner != customer.pk):
            skipped.append(f"{name} {value} identifies customer {owner}")
            del identifiers[name]
            profile.pop(name, None)
    now = timezone.now()
    with audited(actor, job=f"sync:{system}"):
        if customer is None:
            account = identifiers.get("account_number")
            customer = customer_create(
                actor=actor,
                source_system=system,
                identities=[{"kind": IdentityKind.ACCOUNT, "value": account[0]}] if account else (),
                **profile,
            )
            SourceRecord.objects.create(
                customer=customer, system=system, external_id=external_id, checksum=checksum, seen_at=now
            )
            return CustomerUpsert(customer, CREATED, skipped)
        before = customer.updated_at
        customer = customer_update(actor=actor, customer=customer, source_system=system, **profile)
        changed = customer.updated_at != before
        account = identifiers.get("account_number", ("", ""))[0]
        if account and not customer.identities.filter(kind=IdentityKind.ACCOUNT, value=account).exists():
            identity_add(
                actor=actor,
                customer=customer,
                kind=IdentityKind.ACCOUNT,
                value=account,
                source_system=system,
            )
            changed = True
        if record is None:  # a customer the CEA already knew, now linked to their source record
            SourceRecord.objects.create(
                customer=customer, system=system, external_id=external_id, checksum=checksum, seen_at=now
            )
            return CustomerUpsert(customer, UPDATED, skipped)
        record.customer, record.checksum, record.seen_at = customer, checksum, now
        record.save(update_fields=["customer", "checksum", "seen_at", "updated_at"])
    return CustomerUpsert(customer, UPDATED if changed else UNCHANGED, skipped)


def _customer_to_link(
    identifiers: Mapping[str, tuple[str, str]], owners: Mapping[tuple[str, str], int]
) -> Customer | None:
    """The customer a new source record is about, if the CEA knows them already: the owner of its
    account number, else of its email (a phone number is shared too often to link on)."""
    for name in LINK_ON:
        if name in identifiers and (owner := owners.get((_IDENTIFIER_KINDS[name], identifiers[name][0]))):
            customer = Customer.objects.get(pk=owner)
            while customer.status == CustomerStatus.MERGED:
                customer = Customer.objects.get(pk=customer.merged_into_id)
            return customer
    return None


def _date(value: Any, name: str) -> date | None:
    if value in (None, "") or isinstance(value, date):
        return value or None
    parsed = parse_date(str(value))
    if parsed is None:
        raise ValidationFailed(f"{name} {value!r} is not a date.", fields={name: "Not a date (YYYY-MM-DD)."})
    return parsed


# --- How each holding field is checked: a rule returns the value to save or raises ValidationFailed
# with the message for that field (``holding_clean`` gathers them into one error).

_AMOUNT_LIMIT = Decimal("1e14")  # numeric(16, 2)


def _text_up_to(length: int) -> Callable[[Any], str]:
    def rule(value: Any) -> str:
        return redact_cards(str(value or ""))[:length]  # "Visa 4111 …": card data masked (cea.common.redact)

    return rule


def _currency(value: Any) -> str:
    code = str(value or "").upper()
    if code and len(code) != 3:
        raise ValidationFailed("An ISO 4217 code such as GBP.")
    return code


def _key_values(value: Any) -> Any:
    data = redact_cards_value(value or {})  # a card holding's number is never kept in clear (cea.common.redact)
    if not isinstance(data, dict):
        raise ValidationFailed("Must be an object of key/values.")
    return data


def _amount(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
        if abs(amount) >= _AMOUNT_LIMIT:
            raise InvalidOperation
    except InvalidOperation:
        raise ValidationFailed(f"{value!r} is not an amount.") from None
    return amount


def _moment(value: Any) -> datetime | None:
    """A time as given; a day is its midnight, in the current time zone."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.get_current_timezone())
    if value in (None, ""):
        return None
    parsed = parse_datetime(str(value))
    if parsed is None and (day := parse_date(str(value))) is not None:
        parsed = datetime(day.year, day.month, day.day)
    if parsed is None:
        raise ValidationFailed(f"{value!r} is not a date or time.")
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


_HOLDING_RULES: dict[str, Callable[[Any], Any]] = {
    "name": _text_up_to(200),
    "status": _text_up_to(40),
    "currency": _currency,
    "data": _key_values,
    "amount": _amount,
    "as_of": _moment,
}


def holding_clean(*, kind: str, external_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """A holding's canonical fields checked and typed; raises one ``ValidationFailed``."""
    errors: dict[str, str] = {}
    if kind not in _HOLDING_KINDS:
        errors["kind"] = f"Choose one of {', '.join(HoldingKind.values)}."
    if not external_id or len(str(external_id)) > 120:
        errors["external_id"] = "Required, at most 120 characters."
    cleaned: dict[str, Any] = {}
    for name, rule in _HOLDING_RULES.items():
        try:
            cleaned[name] = rule(fields.get(name))
        except ValidationFailed as exc:
            errors[name] = exc.message
    if errors:
        raise ValidationFailed("The holding has invalid fields.", fields=errors)
    return cleaned


def _holding_checksum(customer_id: int, cleaned: Mapping[str, Any]) -> str:
    return fields_checksum(fields={"customer": customer_id, **cleaned})


@transaction.atomic
def holding_upsert(
    *, system: str, customer: Customer, kind: str, external_id: str, fields: Mapping[str, Any]
) -> tuple[Holding, str]:
    """Create or update ``customer``'s holding ``(system, kind, external_id)``; ``(holding, outcome)``.

    A holding whose checksum matches the fields given is ``unchanged`` and not written. A holding
    the source now gives to another customer moves to them. Raises ``ValidationFailed``.
    """
    cleaned = holding_clean(kind=kind, external_id=external_id, fields=fields)
    checksum = _holding_checksum(customer.pk, cleaned)
    holding = Holding.objects.select_for_update().filter(system=system, kind=kind, external_id=external_id).first()
    if holding is None:
        holding, created = Holding.objects.get_or_create(
            system=system,
            kind=kind,
            external_id=external_id,
            defaults={"customer": customer, "checksum": checksum, **cleaned},
        )
        if created:
            return holding, CREATED
    if holding.checksum == checksum:
        return holding, UNCHANGED
    for name, value in cleaned.items():
        setattr(holding, name, value)
    holding.customer, holding.checksum = customer, checksum
    holding.save()
    return holding, UPDATED


# --- Batches ---------------------------------------------------------------------------------


@dataclass
class SourceRow:
    """One record of a source in a batch: a customer's canonical fields and their holdings.

    ``holdings`` are canonical holding fields each with ``kind`` and ``external_id``;
    ``checksum`` covers all of it (``fields_checksum`` of both when empty).
    """

    external_id: str
    fields: dict[str, Any]
    holdings: list[dict[str, Any]] = field(default_factory=list)
    checksum: str = ""

    def digest(self) -> str:
        return self.checksum or fields_checksum(fields={"customer": self.fields, "holdings": self.holdings})


@dataclass
class RowOutcome:
    external_id: str
    outcome: str  # created, updated, unchanged or failed
    reason: str = ""
    skipped: list[str] = field(default_factory=list)
    customer_id: int | None = None


def source_row_upsert(*, system: str, row: SourceRow, actor: Actor = None) -> RowOutcome:
    """One source row (customer and holdings) through the one-at-a-time services, atomically."""
    with transaction.atomic():
        upsert = source_customer_upsert(
            system=system, external_id=row.external_id, fields=row.fields, source_checksum=row.digest(), actor=actor
        )
        outcome = upsert.outcome
        for wanted in row.holdings:
            values = {name: wanted.get(name) for name in HOLDING_VALUE_FIELDS}
            _, holding_outcome = holding_upsert(
                system=system,
                customer=upsert.customer,
                kind=wanted.get("kind") or "",
                external_id=str(wanted.get("external_id") or ""),
                fields=values,
            )
            if holding_outcome != UNCHANGED and outcome == UNCHANGED:
                outcome = UPDATED
    return RowOutcome(row.external_id, outcome, skipped=upsert.skipped, customer_id=upsert.customer.pk)


@dataclass
class _NewCustomer:
    row: SourceRow
    checksum: str
    profile: dict[str, Any]
    identifiers: dict[str, tuple[str, str]]  # {canonical name: (value, label)}
    holdings: list[dict[str, Any]]
    outcome: RowOutcome
    customer_id: int = 0


def source_customers_load(*, system: str, rows: Sequence[SourceRow], actor: Actor = None) -> list[RowOutcome]:
    """Load a batch of source rows; one ``RowOutcome`` per row, in order (see the module's docstring).

    A row records refuse is ``failed`` with the reason and the others still load. Runs in one
    transaction (the caller's, if any): all of the batch or none of it.
    """
    outcomes: list[RowOutcome | None] = [None] * len(rows)
    with transaction.atomic(), audited(actor, job=f"sync:{system}"):
        latest: dict[str, int] = {}
        for index, row in enumerate(rows):
            if not row.external_id:
                outcomes[index] = RowOutcome("", FAILED, "The record has no id in the source.")
            elif row.external_id in latest:
                # The same record twice in a batch: the later one wins (as when loaded one at a time).
                outcomes[latest[row.external_id]] = RowOutcome(row.external_id, UNCHANGED, "superseded in batch")
                latest[row.external_id] = index
            else:
                latest[row.external_id] = index
        checksums = {external_id: rows[index].digest() for external_id, index in latest.items()}
        known = dict(
            SourceRecord.objects.filter(system=system, external_id__in=list(latest)).values_list(
                "external_id", "checksum"
            )
        )
        new: list[_NewCustomer] = []
        changed: list[int] = []
        for external_id, index in latest.items():
            if external_id in known:
                if known[external_id] == checksums[external_id]:
                    outcomes[index] = RowOutcome(external_id, UNCHANGED)
                else:
                    changed.append(index)
                continue
            row = rows[index]
            try:
                profile, identifiers = _profile_and_identifiers(row.fields)
                if not any(profile.get(name) for name in NAME_FIELDS):
                    raise ValidationFailed("A customer needs a name.", fields={"family_name": "Give a name."})
                holdings = [
                    {
                        "kind": wanted.get("kind") or "",
                        "external_id": str(wanted.get("external_id") or ""),
                        **holding_clean(
                            kind=wanted.get("kind") or "",
                            external_id=str(wanted.get("external_id") or ""),
                            fields=wanted,
                        ),
                    }
                    for wanted in row.holdings
                ]
            except ValidationFailed as error:
                outcomes[index] = RowOutcome(external_id, FAILED, _reason(error))
                continue
            outcome = RowOutcome(external_id, CREATED)
            outcomes[index] = outcome
            new.append(_NewCustomer(row, checksums[external_id], profile, identifiers, holdings, outcome))
        lost = _insert_new_customers(system, new, actor)
        for index in changed + [latest[item.row.external_id] for item in lost]:
            outcomes[index] = _row_upsert_or_failure(system, rows[index], actor)
    return [outcome for outcome in outcomes if outcome is not None]


def _reason(error: ApplicationError) -> str:
    details = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in error.fields.items())
    return f"{error.message} {details}".strip()


def _row_upsert_or_failure(system: str, row: SourceRow, actor: Actor) -> RowOutcome:
    try:
        with transaction.atomic():
            return source_row_upsert(system=system, row=row, actor=actor)
    except ApplicationError as error:
        return RowOutcome(row.external_id, FAILED, _reason(error))


def _insert_new_customers(system: str, new: list[_NewCustomer], actor: Actor) -> list[_NewCustomer]:
    """Insert ``new`` customers set-wise; return those to upsert one by one instead: customers the
    CEA already knows (by account number or email, to be linked) and those another loader created
    first."""
    if not new:
        return []
    owners = _owners((_IDENTIFIER_KINDS[name], value) for item in new for name, (value, _) in item.identifiers.items())
    known = _known_to_link(new=new, owners=owners)
    new = [item for item in new if item not in known]
    if not new:
        return known
    now = timezone.now()
    for item, customer_id in zip(new, _next_ids(Customer, len(new)), strict=True):
        item.customer_id = customer_id
    won = _source_records_claim(system=system, new=new, now=now)
    lost = known + [item for item in new if item.row.external_id not in won]
    new = [item for item in new if item.row.external_id in won]
    if new:
        created_by = actor.pk if isinstance(actor, User) and actor.pk else None
        _new_customers_write(system=system, new=new, owners=owners, created_by=created_by, now=now)
    return lost


def _new_customers_write(
    *,
    system: str,
    new: Sequence[_NewCustomer],
    owners: Mapping[tuple[str, str], int],
    created_by: int | None,
    now: datetime,
) -> None:
    """Write ``new`` customers whose source records this loader claimed (their ids are set): the
    customers (``created_by``: the loading user's id), their identities (``owners``: who has an
    identifier already), one journey event each, and their holdings, each set-wise."""
    identities = _identity_rows(new=new, owners=owners, now=now)
    customers = [_customer_row(item=item, created_by=created_by, now=now) for item in new]
    events = [_created_event_row(system=system, item=item, now=now) for item in new]
    for item in new:
        item.outcome.customer_id = item.customer_id
    for identity, identity_id in zip(identities, _next_ids(Identity, len(identities)), strict=True):
        identity["id"] = identity_id
    # The audit rows of customers and identities are written set-wise, not by a trigger per row.
    with audited_copy(Customer, [row["id"] for row in customers]):
        copy_rows(model=Customer, rows=customers)
    with audited_copy(Identity, [row["id"] for row in identities]):
        copy_rows(model=Identity, rows=identities)
    copy_rows(model=JourneyEvent, rows=events)
    holdings_load(
        system=system,
        holdings=[(item.customer_id, holding) for item in new for holding in item.holdings],
        now=now,
    )


def _known_to_link(*, new: Sequence[_NewCustomer], owners: Mapping[tuple[str, str], int]) -> list[_NewCustomer]:
    """Those of ``new`` whose account number or email already identifies a customer (``LINK_ON``)."""
    return [
        item
        for item in new
        if any(
            (_IDENTIFIER_KINDS[name], item.identifiers[name][0]) in owners
            for name in LINK_ON
            if name in item.identifiers
        )
    ]


def _source_records_claim(*, system: str, new: Sequence[_NewCustomer], now: datetime) -> set[str]:
    """Insert the source records of ``new`` (with their customer ids, not inserted yet); the
    external ids this loader won: another loader may have made a customer of the same record first.

    The unique ``(system, external_id)`` decides who creates the customer; the foreign key to the
    customer is checked at commit (Django's are deferrable). This statement also sets the audit
    context (pghistory) for the rest of the transaction.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO records_sourcerecord (system, external_id, customer_id, checksum, seen_at, created_at,"
            " updated_at) SELECT %s, e, c, s, %s, %s, %s"
            " FROM unnest(%s::text[], %s::bigint[], %s::text[]) AS t(e, c, s)"
            " ON CONFLICT (system, external_id) DO NOTHING RETURNING external_id",
            [
                system,
                now,
                now,
                now,
                [item.row.external_id for item in new],
                [item.customer_id for item in new],
                [item.checksum for item in new],
            ],
        )
        return {external_id for (external_id,) in cursor.fetchall()}


def _identity_rows(
    *, new: Sequence[_NewCustomer], owners: Mapping[tuple[str, str], int], now: datetime
) -> list[dict[str, Any]]:
    """The identity rows of ``new`` customers, without ids. An identifier another customer has, or
    an earlier row of this batch took, is skipped: dropped from the item (and its profile) and
    said in its outcome."""
    taken = set(owners)
    identities: list[dict[str, Any]] = []
    for item in new:
        for name, (value, label) in list(item.identifiers.items()):
            kind = _IDENTIFIER_KINDS[name]
            if (kind, value) in taken:
                owner = owners.get((kind, value))
                item.outcome.skipped.append(
                    f"{name} {value} identifies customer {owner}" if owner else f"{name} {value} is another row's"
                )
                del item.identifiers[name]
                item.profile.pop(name, None)
                continue
            taken.add((kind, value))
            identities.append(
                {
                    "customer_id": item.customer_id,
                    "kind": kind,
                    "value": value,
                    "label": label,
                    "is_primary": True,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    return identities


def _customer_row(*, item: _NewCustomer, created_by: int | None, now: datetime) -> dict[str, Any]:
    profile = item.profile
    return {
        **profile,
        "id": item.customer_id,
        "search_name": search_name_of(
            given_name=profile.get("given_name", ""), family_name=profile.get("family_name", "")
        ),
        "created_by_id": created_by,
        "created_at": now,
        "updated_at": now,
    }


def _created_event_row(*, system: str, item: _NewCustomer, now: datetime) -> dict[str, Any]:
    """The new customer's ``customer.created`` journey event, listing the identifiers it was given."""
    profile = item.profile
    full_name = " ".join(part for part in (profile.get("given_name", ""), profile.get("family_name", "")) if part)
    return {
        "customer_id": item.customer_id,
        "kind": "customer.created",
        "summary": f"Customer {full_name} created"[:300],
        "source_system": system,
        "payload": {
            "source": {"system": system, "external_id": item.row.external_id},
            "identities": [
                {"kind": _IDENTIFIER_KINDS[name], "label": label} for name, (_, label) in item.identifiers.items()
            ],
        },
        "occurred_at": now,
        "created_at": now,
    }


def _next_ids(model: type[Model], count: int) -> list[int]:
    """``count`` new primary keys of ``model`` from its sequence."""
    if not count:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return [value for (value,) in cursor.fetchall()]


_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]")


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        value = json.dumps(value)
    elif isinstance(value, date | datetime):
        return value.isoformat()
    else:
        value = str(value)
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def copy_rows(*, model: type[Model], rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (``{attname: value}``, the rest from the fields' defaults) with ``COPY``.

    The fastest way into PostgreSQL, and row triggers still fire. The caller has already sent a
    statement through Django in this transaction, so the audit context is set.
    """
    if not rows:
        return
    fields = [field for field in model._meta.concrete_fields if not (field.primary_key and "id" not in rows[0])]
    template = model()
    now = timezone.now()
    stamped = {
        field.attname for field in fields if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    }
    defaults = {
        field.attname: now if field.attname in stamped else getattr(template, field.attname) for field in fields
    }
    columns = [field.attname for field in fields]
    # Most columns keep their defaults: format those once; and each distinct value (the same
    # ``now`` in every row) once per batch.
    default_text = {name: _copy_text(value) for name, value in defaults.items()}
    memo: dict[tuple[type, Any], str] = {}
    lines = []
    for row in rows:
        cells = []
        for name in columns:
            if name not in row:
                cells.append(default_text[name])
                continue
            value = row[name]
            if isinstance(value, str):
                cells.append(_copy_text(value) if _NEEDS_ESCAPE.search(value) else value)
            elif isinstance(value, datetime):
                key = (datetime, value)
                text = memo.get(key)
                if text is None:
                    text = memo[key] = value.isoformat()
                cells.append(text)
            else:
                cells.append(_copy_text(value))
        lines.append("\t".join(cells))
    quoted = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    copy_in(f"COPY {model._meta.db_table} ({quoted}) FROM STDIN", "\n".join(lines) + "\n")


def holdings_load(
    *, system: str, holdings: Sequence[tuple[int, Mapping[str, Any]]], now: datetime | None = None
) -> dict[str, int]:
    """Upsert cleaned holdings ``(customer id, fields with kind and external_id)`` in one statement.

    Counts ``{"created", "updated", "unchanged"}``. A holding given twice: the later wins.
    """
    latest: dict[tuple[str, str], tuple[int, Mapping[str, Any]]] = {}
    for customer_id, wanted in holdings:
        latest[(wanted["kind"], wanted["external_id"])] = (customer_id, wanted)
    if not latest:
        return {CREATED: 0, UPDATED: 0, UNCHANGED: 0}
    now = now or timezone.now()
    columns: dict[str, list[Any]] = {name: [] for name in ("customer", "kind", "external_id", "checksum")}
    for name in HOLDING_VALUE_FIELDS:
        columns[name] = []
    for customer_id, wanted in latest.values():
        values = {name: wanted.get(name) for name in HOLDING_VALUE_FIELDS}
        columns["customer"].append(customer_id)
        columns["kind"].append(wanted["kind"])
        columns["external_id"].append(wanted["external_id"])
        columns["checksum"].append(_holding_checksum(customer_id, values))
        for name in HOLDING_VALUE_FIELDS:
            columns[name].append(json.dumps(values[name]) if name == "data" else values[name])
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO records_holding AS h (customer_id, system, kind, external_id, name, status, amount, currency,"
            " data, checksum, as_of, created_at, updated_at)"
            " SELECT c, %s, k, e, n, st, a, cu, d, cs, ao, %s, %s FROM unnest(%s::bigint[], %s::text[], %s::text[],"
            " %s::text[], %s::text[], %s::numeric[], %s::text[], %s::jsonb[], %s::text[], %s::timestamptz[])"
            " AS t(c, k, e, n, st, a, cu, d, cs, ao)"
            " ON CONFLICT (system, kind, external_id) DO UPDATE SET customer_id = EXCLUDED.customer_id,"
            " name = EXCLUDED.name, status = EXCLUDED.status, amount = EXCLUDED.amount,"
            " currency = EXCLUDED.currency, data = EXCLUDED.data, checksum = EXCLUDED.checksum,"
            " as_of = EXCLUDED.as_of, updated_at = EXCLUDED.updated_at"
            " WHERE h.checksum IS DISTINCT FROM EXCLUDED.checksum"
            " RETURNING (xmax = 0)",
            [
                system,
                now,
                now,
                columns["customer"],
                columns["kind"],
                columns["external_id"],
                columns["name"],
                columns["status"],
                columns["amount"],
                columns["currency"],
                columns["data"],
                columns["checksum"],
                columns["as_of"],
            ],
        )
        written = [inserted for (inserted,) in cursor.fetchall()]
    created = sum(written)
    return {CREATED: created, UPDATED: len(written) - created, UNCHANGED: len(latest) - len(written)}
