"""The first load of a large extract: rows cleaned anywhere (worker processes), staged by ``COPY``, merged set-wise.

``source_customers_load`` (``services.py``) loads a batch of source rows in Python: it cleans each
row, then writes the batch's new customers by ``COPY``. For the first load of a million-line
extract the cleaning is most of the time and runs on one core. This module splits the work:

1. ``source_row_stage_line`` cleans one source row with records' own rules (the same
   ``_profile_and_identifiers``, name check and ``holding_clean`` as the batch path) and returns the
   row as one line of a staging table, every column formatted: the customer row as the batch path
   would ``COPY`` it, its identifiers, its ``customer.created`` journey event and its holdings. It
   touches no database, so the caller may run it in worker processes, on every core.
2. ``FirstLoad`` (in the caller's transaction) makes an unlogged staging table, takes those lines
   by ``COPY`` (``stage``), then ``merge`` decides per row what the batch path would and writes
   set-wise with ``INSERT … SELECT``: source records (``ON CONFLICT DO NOTHING``, so another loader
   that made a customer first wins), customers, identities, journey events and holdings; the audit
   rows of the customers and identities by ``audited_copy`` (the rows pghistory's triggers write).

What ``merge`` leaves to the caller (``FirstLoadResult.deferred``, by line): rows whose source
record is known with another checksum (an update), whose account number or email identifies a
customer already (a link), and rows another loader created first. The caller loads those one
batch at a time with ``source_customers_load``; they are few in a first load. Rows whose source
record is known with the same checksum are ``unchanged``. A phone number another customer has
already is not attached (the customer keeps no phone), as in the batch path.

What the *caller* must decide before staging a row, in line order (``stage(…, phone_ok=…)``):
earlier lines win. A later line with the same external id, account number or email as an earlier
one, or one of its holdings, is deferred too (loaded after, as one-at-a-time loads would: an
update or a link); a later line with an earlier line's phone is staged with ``phone_ok=False``.
"""

# The SQL below is built from the staging table's name (made here, quoted) and the models' columns.
# ruff: noqa: S608

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from cea.accounts.types import Actor
from cea.common.errors import ValidationFailed
from records.audit.bulk import audited_copy
from records.audit.context import audited
from records.customers.models import Customer
from records.customers.profile import NAME_FIELDS
from records.customers.services import search_name_of
from records.holdings.services import (
    _IDENTIFIER_KINDS,
    HOLDING_VALUE_FIELDS,
    SourceRow,
    _copy_text,
    _profile_and_identifiers,
    holding_clean,
)
from records.identities.models import Identity

logger = logging.getLogger(__name__)

# Deciding a staged row: n(ew, to insert), u(nchanged), d(eferred to the batch path).
NEW, UNCHANGED, DEFERRED = "n", "u", "d"
_HOLDING_COLUMNS = (
    ("kind", "text"),
    ("external_id", "text"),
    ("name", "text"),
    ("status", "text"),
    ("amount", "numeric(16,2)"),
    ("currency", "text"),
    ("data", "jsonb"),
    ("as_of", "timestamptz"),
    ("sum_head", "text"),
    ("sum_tail", "text"),
)
_CUSTOMER_MARK = "\x00customer-id\x00"


@dataclass(frozen=True)
class StagedRow:
    """A cleaned source row: what the caller needs to decide it, and its staging line (``text``)."""

    external_id: str
    checksum: str
    email: str
    phone: str
    account: str
    holdings: tuple[tuple[str, str], ...]  # (kind, external_id)
    text: str


def _customer_fields() -> list:
    return [field for field in Customer._meta.concrete_fields if not field.primary_key]


def _customer_defaults() -> dict[str, str]:
    template = Customer()
    return {field.attname: _copy_text(getattr(template, field.attname)) for field in _customer_fields()}


_DEFAULTS: dict[str, str] | None = None


def stage_columns(holding_slots: int) -> list[tuple[str, str]]:
    """The staging table's columns that ``COPY`` fills, in order (``line`` first, ``phone_ok`` last)."""
    columns = [
        ("line", "integer"),
        ("external_id", "text"),
        ("checksum", "text"),
        ("email", "text"),
        ("phone", "text"),
        ("account", "text"),
        ("account_label", "text"),
    ]
    columns += [(f"c_{field.column}", field.db_type(connection)) for field in _customer_fields()]
    columns += [("event_summary", "text"), ("event_payload", "jsonb"), ("event_payload_nophone", "jsonb")]
    for slot in range(holding_slots):
        columns += [(f"h{slot}_{name}", kind) for name, kind in _HOLDING_COLUMNS]
    return [*columns, ("phone_ok", "boolean")]


