"""Sync runs of the flat-file connector: counts, bad lines, idempotency, resuming, dead letters, replay."""

from __future__ import annotations

import shutil
from decimal import Decimal

import psycopg
import pytest
from django.db import connection
from django_celery_beat.models import PeriodicTask

from cea.common.errors import ValidationFailed
from integration.connectors.base import ConnectorError, Page, SourceItem, connector_for
from integration.sync.models import ProcessedFile, RunStatus, SyncFailure, SyncRun
from integration.sync.schedules import connector_schedule_ensure
from integration.sync.services import (
    SyncBusy,
    connector_sync,
    page_load,
    sync_failures_replay,
    sync_run_start,
)
from records.customers.models import Customer
from records.holdings.models import Holding
from records.holdings.selectors import customer_by_source
from tests.integration.factories import ConnectorFactory, SyncRunFactory
from tests.integration.flatfile_support import drop_extract, flatfile_connector, loaded_state

pytestmark = pytest.mark.django_db


def test_a_run_loads_the_good_lines_and_reports_each_bad_line_by_number(tmp_path):
    # Given an extract of 300 customers with every 50th line spoiled
    extract = drop_extract(tmp_path, 300, bad_every=50)
    connector = flatfile_connector(tmp_path, page_size=100)

    # When the connector syncs
    run = connector_sync(connector_id=connector.pk, trigger="on_demand")

    # Then the good lines are customers with their account holdings, and each bad line is a dead letter
    assert (run.status, run.read, run.created, run.updated, run.unchanged, run.failed) == (
        RunStatus.PARTIAL,
        300,
        294,
        0,
        0,
        6,
    )
    assert loaded_state() == {"customers": 294, "all_customers": 294, "source_records": 294, "holdings": 294}
    failures = {f.record_key: f.reason for f in SyncFailure.objects.filter(run=run)}
    assert sorted(failures) == sorted(f"CUSTMAST20261123.dat:{number}" for number, _ in extract.bad_lines)
    assert [number for number, _ in extract.bad_lines] == [51, 101, 151, 201, 251, 301]
    assert failures["CUSTMAST20261123.dat:51"] == "BALANCE: '00012X4567{' is not a signed number"
    assert failures["CUSTMAST20261123.dat:101"] == "BIRTH-DATE: '19801341' is not a date (YYYYMMDD)"
    assert failures["CUSTMAST20261123.dat:151"] == "the line is 120 characters long; the layout needs 207"
    assert failures["CUSTMAST20261123.dat:201"] == "no customer id (external_id is empty)"
    assert failures["CUSTMAST20261123.dat:251"].startswith("A customer needs a name.")
    bad_line = SyncFailure.objects.get(record_key="CUSTMAST20261123.dat:51")
    assert len(bad_line.payload["text"]) == 207
    processed = ProcessedFile.objects.get(connector=connector)
    assert (processed.lines, processed.loaded, processed.bad_lines) == (302, 294, 6)
    assert processed.completed_at is not None and processed.run == run
    connector.refresh_from_db()
    assert connector.watermark == f"{processed.sha256}:302"
    assert run.watermark_to == connector.watermark and run.duration_seconds is not None


def test_money_and_dates_arrive_typed(tmp_path):
    drop_extract(tmp_path, 40)
    connector = flatfile_connector(tmp_path)

    connector_sync(connector_id=connector.pk)

    negative = Holding.objects.filter(system="customer_master", amount__lt=0).order_by("external_id").first()
    assert negative is not None and negative.currency == "GBP" and negative.kind == "account"
    customer = customer_by_source(system="customer_master", external_id="CUST000000")
    assert customer.date_of_birth is not None
    assert customer.identities.filter(kind="account", value="ACC00000000").exists()


def test_the_same_file_twice_changes_nothing_even_under_another_name(tmp_path):
    # Given an extract loaded once
    extract = drop_extract(tmp_path, 120, bad_every=40)
    connector = flatfile_connector(tmp_path)
    connector_sync(connector_id=connector.pk)
    before = loaded_state()
    failures = SyncFailure.objects.count()

    # When the connector syncs again, and the same file is dropped again under another name
    again = connector_sync(connector_id=connector.pk)
    shutil.copy(extract.path, tmp_path / "CUSTMAST20261123-resent.dat")
    resent = connector_sync(connector_id=connector.pk)

    # Then nothing is read or written
    for run in (again, resent):
        assert (run.status, run.read, run.created, run.updated, run.failed) == (RunStatus.SUCCEEDED, 0, 0, 0, 0)
    assert loaded_state() == before
    assert SyncFailure.objects.count() == failures
    assert ProcessedFile.objects.count() == 1


