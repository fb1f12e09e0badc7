"""Loading source records into records: customers found again by their source record, holdings, batches."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.apps import apps

from cea.common.errors import ValidationFailed
from records.customers.models import Customer
from records.holdings.models import Holding, SourceRecord
from records.holdings.selectors import customer_by_source, holdings_of_customer
from records.holdings.services import (
    SourceRow,
    holding_upsert,
    source_customer_upsert,
    source_customers_load,
)
from records.identities.models import Identity
from records.journey.models import JourneyEvent
from tests.support import make_customer

pytestmark = pytest.mark.django_db
CustomerEvent = apps.get_model("records", "CustomerEvent")  # pghistory's audit rows

ALICE = {
    "external_id": "C1",
    "given_name": "Alice",
    "family_name": "Moss",
    "email": "Alice.Moss@Example.com",
    "phone": "07400 900123",
    "account_number": "acc-0001",
    "postcode": "LS1 4AB",
}


def test_first_sight_creates_the_customer_with_identities_and_one_story():
    # When a source record is loaded for the first time
    customer, outcome = source_customer_upsert(system="master", external_id="C1", fields=ALICE)

    # Then one customer exists with its identities, its source record and a journey event
    assert outcome == "created"
    assert (customer.given_name, customer.family_name, customer.email, customer.phone) == (
        "Alice",
        "Moss",
        "alice.moss@example.com",
        "+447400900123",
    )
    assert set(customer.identities.values_list("kind", "value")) == {
        ("email", "alice.moss@example.com"),
        ("phone", "+447400900123"),
        ("account", "ACC0001"),
    }
    assert SourceRecord.objects.get(system="master", external_id="C1").customer == customer
    assert customer.journey_events.filter(kind="customer.created", source_system="master").count() == 1


def test_the_same_record_twice_changes_nothing():
    customer, _ = source_customer_upsert(system="master", external_id="C1", fields=ALICE)
    events = JourneyEvent.objects.count()
    audit = CustomerEvent.objects.count()

    again, outcome = source_customer_upsert(system="master", external_id="C1", fields=dict(ALICE))

    assert outcome == "unchanged"
    assert again.pk == customer.pk
    assert Customer.objects.count() == 1
    assert JourneyEvent.objects.count() == events
    assert CustomerEvent.objects.count() == audit


def test_a_changed_record_updates_the_same_customer_and_blanks_do_not_erase():
    customer, _ = source_customer_upsert(system="master", external_id="C1", fields=ALICE)

    updated, outcome = source_customer_upsert(
        system="master", external_id="C1", fields={**ALICE, "family_name": "Moss-Hill", "postcode": ""}
    )

    assert outcome == "updated"
    assert updated.pk == customer.pk
    customer.refresh_from_db()
    assert (customer.family_name, customer.postcode) == ("Moss-Hill", "LS1 4AB")
    assert customer.journey_events.filter(kind="customer.updated").count() == 1


def test_an_identifier_of_another_customer_is_skipped_and_reported():
    # Given a customer the CEA knows, with the phone a source also gives another person
    other = make_customer(given_name="Bob", family_name="Other", phone="+447400900123")

    # When the source record is loaded
    upsert = source_customer_upsert(
        system="master", external_id="C1", fields={**ALICE, "email": "", "account_number": ""}
    )

    # Then a new customer is made without that phone, and the skip is reported
    customer, outcome = upsert
    assert outcome == "created"
    assert customer.pk != other.pk
    assert customer.phone == ""
    assert upsert.skipped == [f"phone +447400900123 identifies customer {other.pk}"]
    assert Identity.objects.get(kind="phone", value="+447400900123").customer == other


def test_a_customer_known_by_account_number_is_linked_not_duplicated():
    known = make_customer(given_name="Alice", family_name="Moss", identities=[{"kind": "account", "value": "ACC0001"}])

    customer, outcome = source_customer_upsert(system="master", external_id="C1", fields=ALICE)

    assert outcome == "updated"
    assert customer.pk == known.pk
    assert Customer.objects.count() == 1
    assert customer_by_source(system="master", external_id="C1") == known


def test_a_record_without_a_name_is_refused():
    with pytest.raises(ValidationFailed, match="A customer needs a name"):
        source_customer_upsert(system="master", external_id="C9", fields={"external_id": "C9", "email": "x@y.com"})
    assert not SourceRecord.objects.exists()


def test_holding_upsert_creates_updates_and_sees_unchanged():
    customer = make_customer()
    fields = {"name": "Current account", "amount": "12.30", "currency": "gbp", "as_of": "2026-11-20"}

    holding, first = holding_upsert(system="master", customer=customer, kind="account", external_id="A1", fields=fields)
    _, second = holding_upsert(system="master", customer=customer, kind="account", external_id="A1", fields=fields)
    _, third = holding_upsert(
        system="master", customer=customer, kind="account", external_id="A1", fields={**fields, "amount": "-5"}
    )

    assert (first, second, third) == ("created", "unchanged", "updated")
    holding.refresh_from_db()
    assert (holding.amount, holding.currency) == (Decimal("-5.00"), "GBP")
    assert list(holdings_of_customer(customer=customer)) == [holding]


def test_holding_refuses_an_unknown_kind_and_a_bad_amount():
    customer = make_customer()

    with pytest.raises(ValidationFailed) as refused:
        holding_upsert(system="m", customer=customer, kind="boat", external_id="B1", fields={"amount": "lots"})

    assert set(refused.value.fields) == {"kind", "amount"}


def _rows(count: int, *, start: int = 0, balance: str = "10.00") -> list[SourceRow]:
    return [
        SourceRow(
            external_id=f"C{i}",
            fields={
                "external_id": f"C{i}",
                "given_name": "Pat",
                "family_name": f"Number{i}",
                "email": f"pat{i}@example.com",
                "phone": f"+4474{i:08d}",
                "account_number": f"ACC{i:08d}",
            },
            holdings=[{"kind": "account", "external_id": f"ACC{i:08d}", "amount": balance, "currency": "GBP"}],
        )
        for i in range(start, start + count)
    ]


def test_a_batch_loads_new_customers_set_wise_with_identities_holdings_and_one_event_each():
    outcomes = source_customers_load(system="master", rows=_rows(50))

    assert [outcome.outcome for outcome in outcomes] == ["created"] * 50
    assert Customer.objects.count() == 50
    assert Identity.objects.count() == 150
    assert Holding.objects.filter(system="master", amount=Decimal("10.00")).count() == 50
    assert JourneyEvent.objects.filter(kind="customer.created").count() == 50
    # The audit triggers recorded each insert.
    assert CustomerEvent.objects.filter(pgh_label="insert").count() == 50
    customer = customer_by_source(system="master", external_id="C7")
    assert customer.search_name == "pat number7"
    assert customer.holdings.get().external_id == "ACC00000007"


def test_a_batch_twice_changes_nothing_and_a_changed_row_updates():
    source_customers_load(system="master", rows=_rows(20))
    rows = _rows(20)
    rows[3] = _rows(1, start=3, balance="99.99")[0]

    outcomes = source_customers_load(system="master", rows=rows)

    assert [outcome.outcome for outcome in outcomes].count("unchanged") == 19
    assert outcomes[3].outcome == "updated"
    assert Customer.objects.count() == 20
    assert Holding.objects.get(external_id="ACC00000003").amount == Decimal("99.99")


def test_a_batch_reports_refused_rows_and_loads_the_rest():
    rows = _rows(3)
    rows[1].fields["given_name"] = rows[1].fields["family_name"] = ""
    rows[2].fields["email"] = "not-an-email"

    outcomes = source_customers_load(system="master", rows=rows)

    assert [outcome.outcome for outcome in outcomes] == ["created", "failed", "failed"]
    assert outcomes[1].reason.startswith("A customer needs a name.")
    assert "email" in outcomes[2].reason
    assert Customer.objects.count() == 1


def test_a_batch_links_known_customers_and_skips_taken_identifiers():
    known = make_customer(given_name="Pat", family_name="Known", email="pat0@example.com")
    other = make_customer(given_name="Sam", family_name="Other", phone="+447400000001")

    outcomes = source_customers_load(system="master", rows=_rows(2))

    assert [outcome.outcome for outcome in outcomes] == ["updated", "created"]
    assert customer_by_source(system="master", external_id="C0") == known
    assert outcomes[1].skipped == [f"phone +447400000001 identifies customer {other.pk}"]
    assert Customer.objects.count() == 3


def test_a_batch_keeps_backslashes_tabs_and_quotes_in_values():
    rows = _rows(1)
    rows[0].fields["given_name"] = "Mary\tJo"
    rows[0].fields["family_name"] = "O'Brien \\ Smith"

    source_customers_load(system="master", rows=rows)

    customer = customer_by_source(system="master", external_id="C0")
    assert (customer.given_name, customer.family_name) == ("Mary\tJo", "O'Brien \\ Smith")
    assert customer.journey_events.get().summary == "Customer Mary\tJo O'Brien \\ Smith created"
