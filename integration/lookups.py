"""Named look-ups into the organisation's back-ends, for self-service and the agent desktop.

A look-up is a callable ``(customer, inputs) -> dict`` registered under a name
(``"order_status"``, ``"balance"`` …). Callers never import a back-end: they call
``run_lookup(name, customer=…, inputs=…)``, which applies the look-up's timeout, checks the
shape of the answer and turns every failure into ``LookupFailed``, whose ``permanent`` flag says
whether asking again later could help.

The look-ups registered below:

- ``case_status`` answers from records: the customer's open service requests.
- ``balance`` and ``order_status`` answer from the back-ends, live, through the aggregation
  layer (``integration.aggregation``): the systems that hold the customer's balances and
  invoices, or orders and shipments. With no active connector at all they raise
  ``LookupFailed("not connected", permanent=True)``; when the system that holds the answer is
  slow, down or behind an open circuit, ``LookupFailed`` is retryable, so self-service
  apologises and offers an agent. A connector may still replace one by registering its name.

This module is part of the integration layer: it may use records' selectors and must not import
engagement.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, connections, transaction

from integration.aggregation.aggregate import CIRCUIT_OPEN, ERROR, TIMEOUT, customer_aggregate
from integration.connectors.models import Connector
from records.cases.models import CaseStatus
from records.customers.models import Customer
from records.customers.selectors import customer_360
from records.holdings.selectors import holdings_of_customer

logger = logging.getLogger(__name__)

LookupFunction = Callable[[Customer | None, Mapping[str, Any]], dict]

DEFAULT_TIMEOUT_SECONDS = 5.0
NOT_CONNECTED = "not connected"


class LookupFailed(Exception):
    """A look-up gave no answer.

    ``permanent``: asking again will not help (unknown look-up, not connected, nothing found,
    bad input); otherwise the back-end was slow or down and a later attempt may succeed.
    """

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True)
class Lookup:
    name: str
    function: LookupFunction
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    # Answered from CEA's own database: run in the caller's thread (so it sees the caller's
    # transaction) under a PostgreSQL statement timeout, instead of in a worker thread.
    database: bool = False
    description: str = ""


REGISTRY: dict[str, Lookup] = {}

# Remote look-ups run here so that a slow back-end cannot hold the caller past its timeout.
_executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="lookup")


def register(
    name: str, *, timeout: float = DEFAULT_TIMEOUT_SECONDS, database: bool = False, description: str = ""
) -> Callable[[LookupFunction], LookupFunction]:
    """Register the decorated callable as the look-up ``name``; a later registration replaces it.

    ``timeout`` (seconds) bounds a call. ``database=True`` marks a look-up answered from CEA's
    own database (run inline under a statement timeout); others run in a worker thread.
    """
    if not name or not name.replace("_", "").isalnum():
        raise ValueError(f"A look-up name is letters, digits and underscores: {name!r}.")
    if timeout <= 0:
        raise ValueError("A look-up timeout is a positive number of seconds.")

    def decorate(function: LookupFunction) -> LookupFunction:
        if name in REGISTRY:
            logger.info("Look-up %r is replaced by %s", name, getattr(function, "__qualname__", function))
        REGISTRY[name] = Lookup(
            name=name,
            function=function,
            timeout=timeout,
            database=database,
            description=description or _first_line(function.__doc__),
        )
        return function

    return decorate


def _first_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0] if lines else ""


def lookup_names() -> list[str]:
    """The names a flow may use, sorted."""
    return sorted(REGISTRY)


def run_lookup(
    name: str, *, customer: Customer | None, inputs: Mapping[str, Any] | None = None, timeout: float | None = None
) -> dict:
    """Run the look-up ``name`` and return its answer (a dict).

    Raises ``LookupFailed``: unknown name, not connected, nothing found (permanent); timed out or
    the back-end failed (not permanent). Never raises anything else. A remote look-up that times
    out keeps running in its worker thread until its own client gives up; its answer is dropped.
    """
    lookup = REGISTRY.get(name)
    if lookup is None:
        raise LookupFailed(f"unknown look-up {name!r}", permanent=True)
    inputs = dict(inputs or {})
    limit = timeout if timeout is not None else lookup.timeout
    if lookup.database:
        result = _run_in_database(lookup, customer, inputs, limit)
    else:
        result = _run_in_thread(lookup, customer, inputs, limit)
    if not isinstance(result, dict):
        logger.error("Look-up %r answered %r, not a dict", name, type(result).__name__)
        raise LookupFailed("the back-end gave an answer of the wrong shape", permanent=True)
    return result


def _run_in_thread(lookup: Lookup, customer, inputs: dict, limit: float) -> dict:
    def call() -> dict:
        try:
            return lookup.function(customer, inputs)
        finally:
            # Pool threads are reused: give back any database connection the look-up opened.
            connections.close_all()

    future = _executor.submit(call)
    try:
        return future.result(timeout=limit)
    except FutureTimeout:
        logger.warning("Look-up %r timed out after %ss", lookup.name, limit)
        raise LookupFailed(f"timed out after {limit:g} s") from None
    except LookupFailed:
        raise
    except Exception:
        logger.exception("Look-up %r failed", lookup.name)
        raise LookupFailed("the back-end failed") from None


def _run_in_database(lookup: Lookup, customer, inputs: dict, limit: float) -> dict:
    try:
        # A savepoint: a cancelled statement rolls back to here (and so does the timeout setting),
        # leaving the caller's transaction usable.
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_setting('statement_timeout')")
                previous = cursor.fetchone()[0]
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", [f"{max(int(limit * 1000), 1)}ms"])
            result = lookup.function(customer, inputs)
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
            return result
    except LookupFailed:
        raise
    except DatabaseError as exc:
        cause = exc.__cause__
        cancelled = getattr(cause, "sqlstate", None) == "57014" or getattr(cause, "pgcode", None) == "57014"
        logger.warning("Look-up %r failed in the database: %s", lookup.name, exc)
        raise LookupFailed(f"timed out after {limit:g} s" if cancelled else "the database failed") from None
    except Exception:
        logger.exception("Look-up %r failed", lookup.name)
        raise LookupFailed("the look-up failed") from None


# --- Case status: records ---------------------------------------

OPEN_CASE_STATUSES = (CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.PENDING)
MAX_CASES_LISTED = 5


@register("case_status", database=True, timeout=2.0, description="The customer's open service requests (records)")
def case_status(customer: Customer | None, inputs: Mapping[str, Any]) -> dict:
    """The customer's open cases from records, or the one whose ``reference`` is given.

    Answer: ``{"count", "summary", "cases": [{"reference", "subject", "status"}]}`` (at most five
    cases listed), or with ``reference``: ``{"reference", "subject", "status", "summary"}``.
    """
    if customer is None:
        raise LookupFailed("the customer is not identified", permanent=True)
    open_cases = customer_360(customer_id=customer.pk).open_cases
    reference = str(inputs.get("reference") or "").strip().upper()
    if reference:
        for case in open_cases:
            if case.reference.upper() == reference:
                status = CaseStatus(case.status).label.lower()
                return {
                    "reference": case.reference,
                    "subject": case.subject,
                    "status": status,
                    "summary": f"{case.reference} ({case.subject}) is {status}.",
                }
        raise LookupFailed(f"no open case {reference}", permanent=True)
    listed = [
        {"reference": case.reference, "subject": case.subject[:80], "status": CaseStatus(case.status).label.lower()}
        for case in open_cases[:MAX_CASES_LISTED]
    ]
    if not listed:
        summary = "You have no open requests with us."
    else:
        summary = "; ".join(f"{c['reference']} ({c['subject']}) is {c['status']}" for c in listed) + "."
        summary = (
            "You have 1 open request: " if len(open_cases) == 1 else f"You have {len(open_cases)} open requests: "
        ) + summary
    return {"count": len(open_cases), "summary": summary, "cases": listed}


# --- Balance and order status: the back-ends, through the aggregation layer ---------------------

BALANCE_KINDS = ("balance", "invoice")
ORDER_KINDS = ("order", "shipment")
SETTLED_INVOICE_STATUSES = {"paid", "settled", "cancelled", "void", "closed"}
# The answer must come back inside the look-up's own timeout (run_lookup's limit).
LOOKUP_DEADLINE_SECONDS = 3.0
REMOTE_LOOKUP_TIMEOUT_SECONDS = 4.0


@dataclass(frozen=True)
class _Found:
    """Holdings of the asked kinds that arrived, and whether a system that may hold more did not answer."""

    holdings: list[tuple[str, dict]]  # (system label, holding)
    unavailable: list[str]  # labels of the systems that did not answer


def _holdings_now(customer: Customer | None, kinds: tuple[str, ...]) -> _Found:
    """The customer's holdings of ``kinds`` from the back-ends now (through the aggregation layer).

    A system counts as one that may hold them when records' copy says the customer holds such
    things there or, when records knows of none, any system that knows the customer.
    """
    if not Connector.objects.filter(is_active=True).exists():
        raise LookupFailed(NOT_CONNECTED, permanent=True)
    if customer is None:
        raise LookupFailed("the customer is not identified", permanent=True)
    aggregate = customer_aggregate(
        customer, deadline=min(settings.CEA_AGGREGATE_DEADLINE_MS / 1000, LOOKUP_DEADLINE_SECONDS)
    )
    expected = {
        system
        for kind in kinds
        for system in holdings_of_customer(customer=customer, kind=kind).values_list("system", flat=True)
    }
    found = [
        (part.label, holding)
        for part in aggregate.parts
        if part.ok
        for holding in part.holdings
        if holding.get("kind") in kinds
    ]
    unavailable = [
        part.label
        for part in aggregate.parts
        if part.status in (TIMEOUT, ERROR, CIRCUIT_OPEN)
        and not (part.status == ERROR and part.permanent)
        and (not expected or part.system in expected)
    ]
    return _Found(holdings=found, unavailable=unavailable)


def _unavailable(found: _Found, what: str) -> LookupFailed:
    logger.info("Look-up of %s: %s did not answer", what, ", ".join(found.unavailable))
    return LookupFailed(f"{' and '.join(found.unavailable)} did not answer", permanent=False)


def _money(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except (InvalidOperation, ValueError):
        return None


@register(
    "order_status",
    timeout=REMOTE_LOOKUP_TIMEOUT_SECONDS,
    database=True,
    description="Where an order is (order management, live)",
)
def order_status(customer: Customer | None, inputs: Mapping[str, Any]) -> dict:
    """The order ``order_number`` (or, without one, the latest order) with its status and shipment.

    Answer: ``{"order_number", "status", "name", "tracking", "summary"}``. Raises ``LookupFailed``:
    not connected, the customer not identified, no such order (permanent); the order system did
    not answer (retryable).
    """
    found = _holdings_now(customer, ORDER_KINDS)
    number = str(inputs.get("order_number") or "").strip()
    orders = _orders_numbered(found, number)
    if not orders:
        if found.unavailable:
            raise _unavailable(found, "order status")
        raise LookupFailed(f"no order {number}" if number else "no orders", permanent=True)
    label, order = max(orders, key=lambda item: str(item[1].get("as_of") or ""))
    order_number = str(order.get("external_id", ""))
    status = str(order.get("status") or "being processed").lower()
    tracking = _tracking(_shipment_of(found, order_number))
    summary = f"Order {order_number} is {status}." + (f" Tracking: {tracking}." if tracking else "")
    return {
        "order_number": order_number,
        "status": status,
        "name": str(order.get("name") or ""),
        "tracking": tracking,
        "system": label,
        "summary": summary,
    }


def _orders_numbered(found: _Found, number: str) -> list[tuple[str, dict]]:
    """The orders found, only the one numbered ``number`` (any case) when a number is given."""
    orders = [(label, holding) for label, holding in found.holdings if holding.get("kind") == "order"]
    if not number:
        return orders
    return [
        (label, holding) for label, holding in orders if str(holding.get("external_id", "")).upper() == number.upper()
    ]


def _shipment_of(found: _Found, order_number: str) -> dict | None:
    """The shipment found for the order (its ``order``, in ``data`` or at the top), if any."""
    if not order_number:
        return None
    for _, holding in found.holdings:
        if holding.get("kind") != "shipment":
            continue
        if order_number in {str((holding.get("data") or {}).get("order", "")), str(holding.get("order", ""))}:
            return holding
    return None


def _tracking(shipment: dict | None) -> str:
    """The shipment's tracking number (``data["tracking"]``), else its name; "" without a shipment."""
    if shipment is None:
        return ""
    return str((shipment.get("data") or {}).get("tracking", "") or shipment.get("name", ""))