def test_the_same_page_twice_changes_nothing(tmp_path):
    # Given the first page of an extract, loaded once
    drop_extract(tmp_path, 60)
    config = flatfile_connector(tmp_path, page_size=25)
    connector = connector_for(config)
    page = next(iter(connector.fetch_since("")))
    first = page_load(run=SyncRunFactory(connector=config), connector=connector, page=page)
    before = (loaded_state(), Customer.objects.values_list("updated_at", flat=True).order_by("pk").last())

    # When the same page is loaded again (a retry after a lost acknowledgement)
    second = page_load(run=SyncRunFactory(connector=config), connector=connector, page=page)

    # Then every item is unchanged
    assert (first.read, first.created) == (24, 24)  # lines 1-25: the header and 24 customers
    assert (second.read, second.created, second.updated, second.unchanged) == (24, 0, 0, 24)
    assert (loaded_state(), Customer.objects.values_list("updated_at", flat=True).order_by("pk").last()) == before


def test_a_changed_extract_updates_only_what_changed(tmp_path):
    drop_extract(tmp_path, 50)
    connector = flatfile_connector(tmp_path)
    connector_sync(connector_id=connector.pk)
    # The next night's extract: the same 50 people, customer 7 renamed, and 10 new ones
    lines = (tmp_path / "CUSTMAST20261123.dat").read_text(encoding="latin-1").splitlines()
    lines[8] = lines[8][:13] + "Renamed".ljust(20) + lines[8][33:]  # FIRST-NAME: positions 14-33
    next_night = drop_extract(tmp_path, 10, first=50, day=24)
    detail = next_night.path.read_text(encoding="latin-1").splitlines()[1:-1]
    next_night.path.write_text("\n".join([*lines[:-1], *detail, lines[-1]]) + "\n", encoding="latin-1")

    run = connector_sync(connector_id=connector.pk)

    assert (run.read, run.created, run.updated, run.unchanged, run.failed) == (60, 10, 1, 49, 0)
    assert customer_by_source(system="customer_master", external_id="CUST000007").given_name == "Renamed"
    assert loaded_state()["customers"] == 60


def test_a_run_killed_half_way_resumes_after_its_last_committed_page(tmp_path):
    # Given a run that committed two pages of a 250-line extract, then its worker died
    extract = drop_extract(tmp_path, 250, bad_every=60)
    config = flatfile_connector(tmp_path, page_size=50)
    dead = sync_run_start(connector=config, trigger="schedule")
    connector = connector_for(config)
    connector.run_id = dead.pk
    pages = iter(connector.fetch_since(dead.watermark_from))
    for _ in range(2):
        page_load(run=dead, connector=connector, page=next(pages))
    _release_lock_as_a_dead_worker_would(config.pk)
    assert loaded_state()["customers"] == 98  # lines 2-101: 100 records, one of them spoiled (line 61)

    # When the next run starts
    run = connector_sync(connector_id=config.pk)

    # Then the dead run is superseded and the new one loads exactly the rest
    dead.refresh_from_db()
    assert dead.status == RunStatus.FAILED
    assert dead.errors == ["superseded: its worker stopped before the run ended"]
    assert (run.read, run.created, run.unchanged, run.failed) == (151, 148, 0, 3)  # lines 102-251
    assert loaded_state() == {"customers": 246, "all_customers": 246, "source_records": 246, "holdings": 246}
    keys = list(SyncFailure.objects.values_list("record_key", flat=True))
    assert sorted(keys) == sorted(f"CUSTMAST20261123.dat:{number}" for number, _ in extract.bad_lines)
    processed = ProcessedFile.objects.get()
    assert (processed.lines, processed.loaded, processed.bad_lines) == (252, 246, 4)


def _release_lock_as_a_dead_worker_would(connector_id: int) -> None:
    # A dead worker's connection closes and PostgreSQL drops its session lock; this test's
    # connection is the "worker", so it lets go itself.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock_all()")


def test_a_second_run_while_one_is_live_is_refused(tmp_path):
    # Given another worker (another database session) holding the connector's run lock
    config = flatfile_connector(tmp_path)
    settings = connection.settings_dict
    other = psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"],
        port=settings["PORT"],
        password=settings["PASSWORD"],
    )
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [0x5E11C, config.pk])

        # When a run is asked, then it is refused and no run is recorded
        with pytest.raises(SyncBusy):
            connector_sync(connector_id=config.pk)
        assert not SyncRun.objects.exists()
    finally:
        other.close()


