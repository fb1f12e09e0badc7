"""Audit rows of bulk inserts: written set-wise, the same as the per-row trigger writes."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction

from records.audit.bulk import audited_copy
from records.audit.context import audited
from records.customers.models import Customer
from records.holdings.services import SourceRow, source_customer_upsert, source_customers_load
from records.identities.models import Identity

pytestmark = pytest.mark.django_db
CustomerEvent = apps.get_model("records", "CustomerEvent")
IdentityEvent = apps.get_model("records", "IdentityEvent")
TRACKED = ["given_name", "family_name", "email", "phone", "search_name", "status", "value_tier"]


def _fields(number: int) -> dict:
    return {
        "external_id": f"C{number}",
        "given_name": "Pat",
        "family_name": f"Number{number}",
        "email": f"pat{number}@example.com",
        "phone": f"+4474{number:08d}",
        "account_number": f"ACC{number:08d}",
    }


def _audit_of(customer: Customer) -> tuple[list, list]:
    customer_events = [
        (event.pgh_label, [getattr(event, name) for name in TRACKED], event.pgh_context.metadata)
        for event in CustomerEvent.objects.filter(pgh_obj_id=customer.pk).select_related("pgh_context")
    ]
    identity_events = sorted(
        (event.pgh_label, event.kind, event.value, event.pgh_context.metadata["job"])
        for event in IdentityEvent.objects.filter(customer_id=customer.pk).select_related("pgh_context")
    )
    return customer_events, identity_events


def test_a_bulk_load_writes_the_audit_rows_a_one_at_a_time_load_writes():
    # Given one customer loaded one at a time (audited by pghistory's row triggers)
    single, _ = source_customer_upsert(system="master", external_id="C1", fields=_fields(1))
    # When another is loaded by the set-wise batch path
    (outcome,) = source_customers_load(system="master", rows=[SourceRow("C2", _fields(2))])
    batch = Customer.objects.get(pk=outcome.customer_id)

    # Then both have one insert event each for the customer and each identity, with the same context
    single_customer, single_identities = _audit_of(single)
    batch_customer, batch_identities = _audit_of(batch)
    assert [label for label, _, _ in batch_customer] == ["insert"]
    assert batch_customer[0][1] == [getattr(batch, name) for name in TRACKED]
    assert batch_customer[0][2] == single_customer[0][2] == {"job": "sync:master", "user": None}
    assert [(label, kind) for label, kind, _, _ in batch_identities] == [
        (label, kind) for label, kind, _, _ in single_identities
    ]
    assert {value for _, _, value, _ in batch_identities} == {"+447400000002", "pat2@example.com", "ACC00000002"}
    # and the rows' own columns are copied exactly
    identity = Identity.objects.get(customer=batch, kind="email")
    event = IdentityEvent.objects.get(pgh_obj_id=identity.pk)
    assert (event.value, event.label, event.is_primary, event.created_at) == (
        identity.value,
        identity.label,
        identity.is_primary,
        identity.created_at,
    )


def test_writes_after_the_block_are_audited_by_the_trigger_again():
    # Given a bulk insert under audited_copy
    with transaction.atomic(), audited(None, job="test"):
        customer = Customer.objects.create(given_name="Ann", family_name="Bulk")
        CustomerEvent.objects.filter(pgh_obj_id=customer.pk).delete()
        with audited_copy(Customer, [customer.pk]):
            pass  # the row exists already: the block only has to name it
        # When another customer is inserted in the same transaction, outside the block
        other = Customer.objects.create(given_name="Bo", family_name="After")

    # Then the named row got its event from the block, and the later one from the trigger
    assert CustomerEvent.objects.filter(pgh_obj_id=customer.pk, pgh_label="insert").count() == 1
    assert CustomerEvent.objects.filter(pgh_obj_id=other.pk, pgh_label="insert").count() == 1


def _insert_half_a_customer() -> None:
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO records_customer (given_name) VALUES ('Half')")  # misses NOT NULLs


def test_an_error_inside_the_block_leaves_neither_rows_nor_events_nor_the_trigger_off():
    # Given a bulk insert that fails half-way
    with pytest.raises(DatabaseError), transaction.atomic(), audited(None, job="test"), audited_copy(Customer, []):
        _insert_half_a_customer()

    # Then nothing of it is kept, and a later insert is audited by the trigger
    assert not Customer.objects.filter(given_name="Half").exists()
    customer = Customer.objects.create(given_name="Cy", family_name="Later")
    assert CustomerEvent.objects.filter(pgh_obj_id=customer.pk, pgh_label="insert").count() == 1


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_it_refuses_to_switch_the_trigger_off():
    with pytest.raises(RuntimeError, match="needs a transaction"), audited_copy(Customer, []):
        pass