@register(
    "balance",
    timeout=REMOTE_LOOKUP_TIMEOUT_SECONDS,
    database=True,
    description="The account balance (billing, live)",
)
def balance(customer: Customer | None, inputs: Mapping[str, Any]) -> dict:
    """What the customer owes: their balances, or else their unpaid invoices, added up per currency.

    Answer: ``{"amount", "currency", "items": [{"name", "amount", "currency", "system"}],
    "summary"}`` (``amount`` and ``currency`` of the first currency). Raises ``LookupFailed``: not
    connected, not identified, nothing found (permanent); the billing system did not answer
    (retryable).
    """
    found = _holdings_now(customer, BALANCE_KINDS)
    items = [(label, h) for label, h in found.holdings if h.get("kind") == "balance"]
    if not items:
        items = [
            (label, h)
            for label, h in found.holdings
            if h.get("kind") == "invoice" and str(h.get("status") or "").lower() not in SETTLED_INVOICE_STATUSES
        ]
    listed = [(label, h, _money(h.get("amount"))) for label, h in items]
    listed = [(label, h, amount) for label, h, amount in listed if amount is not None]
    if found.unavailable:
        # A part of the answer is missing: a sum without it would be wrong.
        raise _unavailable(found, "balance")
    if not listed:
        raise LookupFailed("no balance found", permanent=True)
    totals: dict[str, Decimal] = {}
    for _, holding, amount in listed:
        currency = str(holding.get("currency") or "").upper()
        totals[currency] = totals.get(currency, Decimal("0")) + amount
    currency, amount = next(iter(totals.items()))
    summary = "Your balance is " + ", ".join(f"{total:.2f} {code}".strip() for code, total in totals.items()) + "."
    return {
        "amount": f"{amount:.2f}",
        "currency": currency,
        "items": [
            {
                "name": str(h.get("name") or h.get("external_id") or ""),
                "amount": f"{a:.2f}",
                "currency": str(h.get("currency") or ""),
                "system": label,
            }
            for label, h, a in listed
        ],
        "summary": summary,
    }