def test_a_missing_drop_folder_fails_the_run_as_retryable_and_keeps_the_watermark(tmp_path):
    config = flatfile_connector(tmp_path / "not-mounted")
    config.watermark = "abc:10"
    config.save()

    with pytest.raises(ConnectorError) as failed:
        connector_sync(connector_id=config.pk)

    assert failed.value.permanent is False
    run = SyncRun.objects.get()
    assert run.status == RunStatus.FAILED
    assert run.errors[0].startswith("retryable: Connector custmast: the drop folder")
    config.refresh_from_db()
    assert config.watermark == "abc:10"


def test_a_switched_off_connector_does_not_sync(tmp_path):
    config = flatfile_connector(tmp_path)
    config.is_active = False
    config.save()

    with pytest.raises(ValidationFailed, match="switched off"):
        connector_sync(connector_id=config.pk)


def test_processed_files_can_be_moved_away(tmp_path):
    extract = drop_extract(tmp_path, 5)
    config = flatfile_connector(tmp_path, after="move")

    connector_sync(connector_id=config.pk)

    assert not extract.path.exists()
    assert (tmp_path / "processed" / extract.path.name).exists()


def test_replay_loads_dead_letters_once_the_layout_is_fixed(tmp_path):
    # Given a layout that wrongly reads balances as unsigned: lines with a negative balance fail
    drop_extract(tmp_path, 60, bad_every=30)  # line 31: a non-numeric balance; line 61: an impossible date
    config = flatfile_connector(tmp_path)
    layout = [dict(spec) for spec in config.settings["layout"]]
    balance = next(spec for spec in layout if spec["name"] == "BALANCE")
    balance["type"] = "PIC 9(9)V99"
    config.settings = {**config.settings, "layout": layout}
    config.save()
    first = connector_sync(connector_id=config.pk)
    negatives = SyncFailure.objects.filter(reason__startswith="BALANCE:").exclude(reason__contains="12X4567")
    assert negatives.count() == first.failed - 2 > 0
    loaded = loaded_state()["customers"]

    # When an admin fixes the layout and replays every dead letter
    balance["type"] = "PIC S9(9)V99"
    config.settings = {**config.settings, "layout": layout}
    config.save()
    (replay,) = sync_failures_replay(ids=SyncFailure.objects.values_list("pk", flat=True))

    # Then the negative balances load, and the truly bad lines stay open with one more attempt
    assert (replay.trigger, replay.status) == ("replay", RunStatus.PARTIAL)
    assert (replay.read, replay.created, replay.failed) == (first.failed, first.failed - 2, 2)
    assert loaded_state()["customers"] == loaded + first.failed - 2
    assert SyncFailure.objects.filter(resolved_at=None).count() == 2
    assert set(SyncFailure.objects.filter(resolved_at=None).values_list("attempts", flat=True)) == {2}
    assert SyncFailure.objects.exclude(resolved_at=None).filter(resolved_by_run=replay).count() == first.failed - 2
    assert Holding.objects.filter(amount__lt=0).exists()


def test_replay_of_an_item_the_records_refused(tmp_path):
    # Given a dead letter of a customer without a name
    drop_extract(tmp_path, 10, bad_every=2)  # the fifth spoiled line (line 11) has no name
    config = flatfile_connector(tmp_path)
    connector_sync(connector_id=config.pk)
    nameless = SyncFailure.objects.get(reason__startswith="A customer needs a name")
    assert nameless.payload["fields"]["external_id"] == "CUST000009"

    # When it is replayed unchanged, it fails again; when its source is corrected, it loads
    sync_failures_replay(ids=[nameless.pk])
    nameless.refresh_from_db()
    assert (nameless.resolved_at, nameless.attempts) == (None, 2)
    nameless.payload["fields"]["given_name"] = "Named"
    nameless.save()
    (replay,) = sync_failures_replay(ids=[nameless.pk])

    nameless.refresh_from_db()
    assert nameless.resolved_by_run == replay and nameless.attempts == 3
    assert customer_by_source(system="customer_master", external_id="CUST000009").given_name == "Named"


def test_schedule_from_settings_is_a_periodic_task_editable_in_beat(tmp_path):
    config = flatfile_connector(tmp_path, schedule_seconds=3600)

    task = connector_schedule_ensure(connector=config)

    assert (task.name, task.task, task.args, task.enabled) == (
        "integration: sync custmast",
        "integration.sync.run",
        f'[{config.pk}, "schedule"]',
        True,
    )
    assert (task.interval.every, task.interval.period) == (3600, "seconds")
    config.settings = {**config.settings, "schedule_seconds": 600}
    config.is_active = False
    updated = connector_schedule_ensure(connector=config)
    assert updated.pk == task.pk and updated.interval.every == 600 and updated.enabled is False
    config.settings = {**config.settings, "schedule_seconds": 0}
    assert connector_schedule_ensure(connector=config) is None
    assert not PeriodicTask.objects.filter(name="integration: sync custmast").exists()


