"""The REST connector against the sample order-management service on loopback."""

from __future__ import annotations

import json

import pytest

from integration.connectors.base import ConnectorError
from integration.sample_systems.testing import closed_port
from tests.integration.sample_systems_support import (  # noqa: F401 - fixtures
    _well_behaved,
    connector,
    rest_config,
    sample_systems_fixture,
    secrets_in,
)


def _all(pages) -> tuple[list, list[str]]:
    items, watermarks = [], []
    for page in pages:
        items.extend(page.items)
        watermarks.append(page.watermark)
    return items, watermarks


def test_fetch_since_reads_every_order_and_shipment_in_pages(sample_systems):
    # Given the order-management service and a connector reading 25 records a page
    orders = sample_systems.orders
    rest = connector(rest_config(sample_systems), settings={"page_size": 25})

    # When it reads from the beginning
    pages = list(rest.fetch_since(""))

    # Then it read every order and shipment once, no page larger than asked
    items = [item for page in pages for item in page.items]
    order_count, shipment_count = len(orders.records["orders"]), len(orders.records["shipments"])
    assert len(items) == order_count + shipment_count
    assert len({item.key for item in items}) == len(items)
    assert all(len(page.items) <= 25 for page in pages)
    assert sum(1 for item in items if item.fields["kind"] == "order") == order_count
    assert sum(1 for item in items if item.fields["kind"] == "shipment") == shipment_count
    # And in canonical fields, the rest of the record in ``data``
    first = min(orders.records["orders"].values(), key=lambda row: (row["updated_at"], row["order_number"]))
    item = next(item for item in items if item.fields["external_id"] == first["order_number"])
    assert item.kind == "holding"
    assert item.key == f"order:{first['order_number']}"
    assert item.fields == {
        "customer_external_id": first["customer_number"],
        "external_id": first["order_number"],
        "name": first["summary"],
        "status": first["status"],
        "amount": first["total"],
        "currency": "GBP",
        "as_of": first["updated_at"],
        "kind": "order",
        "data": {"placed_at": first["placed_at"], "lines": first["lines"]},
    }


def test_a_run_resumed_from_a_pages_watermark_reads_the_rest_once(sample_systems):
    # Given a run that stopped after its third page
    rest = connector(rest_config(sample_systems), settings={"page_size": 10})
    everything, _ = _all(rest.fetch_since(""))
    pages = rest.fetch_since("")
    done = [next(pages) for _ in range(3)]

    # When the next run starts from the third page's watermark
    rest_of_it, _ = _all(rest.fetch_since(done[-1].watermark))

    # Then it reads exactly what the first run had not: nothing lost, nothing twice
    first_part = [item.key for page in done for item in page.items]
    assert first_part + [item.key for item in rest_of_it] == [item.key for item in everything]


def test_after_a_full_run_only_changed_records_are_read(sample_systems):
    # Given a run that read everything
    rest = connector(rest_config(sample_systems), settings={"page_size": 50})
    _, watermarks = _all(rest.fetch_since(""))
    orders = sample_systems.orders
    order_number = sorted(orders.records["orders"])[0]

    # When one order changes in the back-end
    orders.touch("orders", order_number, status="delivered")
    items, later = _all(rest.fetch_since(watermarks[-1]))

    # Then the next run reads that order only, and a run after it nothing
    assert [(item.key, item.fields["status"]) for item in items] == [(f"order:{order_number}", "delivered")]
    assert _all(rest.fetch_since(later[-1]))[0] == []


def test_fetch_customer_returns_the_customers_orders_and_shipments(sample_systems):
    # Given a customer with orders and shipments in the back-end
    orders = sample_systems.orders
    shipment = sorted(orders.records["shipments"].values(), key=lambda row: row["shipment_id"])[0]
    number = shipment["customer_number"]
    expected = {row["order_number"] for row in orders.records["orders"].values() if row["customer_number"] == number}
    expected |= {row["shipment_id"] for row in orders.records["shipments"].values() if row["customer_number"] == number}

    # When the connector asks for that customer
    answer = connector(rest_config(sample_systems)).fetch_customer(number)

    # Then it has each of them, in canonical fields
    assert answer["customer_external_id"] == number
    assert answer["system"] == "orders"
    assert {holding["external_id"] for holding in answer["holdings"]} == expected
    assert {holding["customer_external_id"] for holding in answer["holdings"]} == {number}


