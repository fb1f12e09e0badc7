"""The agent desktop's 360 panel: the holdings fragment, loaded by htmx, from the aggregation layer."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from integration.outbox.models import OutboxMessage, OutboxStatus
from integration.outbox.services import outbox_enqueue
from tests.engagement.desktop_support import parse
from tests.integration.aggregate_support import connector_to, link
from tests.support import make_customer

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def holdings_url(customer_id: int) -> str:
    return reverse("engagement:desk-holdings", args=[customer_id])


def test_the_panel_lists_each_systems_holdings_or_why_they_are_missing(agent, team_a, billing, orders, backends):
    # Given: billing answers, order management is down, the CRM does not know the customer
    customer = make_customer(team_a)
    connector_to(billing)
    connector_to(orders, label="Order management")
    connector_to(backends("crm"), label="CRM")
    link(customer, "billing", "B-1")
    link(customer, "orders", "O-9")
    orders.set("down")
    # When
    response = signed_in(agent).get(holdings_url(customer.pk), HTTP_HX_REQUEST="true")
    # Then
    assert response.status_code == 200
    section = parse(response).find("section", cls="holdings")
    assert section.attrs["data-complete"] == "false"
    systems = section.find_all(data_testid="holding-system")
    assert [(s.attrs["data-connector"], s.attrs["data-status"]) for s in systems] == [
        ("billing", "ok"),
        ("crm", "not_linked"),
        ("orders", "error"),
    ]
    assert [h.text for h in systems[0].find_all(data_testid="holding")] == ["balance Current account · 42.10 GBP"]
    assert systems[1].find(data_testid="holding-reason").text == "Not linked: crm has no record of this customer."
    assert systems[2].find(data_testid="holding-reason").text == (
        f"Error: orders answered 503 for {orders.url}/customers/O-9."
    )


def test_a_cached_part_says_so(agent, team_a, billing):
    customer = make_customer(team_a)
    connector_to(billing, cache_seconds=60)
    link(customer, "billing", "B-1")
    client = signed_in(agent)
    client.get(holdings_url(customer.pk))
    section = parse(client.get(holdings_url(customer.pk))).find("section", cls="holdings")
    assert section.find(data_testid="holding-cached").text.endswith("(cached)")
    assert billing.calls == 1


def test_another_teams_customer_is_refused_without_asking_the_back_ends(agent, team_b, billing):
    customer = make_customer(team_b)
    connector_to(billing)
    link(customer, "billing", "B-1")
    assert signed_in(agent).get(holdings_url(customer.pk)).status_code == 403
    assert signed_in(agent).get(holdings_url(customer.pk + 1000)).status_code == 404
    assert billing.calls == 0


def test_the_panel_shows_the_customers_write_backs_and_their_status(agent, team_a, billing):
    # Given: two changes sent to billing, one delivered
    customer = make_customer(team_a)
    connector = connector_to(billing, label="Billing")
    link(customer, "billing", "B-1")
    first = outbox_enqueue(
        connector=connector, kind="address_change", payload={"postcode": "N1 9GU"}, customer=customer
    )
    outbox_enqueue(connector=connector, kind="payment_arrangement", payload={"monthly": "20.00"}, customer=customer)
    OutboxMessage.objects.filter(pk=first.pk).update(status=OutboxStatus.DELIVERED)
    # When
    section = parse(signed_in(agent).get(holdings_url(customer.pk))).find("section", cls="holdings")
    # Then: newest first
    items = section.find(data_testid="write-backs").find_all(data_testid="write-back")
    assert [(i.attrs["data-status"], i.text.rsplit(" ", 3)[0]) for i in items] == [
        ("pending", "payment_arrangement Billing · Waiting to be delivered"),
        ("delivered", "address_change Billing · Delivered"),
    ]
