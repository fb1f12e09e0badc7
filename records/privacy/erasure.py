"""The right to erasure: anonymise a customer everywhere the platform copied them.

``privacy_erasure_carry_out`` runs every registered part of personal data
(``records.privacy.registry``) for an approved erasure request, in one transaction: either every
part is anonymised and the request is ``done``, or nothing is written and the request stays
``approved`` with ``last_error`` saying why. Running it again on a done request does nothing.

Anonymise, not delete, where aggregates matter: the customer row stays (``status=erased``,
"Erased customer #<id>"), interactions keep their timing, queue, agent, sentiment and
satisfaction, cases their status, SLA and timings, journey events their kind, time and channel.

The parts ask ``erasure_scrubber(customer_id)`` for the customer's identifiers: they are read once,
before any part blanks them, so a part that runs after the profile is blanked still scrubs copies.
The append-only journey log is rewritten through the database function ``records_journey_erase``
(migration records 0009), which checks the request itself; see docs/privacy-erasure.md.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from cea.accounts.types import Actor
from cea.common.errors import Conflict
from records.audit.context import audited
from records.customers.models import Customer
from records.identities.models import IdentityKind
from records.privacy.models import PrivacyRequest, PrivacyRequestKind, PrivacyRequestStatus, PrivacyRewrite
from records.privacy.registry import personal_data_parts
from records.privacy.scrub import KEPT_PAYLOAD_KEYS, Scrubber
from records.privacy.selectors import legal_hold_active
from records.privacy.services import user_or_none

logger = logging.getLogger(__name__)


@dataclass
class _ErasureRun:
    request_id: int
    customer_id: int
    scrubbers: dict[int, Scrubber] = field(default_factory=dict)


_current: ContextVar[_ErasureRun | None] = ContextVar("records_privacy_erasure", default=None)


def erased_customer_ids(customer_id: int) -> list[int]:
    """The customer and the tombstones merged into them (whose profiles were copies of theirs)."""
    return [customer_id, *Customer.objects.filter(merged_into_id=customer_id).values_list("pk", flat=True)]


def _identifiers_of(customer_id: int) -> Scrubber:
    """Every identifier held on the customer (and their tombstones), read from records."""
    from records.holdings.models import Holding, SourceRecord
    from records.identities.models import Identity

    ids = erased_customer_ids(customer_id)
    values: list[str | None] = []
    strong: list[str | None] = []
    phones: list[str] = []
    for customer in Customer.objects.filter(pk__in=ids):
        values += [
            customer.given_name,
            customer.family_name,
            customer.full_name,
            customer.address_line1,
            customer.address_line2,
            customer.postcode,
            customer.postcode.replace(" ", ""),
            customer.date_of_birth.isoformat() if customer.date_of_birth else None,
        ]
        strong.append(customer.email)
        phones.append(customer.phone)
    for kind, value, label in Identity.objects.filter(customer_id__in=ids).values_list("kind", "value", "label"):
        strong.append(value)
        if kind == IdentityKind.PHONE:
            phones.append(value)
        elif kind != IdentityKind.NATIONAL_ID:  # its label shows only the last characters
            values.append(label)
    legacy_ids = list(SourceRecord.objects.filter(customer_id__in=ids).values_list("external_id", flat=True))
    strong += legacy_ids
    strong += Holding.objects.filter(customer_id__in=ids).values_list("external_id", flat=True)
    return Scrubber.of(values, phones=phones, strong=strong, legacy_ids=legacy_ids)


def erasure_scrubber(customer_id: int) -> Scrubber:
    """The customer's identifiers as read when the running erasure began (or now, outside one)."""
    run = _current.get()
    if run is None:
        return _identifiers_of(customer_id)
    if customer_id not in run.scrubbers:
        run.scrubbers[customer_id] = _identifiers_of(customer_id)
    return run.scrubbers[customer_id]


def current_erasure_request_id() -> int:
    """The approved erasure request being carried out; parts that rewrite history need it."""
    run = _current.get()
    if run is None:
        raise RuntimeError("History is rewritten only inside privacy_erasure_carry_out.")
    return run.request_id


def journey_erase(customer_id: int) -> int:
    """Rewrite the customer's journey events through the privileged database function."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT records_journey_erase(%s, %s)", [current_erasure_request_id(), list(KEPT_PAYLOAD_KEYS)])
        (rows,) = cursor.fetchone()
    return rows


def record_rewrite(*, target: str, rows: int) -> None:
    """Note a rewrite of an audit (history) table made by the running erasure."""
    PrivacyRewrite.objects.create(request_id=current_erasure_request_id(), target=target, rows=rows)


@contextlib.contextmanager
def _erasure_run(request: PrivacyRequest) -> Iterator[_ErasureRun]:
    run = _ErasureRun(request_id=request.pk, customer_id=request.customer_id)
    token = _current.set(run)
    try:
        yield run
    finally:
        _current.reset(token)


def privacy_erasure_carry_out(*, request_id: int, actor: Actor = None) -> PrivacyRequest:
    """Carry out an approved erasure request: every registered part, in one transaction.

    Idempotent: a done request is returned as it is. Raises ``Conflict`` if the request is not an
    approved erasure request, or if the customer is under a legal hold (then nothing is written,
    and ``last_error`` says so). Locks the request row.
    """
    try:
        with transaction.atomic(), audited(actor, privacy_request=request_id):
            request = PrivacyRequest.objects.select_for_update().select_related("customer").get(pk=request_id)
            if request.status == PrivacyRequestStatus.DONE:
                return request
            if request.kind != PrivacyRequestKind.ERASURE or request.status != PrivacyRequestStatus.APPROVED:
                raise Conflict(
                    f"Request #{request.pk} is a {request.get_kind_display().lower()} request with status "
                    f"{request.status}: only an approved erasure request is carried out.",
                    code="privacy_request_not_approved",
                )
            # The customer's row locked first: a hold being placed on them (or one of their cases) takes
            # the same lock, so it is either committed and seen here, or waits until the erasure is done.
            Customer.objects.select_for_update().filter(pk=request.customer_id).first()
            if legal_hold_active(customer_id=request.customer_id):
                raise Conflict(
                    f"Customer {request.customer_id} is under a legal hold: their data cannot be erased until "
                    "the hold is released.",
                    code="legal_hold_active",
                )
            with _erasure_run(request):
                erasure_scrubber(request.customer_id)  # read the identifiers before any part blanks them
                result = {part.name: part.erase(request.customer_id) for part in personal_data_parts()}
            request.status = PrivacyRequestStatus.DONE
            request.result = result
            request.carried_out_by = user_or_none(actor)
            request.done_at = timezone.now()
            request.last_error = ""
            request.save(update_fields=["status", "result", "carried_out_by", "done_at", "last_error"])
            return request
    except Conflict as error:
        PrivacyRequest.objects.filter(pk=request_id).exclude(status=PrivacyRequestStatus.DONE).update(
            last_error=error.message
        )
        raise
    except Exception as error:
        logger.exception("Erasure request %s failed: nothing was written", request_id)
        PrivacyRequest.objects.filter(pk=request_id).update(
            last_error=f"{type(error).__name__}: the erasure was rolled back; nothing was written."
        )
        raise