def test_a_bad_schedule_is_refused(tmp_path):
    config = flatfile_connector(tmp_path, schedule_seconds="hourly")

    with pytest.raises(ValidationFailed, match="schedule_seconds"):
        connector_schedule_ensure(connector=config)


def test_a_page_of_customers_and_standalone_holdings_from_any_connector(tmp_path):
    # Given a page as an API connector yields it: a customer, their order, and an order of nobody known
    config = flatfile_connector(tmp_path, name="orders-api")
    page = Page(
        items=[
            SourceItem(
                kind="customer",
                key="customer:77",
                fields={"external_id": 77, "given_name": "Ann", "family_name": "Lee"},
            ),
            SourceItem(
                kind="holding",
                key="order:O-1",
                fields={
                    "customer_external_id": "77",
                    "kind": "order",
                    "external_id": "O-1",
                    "status": "dispatched",
                    "amount": "19.99",
                    "currency": "GBP",
                    "as_of": "2026-11-20T10:00:00+00:00",
                    "data": {"carrier": "DPD"},
                },
            ),
            SourceItem(
                kind="holding",
                key="order:O-2",
                fields={"customer_external_id": "99", "kind": "order", "external_id": "O-2"},
            ),
        ],
        watermark="2026-11-20T10:00:00Z",
    )
    run = SyncRunFactory(connector=config)

    # When the page is loaded
    counts = page_load(run=run, connector=connector_for(config), page=page)

    # Then the customer and their order are in records, and the orphan order is a dead letter
    assert (counts.read, counts.created, counts.failed) == (3, 2, 1)
    order = Holding.objects.get(external_id="O-1")
    assert order.customer == customer_by_source(system="customer_master", external_id="77")
    assert (order.status, str(order.amount), order.data) == ("dispatched", "19.99", {"carrier": "DPD"})
    failure = SyncFailure.objects.get()
    assert (failure.record_key, failure.reason) == (
        "order:O-2",
        "No customer '99' from customer_master in records yet.",
    )
    config.refresh_from_db()
    assert config.watermark == "2026-11-20T10:00:00Z"


def test_a_csv_drop_loads_by_header_names_and_reports_bad_rows_by_line(tmp_path):
    # Given a CSV export with a header, one unreadable balance and one row without a name
    (tmp_path / "crm-export.csv").write_text(
        "id,first,last,email,balance,born\n"
        "K1,Ann,Lee,ann@example.com,-12.50,1980-02-29\n"
        "K2,Bob,Ray,bob@example.com,abc,1975-01-01\n"
        "K3,,,cy@example.com,1.00,1990-05-05\n"
        "K4,Dee,Fox,,0.10,\n",
        encoding="utf-8",
    )
    config = ConnectorFactory(
        name="crm-csv",
        kind="flatfile",
        system="crm",
        settings={
            "folder": str(tmp_path),
            "pattern": "*.csv",
            "format": "csv",
            "layout": [
                {"name": "id"},
                {"name": "first"},
                {"name": "last"},
                {"name": "email"},
                {"name": "balance", "type": "PIC S9(7)V99"},
                {"name": "born", "type": "date", "format": "YYYY-MM-DD"},
            ],
            "holdings": [{"kind": "balance", "mappings": {"external_id": "id", "amount": "balance"}}],
        },
        mappings={"external_id": "id", "given_name": "first", "family_name": "last", "email": "email"},
    )

    # When it syncs
    run = connector_sync(connector_id=config.pk)

    # Then two customers load, and the bad rows are named by their line in the file
    assert (run.read, run.created, run.failed) == (4, 2, 2)
    assert sorted(SyncFailure.objects.values_list("record_key", "reason")) == [
        ("crm-export.csv:3", "balance: 'abc' is not a signed number"),
        ("crm-export.csv:4", "A customer needs a name. family_name: Give a name."),
    ]
    ann = customer_by_source(system="crm", external_id="K1")
    assert ann.holdings.get().amount == Decimal("-12.50")
    assert customer_by_source(system="crm", external_id="K4").email == ""


def test_health_says_whether_the_drop_folder_is_there(tmp_path):
    drop_extract(tmp_path, 3)

    assert connector_for(flatfile_connector(tmp_path)).health()["files_waiting"] == 1
    missing = connector_for(flatfile_connector(tmp_path / "gone", name="gone")).health()
    assert missing["ok"] is False and "is not there" in missing["error"]
