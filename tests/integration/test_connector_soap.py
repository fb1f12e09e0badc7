"""The SOAP connector against the sample billing service (its WSDL, over HTTP on loopback)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from integration.connectors.base import ConnectorError
from integration.sample_systems.testing import closed_port
from tests.integration.sample_systems_support import (  # noqa: F401 - fixtures
    _well_behaved,
    connector,
    sample_systems_fixture,
    secrets_in,
    soap_config,
)


def test_fetch_since_reads_every_holding_in_pages(sample_systems):
    # Given the billing service and a connector reading 40 holdings a page
    billing = sample_systems.billing
    soap = connector(soap_config(sample_systems), settings={"page_size": 40})

    # When it reads from the beginning
    pages = list(soap.fetch_since(""))

    # Then it read each balance, invoice and arrangement once, in pages of 40 at most
    items = [item for page in pages for item in page.items]
    assert len(items) == len(billing.holdings)
    assert {item.key for item in items} == {f"{kind}:{key}" for kind, key in billing.holdings}
    assert all(len(page.items) <= 40 for page in pages)
    assert len(pages) == -(-len(billing.holdings) // 40)
    # And in canonical fields (decimal amounts as strings, times in ISO 8601)
    balance = billing.holdings[("balance", "ACC00000000")]
    fields = next(item.fields for item in items if item.key == "balance:ACC00000000")
    assert fields == {
        "customer_external_id": "CUST000000",
        "kind": "balance",
        "external_id": "ACC00000000",
        "name": "Account balance",
        "status": balance["status"],
        "amount": str(Decimal(balance["amount"])),
        "currency": "GBP",
        "as_of": balance["updatedAt"],
        "data": {},
    }


def test_a_resumed_run_reads_only_what_is_new(sample_systems):
    # Given a run that read everything, stopped after its second page on another try
    soap = connector(soap_config(sample_systems), settings={"page_size": 40})
    pages = list(soap.fetch_since(""))
    second = pages[1].watermark

    # When the next run starts from the second page's watermark
    rest_of_it = [item.key for page in soap.fetch_since(second) for item in page.items]

    # Then it reads exactly the pages after it
    assert rest_of_it == [item.key for page in pages[2:] for item in page.items]
    # And from the last watermark, nothing, until an arrangement is made
    assert [item for page in soap.fetch_since(pages[-1].watermark) for item in page.items] == []
    made = soap.write_back(
        "payment_arrangement",
        {"customerNumber": "CUST000004", "amount": "90.00", "currency": "GBP", "instalments": 3},
        "resume-1",
    )
    new = [item for page in soap.fetch_since(pages[-1].watermark) for item in page.items]
    assert [item.key for item in new] == [f"payment_arrangement:{made['holding']['external_id']}"]


def test_fetch_customer_returns_balance_invoices_and_arrangements(sample_systems):
    # Given a customer in the billing system
    billing = sample_systems.billing
    expected = sorted(
        (kind, key) for (kind, key), holding in billing.holdings.items() if holding["customerNumber"] == "CUST000005"
    )

    # When the connector asks for them
    answer = connector(soap_config(sample_systems)).fetch_customer("CUST000005")

    # Then it has each of them
    assert answer["customer_external_id"] == "CUST000005"
    assert sorted((holding["kind"], holding["external_id"]) for holding in answer["holdings"]) == expected
    assert ("balance", "ACC00000005") in expected


def test_an_unknown_customer_is_a_permanent_soap_fault(sample_systems):
    # When the connector asks for a customer the service does not know
    with pytest.raises(ConnectorError) as fault:
        connector(soap_config(sample_systems)).fetch_customer("CUST999999")

    # Then the client fault is permanent, with the service's reason
    assert fault.value.permanent is True
    assert "Unknown customer CUST999999." in fault.value.message


def test_a_server_fault_is_retryable(sample_systems):
    # Given the service failing with soap:Server faults
    soap = connector(soap_config(sample_systems))
    soap.health()  # the WSDL is read while the service is well
    sample_systems.billing.switches.update(error_status=500)

    # When the connector asks, then the fault is worth retrying
    with pytest.raises(ConnectorError) as fault:
        soap.fetch_customer("CUST000005")
    assert fault.value.permanent is False
    assert "The billing service is unavailable." in fault.value.message


def test_payment_arrangement_write_back_is_made_once_per_key(sample_systems):
    # Given a payment arrangement for a customer
    billing = sample_systems.billing
    soap = connector(soap_config(sample_systems))
    payload = {"customerNumber": "CUST000007", "amount": "120.50", "currency": "GBP", "instalments": 6}
    before = billing.arrangement_count("CUST000007")

    # When it is written back twice with the same key (a retry)
    first = soap.write_back("payment_arrangement", payload, "outbox-42")
    again = soap.write_back("payment_arrangement", payload, "outbox-42")

    # Then the service made one arrangement, and the retry answered it
    assert again == first
    assert billing.arrangement_count("CUST000007") == before + 1
    assert first["holding"]["kind"] == "payment_arrangement"
    assert first["holding"]["customer_external_id"] == "CUST000007"
    assert first["holding"]["amount"] == "120.50"
    assert first["holding"]["name"] == "6 monthly instalments"


def test_a_write_back_the_service_rejects_is_permanent(sample_systems):
    # Given an arrangement with a negative amount
    soap = connector(soap_config(sample_systems))
    payload = {"customerNumber": "CUST000007", "amount": "-5", "currency": "GBP", "instalments": 6}

    # When it is written back, then the client fault is permanent
    with pytest.raises(ConnectorError) as rejected:
        soap.write_back("payment_arrangement", payload, "outbox-43")
    assert rejected.value.permanent is True
    assert "amount must be positive" in rejected.value.message


def test_a_wrong_password_is_a_permanent_error(sample_systems):
    # Given a connector with a wrong password
    wrong_file = sample_systems.secrets.folder / "wrong-billing-password"
    wrong_file.write_text("not-the-password")
    soap = connector(soap_config(sample_systems), credential_file=str(wrong_file))

    # When it asks, then the refusal is permanent and the password is not in the message
    with pytest.raises(ConnectorError) as refused:
        soap.fetch_customer("CUST000005")
    assert refused.value.permanent is True
    assert "401" in refused.value.message
    assert "not-the-password" not in refused.value.message


def test_slow_down_and_unreachable_services_are_retryable(sample_systems):
    # Given a connector that has read the WSDL, and a service that is slow, then dropping connections
    billing = sample_systems.billing
    soap = connector(soap_config(sample_systems), timeout_seconds=0.2)
    soap.health()
    failures = []
    for switches in ({"slow_seconds": 5}, {"down": True}):
        billing.switches.update(reset=True, **switches)
        with pytest.raises(ConnectorError) as failed:
            soap.fetch_customer("CUST000005")
        failures.append(failed.value)
    # And a connector whose service is not there at all (no WSDL to read)
    unreachable = connector(
        soap_config(sample_systems), settings={"wsdl": f"http://127.0.0.1:{closed_port()}/billing?wsdl"}
    )
    with pytest.raises(ConnectorError) as failed:
        unreachable.fetch_customer("CUST000005")
    failures.append(failed.value)

    # Then every failure is worth retrying, the slow one said to have timed out
    assert [failure.permanent for failure in failures] == [False, False, False]
    assert "timed out" in failures[0].message


def test_health(sample_systems):
    # Given the service up, then down
    soap = connector(soap_config(sample_systems))
    healthy = soap.health()
    sample_systems.billing.switches.update(down=True)
    unhealthy = soap.health()

    # Then health says so without raising, and no secret is in what it says
    assert healthy["ok"] is True
    assert unhealthy["ok"] is False
    assert unhealthy["permanent"] is False
    assert not [secret for secret in secrets_in(sample_systems) if secret in str(unhealthy)]