def test_api_key_authentication(sample_systems):
    # Given a connector with the service's API key, and one with a wrong key
    good = connector(rest_config(sample_systems, auth="api_key"))
    wrong_file = sample_systems.secrets.folder / "wrong-key"
    wrong_file.write_text("not-the-key")
    wrong = connector(rest_config(sample_systems, auth="api_key"), credential_file=str(wrong_file))

    # When each reads, then the right key reads and the wrong one is refused for good
    assert len(next(good.fetch_since("")).items) == len(sample_systems.orders.records["orders"])
    with pytest.raises(ConnectorError) as refused:
        next(wrong.fetch_since(""))
    assert refused.value.permanent is True
    assert "401" in refused.value.message
    assert "not-the-key" not in refused.value.message


def test_oauth2_token_is_fetched_once_and_reused(sample_systems):
    # Given a connector using OAuth2 client credentials
    orders = sample_systems.orders
    before = orders.count("POST /oauth/token")

    # When two connector objects of the same configuration read and look up
    list(connector(rest_config(sample_systems)).fetch_since(""))
    connector(rest_config(sample_systems)).fetch_customer("CUST000001")

    # Then one token served every request
    assert orders.count("POST /oauth/token") == before + 1


def test_oauth2_token_refused_by_the_service_is_fetched_again_once(sample_systems):
    # Given a cached token the service then forgets (revoked, or expired on its clock)
    orders = sample_systems.orders
    rest = connector(rest_config(sample_systems))
    rest.fetch_customer("CUST000001")
    before = orders.count("POST /oauth/token")
    orders.revoke_tokens()

    # When the connector asks again
    answer = rest.fetch_customer("CUST000002")

    # Then it fetched one new token and the request succeeded
    assert answer["customer_external_id"] == "CUST000002"
    assert orders.count("POST /oauth/token") == before + 1


def test_oauth2_token_is_fetched_again_when_it_expires(sample_systems):
    # Given a service whose tokens live less than the connector's safety margin
    orders = sample_systems.orders
    orders.token_ttl = 10
    try:
        before = orders.count("POST /oauth/token")
        rest = connector(rest_config(sample_systems))

        # When the connector looks up two customers (two requests each: orders, shipments)
        rest.fetch_customer("CUST000001")
        rest.fetch_customer("CUST000002")

        # Then each request had a fresh token: an expiring token is never sent
        assert orders.count("POST /oauth/token") == before + 4
    finally:
        orders.token_ttl = 3600


def test_a_wrong_client_secret_is_a_permanent_error(sample_systems):
    # Given a connector with a wrong client secret
    wrong_file = sample_systems.secrets.folder / "wrong-secret"
    wrong_file.write_text("not-the-secret")
    rest = connector(rest_config(sample_systems), credential_file=str(wrong_file))

    # When it reads, then the token endpoint's refusal is permanent, and the secret is not in the message
    with pytest.raises(ConnectorError) as refused:
        next(rest.fetch_since(""))
    assert refused.value.permanent is True
    assert "/oauth/token answered 401" in refused.value.message
    assert "not-the-secret" not in refused.value.message


def test_rate_limit_is_retryable_after_the_services_retry_after(sample_systems):
    # Given the service rate-limiting with Retry-After: 7
    sample_systems.orders.switches.update(rate_limit_retry_after=7)

    # When the connector reads
    with pytest.raises(ConnectorError) as limited:
        next(connector(rest_config(sample_systems, auth="api_key")).fetch_since(""))

    # Then it is told to try again in 7 seconds
    assert limited.value.permanent is False
    assert limited.value.retry_after == 7.0
    assert "429" in limited.value.message


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retryable(sample_systems, status):
    # Given the service failing with a 5xx
    sample_systems.orders.switches.update(error_status=status)

    # When the connector reads, then the failure is worth retrying
    with pytest.raises(ConnectorError) as failed:
        next(connector(rest_config(sample_systems, auth="api_key")).fetch_since(""))
    assert failed.value.permanent is False
    assert f"answered {status}" in failed.value.message


