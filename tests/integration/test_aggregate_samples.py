"""The aggregated view and the look-ups over the sample legacy systems: SOAP billing and REST order
management on loopback, through the real connectors."""

from __future__ import annotations

import json

import pytest

from integration.aggregation.aggregate import customer_aggregate
from integration.connectors.models import Connector
from integration.lookups import LookupFailed, run_lookup
from integration.sample_systems.seed import customer_number
from tests.integration.aggregate_support import link
from tests.integration.sample_systems_support import (  # noqa: F401 - fixtures
    _well_behaved,
    rest_config,
    sample_systems_fixture,
    secrets_in,
    soap_config,
)
from tests.support import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(sample_systems):
    """Sample customer 1: billing and order management carry the customer master's number, so one
    source record of the customer master links the customer to both."""
    Connector.objects.create(**soap_config(sample_systems), timeout_seconds=3.0, cache_seconds=0)
    Connector.objects.create(**rest_config(sample_systems, auth="api_key"), timeout_seconds=3.0, cache_seconds=0)
    customer = make_customer()
    link(customer, "customer-db", customer_number(1))
    return customer


def test_both_systems_answer_with_the_customers_holdings(customer, sample_systems):
    # When
    aggregate = customer_aggregate(customer)
    # Then
    assert [(part.connector, part.status) for part in aggregate.parts] == [("billing", "ok"), ("orders", "ok")]
    billing_kinds = {holding["kind"] for holding in aggregate.part("billing").holdings}
    order_kinds = {holding["kind"] for holding in aggregate.part("orders").holdings}
    assert billing_kinds and billing_kinds <= {"balance", "invoice", "payment_arrangement"}
    assert "order" in order_kinds and order_kinds <= {"order", "shipment"}
    everything = json.dumps([vars(part) for part in aggregate.parts])
    assert not [secret for secret in secrets_in(sample_systems) if secret in everything]


def test_slow_billing_times_out_and_the_orders_still_arrive(customer, sample_systems):
    # Given
    Connector.objects.filter(name="billing").update(timeout_seconds=0.3)
    sample_systems.billing.switches.update(slow_seconds=3)
    # When
    aggregate = customer_aggregate(customer)
    # Then
    assert [(part.connector, part.status) for part in aggregate.parts] == [("billing", "timeout"), ("orders", "ok")]


def test_the_look_ups_answer_from_the_sample_systems(customer, sample_systems):
    # Given: what the systems hold for the customer now
    aggregate = customer_aggregate(customer)
    order = next(h for h in aggregate.part("orders").holdings if h["kind"] == "order")
    # When
    status = run_lookup("order_status", customer=customer, inputs={"order_number": order["external_id"]})
    balance = run_lookup("balance", customer=customer, inputs={})
    # Then
    assert (status["order_number"], status["status"]) == (order["external_id"], str(order["status"]).lower())
    assert balance["summary"].startswith("Your balance is ")
    assert balance["items"] and {item["system"] for item in balance["items"]} == {"Billing (SOAP)"}


def test_billing_down_makes_the_balance_look_up_retryable(customer, sample_systems):
    sample_systems.billing.switches.update(error_status=503)
    with pytest.raises(LookupFailed) as failed:
        run_lookup("balance", customer=customer, inputs={})
    assert (failed.value.reason, failed.value.permanent) == ("Billing (SOAP) did not answer", False)
