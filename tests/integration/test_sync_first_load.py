"""The first-load path of a large fixed-width extract: worker processes, a staging COPY, set-wise merges.

Each test loads a small extract by the first-load path (``CEA_SYNC_FIRST_LOAD_MIN_BYTES=0``,
two worker processes, ranges of a few lines so that several workers share the file) and, where
it says so, by the page-by-page path, against the real database.
"""

from __future__ import annotations

import logging

import pytest
from django.apps import apps
from django.db import transaction

from integration.sample_systems import customer_master
from integration.sync import firstload
from integration.sync.models import ProcessedFile, SyncFailure
from integration.sync.services import connector_sync
from records.customers.models import Customer
from records.holdings.models import Holding, SourceRecord
from records.holdings.services import fields_checksum
from records.identities.models import Identity
from records.journey.models import JourneyEvent
from tests.integration.flatfile_support import drop_extract, flatfile_connector

pytestmark = pytest.mark.django_db
CustomerEvent = apps.get_model("records", "CustomerEvent")
IdentityEvent = apps.get_model("records", "IdentityEvent")
WRITTEN = (Customer, Identity, Holding, JourneyEvent, CustomerEvent, IdentityEvent, SourceRecord)
TRACKED = ["given_name", "family_name", "email", "phone", "search_name", "status", "value_tier", "date_of_birth"]


@pytest.fixture
def first_load(settings, monkeypatch):
    """The first-load path for every fixed-width file, two workers, ranges of about 20 lines."""
    settings.CEA_SYNC_FIRST_LOAD_MIN_BYTES = 0
    settings.CEA_SYNC_FIRST_LOAD_WORKERS = 2
    monkeypatch.setattr(firstload, "RANGE_BYTES", 20 * (customer_master.RECORD_LENGTH + 1))


def _holding_checksum_right(holding: Holding) -> bool:
    values = {
        "name": holding.name,
        "status": holding.status,
        "amount": holding.amount,
        "currency": holding.currency,
        "as_of": holding.as_of,
        "data": holding.data,
    }
    return holding.checksum == fields_checksum(fields={"customer": holding.customer_id, **values})


def _state(system: str = "customer_master") -> dict:
    """What records hold from ``system``, without ids and times: customers by their source id."""
    customers = {}
    for record in SourceRecord.objects.filter(system=system).select_related("customer"):
        customer = record.customer
        customers[record.external_id] = {
            "checksum": record.checksum,
            "profile": [getattr(customer, name) for name in TRACKED] + [customer.postcode, customer.segment],
            "identities": sorted(
                Identity.objects.filter(customer=customer).values_list("kind", "value", "label", "is_primary")
            ),
            "holdings": sorted(
                (h.kind, h.external_id, h.name, h.status, str(h.amount), h.currency, _holding_checksum_right(h))
                for h in Holding.objects.filter(customer=customer)
            ),
            "journey": sorted(
                (event.kind, event.summary, str(sorted(event.payload.items())), event.source_system)
                for event in JourneyEvent.objects.filter(customer=customer)
            ),
            "customer_audit": sorted(
                (event.pgh_label, str([getattr(event, name) for name in TRACKED]), str(event.pgh_context.metadata))
                for event in CustomerEvent.objects.filter(pgh_obj_id=customer.pk).select_related("pgh_context")
            ),
            "identity_audit": sorted(
                (event.pgh_label, event.kind, event.value, event.label, str(event.pgh_context.metadata))
                for event in IdentityEvent.objects.filter(customer_id=customer.pk).select_related("pgh_context")
            ),
        }
    return customers


def _bookkeeping(run, connector) -> dict:
    processed = ProcessedFile.objects.get(connector=connector)
    connector.refresh_from_db()
    return {
        "run": (run.status, run.read, run.created, run.updated, run.unchanged, run.failed),
        "file": (processed.lines, processed.loaded, processed.bad_lines, processed.completed_at is not None),
        "watermark": (connector.watermark == f"{processed.sha256}:{processed.lines}", run.watermark_to),
        "failures": sorted(
            (failure.record_key, failure.reason, str(failure.payload), failure.permanent)
            for failure in SyncFailure.objects.filter(run=run)
        ),
    }


