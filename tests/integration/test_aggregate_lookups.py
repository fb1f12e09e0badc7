"""The self-service look-ups ``balance`` and ``order_status`` answer from the back-ends through the
aggregation layer, and fail retryably when the system that holds the answer does not answer."""

from __future__ import annotations

import pytest
import redis

from integration.aggregation import breaker
from integration.connectors.models import Connector
from integration.lookups import LookupFailed, run_lookup
from records.holdings.models import Holding
from tests.integration.aggregate_support import connector_to, holding, link
from tests.support import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(billing, orders):
    """A customer known to billing (B-1) and to order management (O-9)."""
    customer = make_customer()
    connector_to(billing, label="Billing")
    connector_to(orders, label="Order management")
    link(customer, "billing", "B-1")
    link(customer, "orders", "O-9")
    return customer


def failure(name: str, customer, inputs=None) -> tuple[str, bool]:
    with pytest.raises(LookupFailed) as failed:
        run_lookup(name, customer=customer, inputs=inputs or {})
    return failed.value.reason, failed.value.permanent


def test_the_balance_comes_from_billing(customer, billing, orders):
    # Given
    billing.records["B-1"] = {
        "holdings": [
            holding("balance", "ACC-1", name="Current account", amount="42.10", currency="GBP"),
            holding("balance", "ACC-2", name="Savings", amount="7.5", currency="GBP"),
            holding("invoice", "INV-7", amount="99.00", currency="GBP", status="unpaid"),
        ]
    }
    orders.records["O-9"] = {"holdings": [holding("order", "123456", status="Shipped")]}
    # When
    answer = run_lookup("balance", customer=customer, inputs={})
    # Then
    assert answer == {
        "amount": "49.60",
        "currency": "GBP",
        "items": [
            {"name": "Current account", "amount": "42.10", "currency": "GBP", "system": "Billing"},
            {"name": "Savings", "amount": "7.50", "currency": "GBP", "system": "Billing"},
        ],
        "summary": "Your balance is 49.60 GBP.",
    }


def test_without_a_balance_the_unpaid_invoices_are_added_up(customer, billing, orders):
    billing.records["B-1"] = {
        "holdings": [
            holding("invoice", "INV-7", amount="99.00", currency="GBP", status="unpaid"),
            holding("invoice", "INV-8", amount="1.00", currency="GBP", status="overdue"),
            holding("invoice", "INV-6", amount="50.00", currency="GBP", status="paid"),
        ]
    }
    orders.records["O-9"] = {"holdings": []}
    answer = run_lookup("balance", customer=customer, inputs={})
    assert (answer["amount"], answer["currency"], len(answer["items"])) == ("100.00", "GBP", 2)


def test_billing_down_makes_the_balance_a_retryable_failure(customer, billing, orders):
    # Given: billing down, order management up
    billing.set("down")
    orders.records["O-9"] = {"holdings": []}
    # Then
    assert failure("balance", customer) == ("Billing did not answer", False)


def test_a_system_that_does_not_hold_balances_being_down_does_not_matter(customer, billing, orders):
    # Given: records' copy says the balances live in billing; order management is down
    Holding.objects.create(customer=customer, system="billing", kind="balance", external_id="ACC-1")
    billing.records["B-1"] = {"holdings": [holding("balance", "ACC-1", amount="3.00", currency="EUR")]}
    orders.set("down")
    # Then
    assert run_lookup("balance", customer=customer, inputs={})["summary"] == "Your balance is 3.00 EUR."


def test_the_order_status_comes_from_order_management(customer, billing, orders):
    # Given
    billing.records["B-1"] = {"holdings": []}
    orders.records["O-9"] = {
        "holdings": [
            holding("order", "123456", name="Router", status="Shipped", as_of="2026-11-01T10:00:00Z"),
            holding("order", "654321", name="Cable", status="Delivered", as_of="2026-10-01T10:00:00Z"),
            holding("shipment", "SH-1", name="Parcel", data={"order": "123456", "tracking": "JD0001"}),
        ]
    }
    # When
    answer = run_lookup("order_status", customer=customer, inputs={"order_number": "123456"})
    latest = run_lookup("order_status", customer=customer, inputs={})
    # Then
    assert answer == {
        "order_number": "123456",
        "status": "shipped",
        "name": "Router",
        "tracking": "JD0001",
        "system": "Order management",
        "summary": "Order 123456 is shipped. Tracking: JD0001.",
    }
    assert latest["order_number"] == "123456"
    assert failure("order_status", customer, {"order_number": "999999"}) == ("no order 999999", True)


def test_an_open_circuit_on_order_management_makes_order_status_retryable(customer, billing, orders, settings):
    # Given: order management's circuit is open
    billing.records["B-1"] = {"holdings": []}
    client = redis.Redis.from_url(settings.REDIS_URL)
    connector = Connector.objects.get(name="orders")
    client.hset(breaker.breaker_key(connector.pk), mapping={"failures": 5, "open_until": 2 * 10**9})
    client.close()
    # Then
    assert failure("order_status", customer, {"order_number": "123456"}) == ("Order management did not answer", False)
    assert orders.calls == 0


def test_an_unidentified_customer_gets_no_live_answer(customer):
    assert failure("balance", None) == ("the customer is not identified", True)
    assert failure("order_status", None, {"order_number": "123456"}) == ("the customer is not identified", True)