def _cell(value: Any) -> str:
    if isinstance(value, str) and "\\" not in value and "\t" not in value and "\n" not in value and "\r" not in value:
        return value
    return _copy_text(value)


def _holding_checksum_parts(cleaned: Mapping[str, Any]) -> tuple[str, str]:
    """The text ``fields_checksum`` digests for this holding, split where the customer's id goes
    (it is known only in the database): ``sha256(head || id || tail)`` is ``_holding_checksum``."""
    encoded = json.dumps({"customer": _CUSTOMER_MARK, **cleaned}, sort_keys=True, default=str, separators=(",", ":"))
    # Keys are sorted and values before "customer" are scalars (their quotes escaped): the first
    # '"customer":<mark>' is the key's.
    marker = '"customer":' + json.dumps(_CUSTOMER_MARK)
    at = encoded.index(marker)
    return encoded[: at + len('"customer":')], encoded[at + len(marker) :]


def source_row_stage_line(*, system: str, row: SourceRow, now: datetime, holding_slots: int) -> StagedRow:
    """``row`` cleaned by records' rules and formatted as a staging line (without ``line`` and
    ``phone_ok``, which the caller adds). No database. Raises ``ValidationFailed`` as the batch
    path would refuse the row (``_reason`` of it is the reason the batch path gives)."""
    global _DEFAULTS
    if _DEFAULTS is None:
        _DEFAULTS = _customer_defaults()
    if not row.external_id:
        raise ValidationFailed("The record has no id in the source.")
    if len(row.holdings) > holding_slots:
        raise ValidationFailed(f"At most {holding_slots} holdings a row.")
    profile, identifiers = _profile_and_identifiers(row.fields)
    if not any(profile.get(name) for name in NAME_FIELDS):
        raise ValidationFailed("A customer needs a name.", fields={"family_name": "Give a name."})
    holdings = []
    for wanted in row.holdings:
        kind, external_id = wanted.get("kind") or "", str(wanted.get("external_id") or "")
        holdings.append((kind, external_id, holding_clean(kind=kind, external_id=external_id, fields=wanted)))
    checksum = row.digest()
    customer = {
        **profile,
        "search_name": search_name_of(
            given_name=profile.get("given_name", ""), family_name=profile.get("family_name", "")
        ),
        "created_by_id": None,
        "created_at": now,
        "updated_at": now,
    }
    stamp = now.isoformat()
    cells = [
        _cell(row.external_id),
        checksum,
        _cell(identifiers["email"][0]) if "email" in identifiers else "\\N",
        _cell(identifiers["phone"][0]) if "phone" in identifiers else "\\N",
        _cell(identifiers["account_number"][0]) if "account_number" in identifiers else "\\N",
        _cell(identifiers["account_number"][1]) if "account_number" in identifiers else "\\N",
    ]
    defaults = _DEFAULTS
    for name, default in defaults.items():
        if name not in customer:
            cells.append(default)
        elif name in ("created_at", "updated_at"):
            cells.append(stamp)
        else:
            cells.append(_cell(customer[name]))
    full_name = " ".join(part for part in (profile.get("given_name", ""), profile.get("family_name", "")) if part)
    source = {"system": system, "external_id": row.external_id}
    listed = [{"kind": _IDENTIFIER_KINDS[name], "label": label} for name, (_, label) in identifiers.items()]
    cells += [
        _cell(f"Customer {full_name} created"[:300]),
        _copy_text(json.dumps({"source": source, "identities": listed})),
        _copy_text(
            json.dumps({"source": source, "identities": [entry for entry in listed if entry["kind"] != "phone"]})
        ),
    ]
    for slot in range(holding_slots):
        if slot >= len(holdings):
            cells += ["\\N"] * len(_HOLDING_COLUMNS)
            continue
        kind, external_id, cleaned = holdings[slot]
        values = {name: cleaned.get(name) for name in HOLDING_VALUE_FIELDS}
        head, tail = _holding_checksum_parts(values)
        cells += [
            _cell(kind),
            _cell(external_id),
            _cell(values["name"]),
            _cell(values["status"]),
            _copy_text(values["amount"]),
            _cell(values["currency"]),
            _copy_text(json.dumps(values["data"])),
            _copy_text(values["as_of"]),
            _copy_text(head),
            _copy_text(tail),
        ]
    return StagedRow(
        external_id=row.external_id,
        checksum=checksum,
        email=identifiers["email"][0] if "email" in identifiers else "",
        phone=identifiers["phone"][0] if "phone" in identifiers else "",
        account=identifiers["account_number"][0] if "account_number" in identifiers else "",
        holdings=tuple((kind, external_id) for kind, external_id, _ in holdings),
        text="\t".join(cells),
    )