def test_the_first_load_path_writes_what_the_page_path_writes(tmp_path, settings, first_load, caplog):
    # Given an extract of 120 customers with every 20th line spoiled (unreadable fields, no name …)
    extract = drop_extract(tmp_path, 120, bad_every=20)
    connector = flatfile_connector(tmp_path, page_size=1000)

    # When it is loaded page by page (in a savepoint rolled back afterwards), then by the first-load path
    settings.CEA_SYNC_FIRST_LOAD_MIN_BYTES = 10**12
    savepoint = transaction.savepoint()
    paged_run = connector_sync(connector_id=connector.pk, trigger="on_demand")
    paged, paged_books = _state(), _bookkeeping(paged_run, connector)
    transaction.savepoint_rollback(savepoint)
    assert not SourceRecord.objects.exists()
    settings.CEA_SYNC_FIRST_LOAD_MIN_BYTES = 0
    with caplog.at_level(logging.INFO, logger="integration.sync.firstload"):
        first_run = connector_sync(connector_id=connector.pk, trigger="on_demand")

    # Then it went by the first-load path, and records hold the same customers, identities,
    # holdings, journey events and audit rows, with the same run counts, dead letters and watermark
    assert "First load of CUSTMAST20261123.dat" in caplog.text
    fast, fast_books = _state(), _bookkeeping(first_run, connector)
    assert len(fast) == 114
    assert fast == paged
    assert fast_books["failures"] == paged_books["failures"]
    assert fast_books == {**paged_books, "watermark": (True, fast_books["watermark"][1])}
    assert fast_books["run"] == ("partial", 120, 114, 0, 0, 6)
    # and each bad line is a dead letter named by its line number (the header is line 1)
    assert [key for key, *_ in fast_books["failures"]] == sorted(
        f"CUSTMAST20261123.dat:{number}" for number, _ in extract.bad_lines
    )
    reasons = dict((key, reason) for key, reason, *_ in fast_books["failures"])
    assert reasons["CUSTMAST20261123.dat:21"] == "BALANCE: '00012X4567{' is not a signed number"
    assert reasons["CUSTMAST20261123.dat:101"].startswith("A customer needs a name.")


def test_loading_the_same_lines_again_changes_nothing(tmp_path, first_load):
    # Given an extract loaded by the first-load path
    drop_extract(tmp_path, 60, bad_every=20)
    connector = flatfile_connector(tmp_path)
    connector_sync(connector_id=connector.pk, trigger="on_demand")
    before = _state()
    counts = [
        model.objects.count() for model in (Customer, Identity, Holding, JourneyEvent, CustomerEvent, IdentityEvent)
    ]

    # When the same lines arrive again in a new file (another header date: another file to the connector)
    lines = (tmp_path / "CUSTMAST20261123.dat").read_text(encoding="latin-1").splitlines(keepends=True)
    lines[0] = lines[0].replace("20261123", "20261124")
    (tmp_path / "CUSTMAST20261124.dat").write_text("".join(lines), encoding="latin-1")
    run = connector_sync(connector_id=connector.pk, trigger="on_demand")

    # Then every good line is unchanged, the bad ones are reported again, and nothing was written
    assert (run.read, run.created, run.updated, run.unchanged, run.failed) == (60, 0, 0, 57, 3)
    assert _state() == before
    assert [
        model.objects.count() for model in (Customer, Identity, Holding, JourneyEvent, CustomerEvent, IdentityEvent)
    ] == counts


def test_repeated_lines_and_shared_phones_load_as_lines_in_order_would(tmp_path, first_load):
    # Given an extract where a customer's line comes twice, the second time with a new surname,
    # and a third customer gives the first one's phone number
    extract = drop_extract(tmp_path, 30)
    path = extract.path
    lines = path.read_text(encoding="latin-1").splitlines(keepends=True)
    at = customer_master._AT
    first, third = lines[1], lines[3]
    changed = first[: at["LAST-NAME"][0]] + "Newname".ljust(25) + first[at["LAST-NAME"][1] :]
    third = third[: at["PHONE"][0]] + first[at["PHONE"][0] : at["PHONE"][1]] + third[at["PHONE"][1] :]
    lines[3] = third
    lines.insert(20, changed)
    path.write_text("".join(lines), encoding="latin-1")
    connector = flatfile_connector(tmp_path)

    # When it loads by the first-load path
    run = connector_sync(connector_id=connector.pk, trigger="on_demand")

    # Then the repeated customer is created once and updated by its later line, and the third
    # customer has no phone (it identifies the first already)
    assert (run.read, run.created, run.updated, run.unchanged, run.failed) == (31, 30, 1, 0, 0)
    state = _state()
    assert len(state) == 30
    first_customer = Customer.objects.get(source_records__external_id="CUST000000")
    assert first_customer.family_name == "Newname"
    third_customer = Customer.objects.get(source_records__external_id="CUST000002")
    assert third_customer.phone == ""
    assert not Identity.objects.filter(customer=third_customer, kind="phone").exists()
    assert "phone" not in [kind for kind, *_ in state["CUST000002"]["identities"]]
