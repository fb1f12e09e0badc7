"""Customers with known features for the persona tests: contacts, holdings, scores and age set directly."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from django.utils import timezone

from insights.personas.models import PersonaDefinition
from records.customers.models import Customer
from records.holdings.models import Holding
from records.interactions.models import Interaction
from tests.records.factories import CustomerFactory

_external = itertools.count(1)


def customer_with(
    *,
    team=None,
    contacts: dict[str, int] | None = None,
    days_ago: int = 10,
    holdings: dict[str, int] | None = None,
    amount: str = "100.00",
    age_days: int = 400,
    sentiment: float | None = None,
    **fields,
) -> Customer:
    """A customer created ``age_days`` ago with ``contacts`` ({channel: n}, started ``days_ago`` days ago)
    and ``holdings`` ({kind: n}, each of ``amount``)."""
    now = timezone.now()
    scores = {"sentiment": sentiment} if sentiment is not None else {}
    customer = CustomerFactory(team=team, created_at=now - dt.timedelta(days=age_days), scores=scores, **fields)
    for channel, count in (contacts or {}).items():
        for _ in range(count):
            started = now - dt.timedelta(days=days_ago)
            Interaction.objects.create(
                customer=customer, channel=channel, started_at=started, ended_at=started + dt.timedelta(minutes=5)
            )
    for kind, count in (holdings or {}).items():
        for _ in range(count):
            Holding.objects.create(
                customer=customer, system="core", kind=kind, external_id=f"H{next(_external)}", amount=Decimal(amount)
            )
    return customer


def persona(key: str, *, order: int = 100, rules: list | None = None, **fields) -> PersonaDefinition:
    return PersonaDefinition.objects.create(
        key=key, name=key.replace("-", " ").title(), order=order, rules=rules or [], **fields
    )