@dataclass
class FirstLoadResult:
    created: int
    unchanged: int
    deferred: list[int]  # lines left to the batch path, in order


class FirstLoad:
    """One staged load, in the caller's transaction: ``with load.stage() as write: write(text)``, then
    ``merge()``. The staging table is unlogged and created inside the transaction: it vanishes with
    it if the load fails, and ``merge`` drops it."""

    def __init__(self, *, system: str, holding_slots: int, now: datetime, actor: Actor = None, name: str) -> None:
        self.system = system
        self.holding_slots = holding_slots
        self.now = now
        self.actor = actor
        self.table = connection.ops.quote_name(name)
        self.columns = stage_columns(holding_slots)

    @contextlib.contextmanager
    def stage(self) -> Iterator[Any]:
        """Create the staging table and ``COPY`` into it; yields ``write(text)`` (whole lines)."""
        if not connection.in_atomic_block:
            raise RuntimeError("A first load runs in a transaction.")
        declared = ", ".join(f"{name} {kind}" for name, kind in self.columns)
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE UNLOGGED TABLE {self.table} ({declared},"
                " customer_id bigint NOT NULL DEFAULT nextval(pg_get_serial_sequence('records_customer', 'id')),"
                f" state char(1) NOT NULL DEFAULT '{NEW}')"
            )
        names = ", ".join(name for name, _ in self.columns)
        with (
            connection.cursor() as cursor,
            connection.wrap_database_errors,
            cursor.cursor.copy(f"COPY {self.table} ({names}) FROM STDIN") as copy,
        ):
            yield copy.write

    def merge(self) -> FirstLoadResult:
        """Decide each staged row and write the new customers set-wise (see the module's docstring)."""
        stage, system, now = self.table, self.system, self.now
        with transaction.atomic(), audited(self.actor, job=f"sync:{system}"), _Timed(connection.cursor()) as cursor:
            cursor.execute(f"ANALYZE {stage}")
            # Known source records: unchanged, or an update for the batch path.
            cursor.execute(
                f"UPDATE {stage} s SET state = CASE WHEN r.checksum = s.checksum THEN '{UNCHANGED}' ELSE '{DEFERRED}'"
                " END FROM records_sourcerecord r WHERE r.system = %s AND r.external_id = s.external_id",
                [system],
            )
            # An account number or email that identifies a customer already: a link, for the batch path.
            for kind, column in (("account", "account"), ("email", "email")):
                cursor.execute(
                    f"UPDATE {stage} s SET state = '{DEFERRED}' FROM records_identity i"
                    f" WHERE s.state = '{NEW}' AND i.kind = %s AND i.value = s.{column}",
                    [kind],
                )
            cursor.execute(
                f"UPDATE {stage} s SET phone_ok = false FROM records_identity i"
                f" WHERE s.state = '{NEW}' AND s.phone_ok AND i.kind = 'phone' AND i.value = s.phone"
            )
            cursor.execute(f"SELECT count(*) FROM {stage} WHERE state = '{NEW}'")
            wanted = cursor.fetchone()[0]
            # The source records first: another loader that made one of these customers first wins.
            cursor.execute(
                "INSERT INTO records_sourcerecord (system, external_id, customer_id, checksum, seen_at,"
                f" created_at, updated_at) SELECT %s, external_id, customer_id, checksum, %s, %s, %s FROM {stage}"
                f" WHERE state = '{NEW}' ON CONFLICT (system, external_id) DO NOTHING",
                [system, now, now, now],
            )
            if cursor.rowcount != wanted:
                cursor.execute(
                    f"UPDATE {stage} s SET state = '{DEFERRED}' FROM records_sourcerecord r"
                    f" WHERE s.state = '{NEW}' AND r.system = %s AND r.external_id = s.external_id"
                    " AND r.customer_id <> s.customer_id",
                    [system],
                )
                wanted -= cursor.rowcount
            new = f"{stage}.state = '{NEW}'"
            fields = _customer_fields()
            columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
            selected = ", ".join(
                f"CASE WHEN phone_ok THEN c_{field.column} ELSE '' END"
                if field.attname == "phone"
                else f"c_{field.column}"
                for field in fields
            )
            with audited_copy(Customer, where=f"t.id IN (SELECT customer_id FROM {stage} WHERE {new})"):
                cursor.execute(
                    f"INSERT INTO records_customer (id, {columns}) SELECT customer_id, {selected} FROM {stage}"
                    f" WHERE {new}"
                )
            with audited_copy(Identity, where=f"t.customer_id IN (SELECT customer_id FROM {stage} WHERE {new})"):
                cursor.execute(
                    "INSERT INTO records_identity (customer_id, kind, value, label, is_primary, created_at, updated_at)"
                    " SELECT customer_id, v.kind, v.value, v.label, true, %s, %s FROM "
                    f"{stage} CROSS JOIN LATERAL (VALUES ('email', email, email, 1), ('phone', phone, phone, 2),"
                    " ('account', account, account_label, 3)) AS v(kind, value, label, position)"
                    f" WHERE {new} AND v.value IS NOT NULL AND (v.kind <> 'phone' OR phone_ok)",
                    [now, now],
                )
            cursor.execute(
                "INSERT INTO records_journeyevent (customer_id, occurred_at, recorded_at, source_system, channel,"
                " kind, summary, payload) SELECT customer_id, %s, %s, %s, '', 'customer.created', event_summary,"
                f" CASE WHEN phone_ok THEN event_payload ELSE event_payload_nophone END FROM {stage} WHERE {new}",
                [now, now, system],
            )
            for slot in range(self.holding_slots):
                h = f"h{slot}_"
                cursor.execute(
                    "INSERT INTO records_holding AS h (customer_id, system, kind, external_id, name, status, amount,"
                    " currency, data, checksum, as_of, created_at, updated_at)"
                    f" SELECT customer_id, %s, {h}kind, {h}external_id, {h}name, {h}status, {h}amount,"
                    f" {h}currency, {h}data,"
                    f" encode(sha256(convert_to({h}sum_head || customer_id::text || {h}sum_tail, 'UTF8')), 'hex'),"
                    f" {h}as_of, %s, %s FROM {stage} WHERE {new} AND {h}external_id IS NOT NULL"
                    " ON CONFLICT (system, kind, external_id) DO UPDATE SET customer_id = EXCLUDED.customer_id,"
                    " name = EXCLUDED.name, status = EXCLUDED.status, amount = EXCLUDED.amount,"
                    " currency = EXCLUDED.currency, data = EXCLUDED.data, checksum = EXCLUDED.checksum,"
                    " as_of = EXCLUDED.as_of, updated_at = EXCLUDED.updated_at"
                    " WHERE h.checksum IS DISTINCT FROM EXCLUDED.checksum",
                    [system, now, now],
                )
            cursor.execute(f"SELECT count(*) FILTER (WHERE state = '{UNCHANGED}') FROM {stage}")
            unchanged = cursor.fetchone()[0]
            cursor.execute(f"SELECT line FROM {stage} WHERE state = '{DEFERRED}' ORDER BY line")
            deferred = [line for (line,) in cursor.fetchall()]
            cursor.execute(f"DROP TABLE {stage}")
        return FirstLoadResult(created=wanted, unchanged=unchanged, deferred=deferred)


class _Timed:
    """A cursor that logs how long each statement took (DEBUG: where a first load spends its time)."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor

    def __enter__(self) -> _Timed:
        self.cursor.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.cursor.__exit__(*exc)

    def execute(self, sql: str, params: Any = None) -> None:
        started = time.perf_counter()
        self.cursor.execute(sql, params)
        logger.debug("%.2f s, %s rows: %s", time.perf_counter() - started, self.cursor.rowcount, sql[:90])

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cursor, name)


def known_checksums(*, system: str, external_ids: Sequence[str]) -> dict[str, str]:
    """``{external id: checksum}`` of the source records of ``system`` among ``external_ids``."""
    if not external_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT external_id, checksum FROM records_sourcerecord WHERE system = %s AND external_id = ANY(%s)",
            [system, list(external_ids)],
        )
        return dict(cursor.fetchall())
