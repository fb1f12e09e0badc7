"""The aggregated view masks card data a back-end holds before it is cached or shown."""

from __future__ import annotations

import pytest
import redis

from cea.common.pii import redact_text
from integration.aggregation.aggregate import cache_key, customer_aggregate
from tests.integration.aggregate_support import connector_to, holding, link
from tests.support import make_customer

pytestmark = pytest.mark.django_db

CARD = "4539 1488 0343 6467"


def test_a_card_number_from_a_back_end_is_masked_in_the_view_and_its_cache(backends, settings):
    # Given a billing system on loopback whose record holds a card in clear
    customer = make_customer()
    billing = backends("billing")
    card = holding("card", "CARD-1", name=f"Visa {CARD}", status="active")
    billing.records["B-1"] = {"customer": {"external_id": "B-1", "note": f"pays by {CARD}"}, "holdings": [card]}
    connector = connector_to(billing, cache_seconds=60)
    link(customer, "billing", "B-1")
    # When the agent's desk asks for the customer's view
    aggregate = customer_aggregate(customer)
    # Then the view and the cached copy hold the masked card only
    masked = redact_text("4539148803436467")
    part = aggregate.part("billing")
    assert part.status == "ok"
    assert part.data["customer"]["note"] == f"pays by {masked}"
    assert part.holdings[0]["name"] == f"Visa {masked}"
    cached = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True).get(cache_key(connector.pk, "B-1"))
    assert masked in cached
    assert "4539148803436467" not in cached.replace(" ", "") and CARD not in cached
