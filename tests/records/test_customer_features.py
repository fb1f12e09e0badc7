"""records' customer_behaviour_features: one statement, compared with a plain Python count over the same rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from records.customers.selectors import BEHAVIOUR_COLUMNS, customer_behaviour_features
from records.holdings.models import Holding
from records.interactions.models import Interaction
from tests.insights.personas_support import customer_with

pytestmark = pytest.mark.django_db


def test_the_features_are_the_counts_of_the_customers_rows():
    # Given customers with contacts old and recent, holdings of two kinds, a sentiment, and a tombstone
    busy = customer_with(
        contacts={"chat": 2, "voice": 1},
        holdings={"account": 2, "order": 1},
        amount="10.50",
        sentiment=-0.4,
        age_days=30,
        custom_attributes={"plan": "premium"},
    )
    Interaction.objects.create(
        customer=busy,
        channel="email",
        started_at=timezone.now() - dt.timedelta(days=200),
        ended_at=timezone.now() - dt.timedelta(days=200),
    )
    quiet = customer_with(age_days=3)
    customer_with(status="merged")
    # When the features are read
    now = timezone.now()
    rows = {row[0]: dict(zip(BEHAVIOUR_COLUMNS, row, strict=True)) for row in customer_behaviour_features(now=now)}
    # Then they are the active customers' own counts
    assert set(rows) == {busy.pk, quiet.pk}
    for customer in (busy, quiet):
        row = rows[customer.pk]
        contacts = list(Interaction.objects.filter(customer=customer))
        holdings = list(Holding.objects.filter(customer=customer))
        assert row["contacts"] == len(contacts)
        assert row["contacts_90d"] == sum(1 for item in contacts if item.started_at >= now - dt.timedelta(days=90))
        for channel in ("chat", "voice", "email", "sms"):
            assert row[f"contacts_{channel}"] == sum(1 for item in contacts if item.channel == channel)
        assert row["holdings"] == len(holdings)
        assert row["holdings_balance"] == float(sum(item.amount for item in holdings))
        for kind in ("account", "order", "balance"):
            assert row[f"holdings_of_{kind}"] == sum(1 for item in holdings if item.kind == kind)
    assert (rows[busy.pk]["tenure_days"], rows[busy.pk]["sentiment"]) == (30, -0.4)
    assert (rows[quiet.pk]["tenure_days"], rows[quiet.pk]["sentiment"]) == (3, None)
    assert (rows[busy.pk]["contacts"], rows[busy.pk]["contacts_90d"]) == (4, 3)
    assert rows[busy.pk]["custom_attributes"] == '{"plan": "premium"}'


def test_only_the_customers_asked_for():
    first, second = customer_with(), customer_with()
    rows = customer_behaviour_features(now=timezone.now(), customer_ids=[second.pk])
    assert [row[0] for row in rows] == [second.pk]
    assert customer_behaviour_features(now=timezone.now(), customer_ids=[]) == []
    assert first.pk != second.pk