def test_a_slow_service_times_out_as_a_retryable_error(sample_systems):
    # Given a service slower than the connector's timeout
    sample_systems.orders.switches.update(slow_seconds=5)
    rest = connector(rest_config(sample_systems, auth="api_key"), timeout_seconds=0.2)

    # When it reads, then the timeout is retryable
    with pytest.raises(ConnectorError) as slow:
        rest.fetch_customer("CUST000001")
    assert slow.value.permanent is False
    assert "timed out" in slow.value.message


def test_a_service_that_is_down_is_retryable(sample_systems):
    # Given a service that drops connections, and an address where nothing listens
    sample_systems.orders.switches.update(down=True)
    dropped = connector(rest_config(sample_systems, auth="api_key"))
    refused = connector(
        rest_config(sample_systems, auth="api_key"), settings={"base_url": f"http://127.0.0.1:{closed_port()}"}
    )

    # When each reads, then both failures are retryable
    for rest in (dropped, refused):
        with pytest.raises(ConnectorError) as down:
            rest.fetch_customer("CUST000001")
        assert down.value.permanent is False


def test_an_unknown_resource_is_a_permanent_error(sample_systems):
    # Given a connector configured with a path the service does not have
    config = rest_config(sample_systems, auth="api_key")
    rest = connector(config, settings={"resources": [{"name": "invoices", "path": "/api/v1/invoices"}]})

    # When it reads, then the 404 is permanent
    with pytest.raises(ConnectorError) as missing:
        next(rest.fetch_since(""))
    assert missing.value.permanent is True
    assert "answered 404" in missing.value.message


def test_address_change_write_back_is_made_once_per_key(sample_systems):
    # Given an address change for a customer
    orders = sample_systems.orders
    rest = connector(rest_config(sample_systems))
    payload = {"customer_external_id": "CUST000003", "line1": "1 New Street", "city": "Leeds", "postcode": "LS1 1AA"}
    before = len(orders.address_changes)

    # When it is written back twice with the same key (a retry), then once with another key
    first = rest.write_back("address_change", payload, "outbox-1")
    again = rest.write_back("address_change", payload, "outbox-1")
    other = rest.write_back("address_change", payload, "outbox-2")

    # Then the service made two changes, the retry answering the first
    assert again == first
    assert first["status"] == "accepted"
    assert first["address"] == {"line1": "1 New Street", "line2": "", "city": "Leeds", "postcode": "LS1 1AA"}
    assert other["change_id"] != first["change_id"]
    assert len(orders.address_changes) == before + 2


def test_a_write_back_the_service_rejects_is_permanent(sample_systems):
    # Given an address without a postcode, and a write-back kind the connector does not have
    rest = connector(rest_config(sample_systems))

    # When they are written back, then both are permanent failures
    with pytest.raises(ConnectorError) as rejected:
        rest.write_back("address_change", {"customer_external_id": "CUST000003", "line1": "1 New St"}, "k-1")
    assert rejected.value.permanent is True
    assert "422" in rejected.value.message
    with pytest.raises(ConnectorError) as unknown:
        rest.write_back("order_cancel", {"order": "x"}, "k-2")
    assert unknown.value.permanent is True


def test_health(sample_systems):
    # Given the service up, then down
    rest = connector(rest_config(sample_systems))
    healthy = rest.health()
    sample_systems.orders.switches.update(error_status=503)
    unhealthy = rest.health()

    # Then health says so, without raising
    assert healthy["ok"] is True
    assert unhealthy["ok"] is False
    assert unhealthy["permanent"] is False


def test_secrets_never_reach_error_messages_or_logs(sample_systems, caplog):
    # Given failures of every kind while the connector holds real secrets
    caplog.set_level("DEBUG")
    messages = []
    for switches in ({"rate_limit_retry_after": 1}, {"error_status": 500}, {"down": True}):
        sample_systems.orders.switches.update(reset=True, **switches)
        for auth in ("api_key", "oauth2"):
            with pytest.raises(ConnectorError) as failed:
                connector(rest_config(sample_systems, auth=auth)).fetch_customer("CUST000001")
            messages.append(failed.value.message)

    # Then no secret appears in any message or log record
    text = json.dumps(messages) + caplog.text
    assert len(messages) == 6
    assert not [secret for secret in secrets_in(sample_systems) if secret in text]
