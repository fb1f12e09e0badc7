"""Reads of holdings: what a customer holds in the legacy systems, as the CEA last saw it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import QuerySet

from records.customers.models import Customer
from records.holdings.models import Holding, SourceRecord

_IDS_PER_QUERY = 1000


def holdings_of_customer(
    *, customer: Customer, kind: str | None = None, system: str | None = None
) -> QuerySet[Holding]:
    """The customer's holdings (by kind, then external id), optionally of one kind or one system."""
    holdings = Holding.objects.filter(customer=customer)
    if kind:
        holdings = holdings.filter(kind=kind)
    if system:
        holdings = holdings.filter(system=system)
    return holdings.order_by("kind", "system", "external_id")


def source_records_of_customer(*, customer: Customer) -> QuerySet[SourceRecord]:
    """The customer's records in source systems (``system:external_id``)."""
    return SourceRecord.objects.filter(customer=customer).order_by("system", "external_id")


def customer_by_source(*, system: str, external_id: str) -> Customer | None:
    """The customer whose record in ``system`` is ``external_id`` (the survivor if merged), or ``None``."""
    record = SourceRecord.objects.select_related("customer").filter(system=system, external_id=external_id).first()
    if record is None:
        return None
    customer = record.customer
    while customer.merged_into_id:
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer


def source_ids_known(*, system: str, external_ids: Iterable[str]) -> set[str]:
    """Those of ``external_ids`` that ``system``'s source records hold: their customers are in records."""
    wanted, known = list(dict.fromkeys(external_ids)), set()
    for start in range(0, len(wanted), _IDS_PER_QUERY):
        chunk = wanted[start : start + _IDS_PER_QUERY]
        known |= set(
            SourceRecord.objects.filter(system=system, external_id__in=chunk).values_list("external_id", flat=True)
        )
    return known


def holdings_added_between(*, after_id: int, upto_id: int) -> QuerySet[Holding]:
    """Holdings with ``after_id < id <= upto_id``: the products customers took up since a reader's watermark."""
    return Holding.objects.filter(id__gt=after_id, id__lte=upto_id)


def holding_last_id(*, created_before: datetime | None = None) -> int:
    """The highest holding id (created before ``created_before`` if given), 0 when there is none."""
    holdings = Holding.objects.all()
    if created_before is not None:
        holdings = holdings.filter(created_at__lt=created_before)
    return holdings.order_by("-id").values_list("id", flat=True).first() or 0
