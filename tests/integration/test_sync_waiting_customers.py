"""Holdings that arrive before their customer: billing keyed by the customer master's numbers, synced
before the customer master. They wait (no human needed) and load once the customer is in records;
a customer who never arrives leaves a dead letter with the reason once the attempts are used up."""

from __future__ import annotations

import pytest
from django.db.models import Sum

from integration.connectors.base import connector_for
from integration.connectors.models import Connector
from integration.sample_systems import demo, seed
from integration.sample_systems.customer_db import legacy_database_create
from integration.sample_systems.testing import TEST_CUSTOMERS
from integration.sync import tasks
from integration.sync.models import RunStatus, RunTrigger, SyncFailure, SyncRun
from integration.sync.services import (
    CUSTOMER_WAIT_ATTEMPTS,
    connector_sync,
    page_load,
    sync_run_finish,
    sync_run_start,
)
from records.holdings.models import Holding
from tests.integration.factories import ConnectorFactory
from tests.integration.sample_systems_support import (  # noqa: F401 - fixtures
    _well_behaved,
    sample_systems_fixture,
    soap_config,
)

pytestmark = pytest.mark.django_db


def customer_master(tmp_path, people: int) -> Connector:
    """The legacy customer database (SQLite) with the first ``people`` sample customers, as a connector."""
    url = f"sqlite:///{tmp_path / 'customers.sqlite3'}"
    legacy_database_create(url, seed.demo_people(people)).dispose()
    return ConnectorFactory(**demo.sql_connector(url=url), cache_seconds=0)


def billing_of(sample_systems) -> Connector:
    return ConnectorFactory(**soap_config(sample_systems), timeout_seconds=3.0, cache_seconds=0)


def open_failures(connector: Connector):
    return SyncFailure.objects.filter(connector=connector, resolved_at=None)


def test_holdings_that_arrive_before_their_customers_load_after_the_customer_sync(tmp_path, sample_systems):
    # Given: billing synced before the customer master has brought anyone in
    master, billing = customer_master(tmp_path, TEST_CUSTOMERS), billing_of(sample_systems)
    first = connector_sync(connector_id=billing.pk, trigger="on_demand")
    assert (first.status, first.created, first.failed) == (RunStatus.PARTIAL, 0, first.read)
    assert first.read > TEST_CUSTOMERS
    waiting = open_failures(billing)
    assert waiting.count() == first.read
    assert set(waiting.values_list("permanent", "attempts")) == {(False, 1)}

    # When the customer master's nightly sync task runs, and nobody touches the dead-letter list
    result = tasks.run.apply(args=[master.pk, "schedule"]).get()
    assert result["status"] == RunStatus.SUCCEEDED

    # Then every holding is on its customer, the dead-letter list is empty, and each counts once
    assert not open_failures(billing).exists()
    assert Holding.objects.filter(system="billing").count() == first.read
    replay = SyncRun.objects.get(connector=billing, trigger=RunTrigger.REPLAY)
    assert (replay.status, replay.read, replay.created, replay.failed) == (
        RunStatus.SUCCEEDED,
        first.read,
        first.read,
        0,
    )
    assert SyncFailure.objects.filter(connector=billing, resolved_by_run=replay).count() == first.read
    assert SyncRun.objects.filter(connector=billing).aggregate(created=Sum("created")) == {"created": first.read}
    owner = Holding.objects.filter(system="billing").select_related("customer").first().customer
    assert owner.source_records.filter(system="customer-db").exists()

    # And running both again changes nothing: no second replay, no duplicate holding
    connector_sync(connector_id=master.pk, trigger="schedule")
    connector_sync(connector_id=billing.pk, trigger="schedule")
    assert SyncRun.objects.filter(connector=billing, trigger=RunTrigger.REPLAY).count() == 1
    assert Holding.objects.filter(system="billing").count() == first.read


def test_a_holding_whose_customer_never_arrives_becomes_a_dead_letter_after_the_attempts(tmp_path, sample_systems):
    # Given: the customer master knows the first 5 customers only; billing is synced first
    master, billing = customer_master(tmp_path, 5), billing_of(sample_systems)
    first = connector_sync(connector_id=billing.pk, trigger="on_demand")
    orphan_key = (
        SyncFailure.objects.filter(connector=billing, payload__fields__customer_external_id=seed.customer_number(7))
        .order_by("pk")
        .first()
        .record_key
    )

    # When the customer master runs, once and then until the attempts are used up
    connector_sync(connector_id=master.pk, trigger="schedule")
    loaded = Holding.objects.filter(system="billing").count()
    orphan = SyncFailure.objects.get(connector=billing, record_key=orphan_key)
    assert (orphan.permanent, orphan.attempts, orphan.resolved_at) == (False, 2, None)
    for _ in range(CUSTOMER_WAIT_ATTEMPTS - 2):
        connector_sync(connector_id=master.pk, trigger="schedule")

    # Then the 5 customers' holdings loaded; the others are dead letters for a human, with the reason
    assert 0 < loaded < first.read
    assert open_failures(billing).count() == first.read - loaded
    orphan.refresh_from_db()
    assert (orphan.permanent, orphan.attempts, orphan.resolved_at) == (True, CUSTOMER_WAIT_ATTEMPTS, None)
    assert orphan.reason == (
        f"No customer 'CUST000007' from customer-db in records after {CUSTOMER_WAIT_ATTEMPTS} attempts "
        "(its first load and each run of customer-db since): no longer retried automatically; "
        "replay it once the customer is in records."
    )
    assert set(open_failures(billing).values_list("permanent", "attempts")) == {(True, CUSTOMER_WAIT_ATTEMPTS)}
    # And further runs leave them alone
    connector_sync(connector_id=master.pk, trigger="schedule")
    assert set(open_failures(billing).values_list("attempts", flat=True)) == {CUSTOMER_WAIT_ATTEMPTS}
    assert Holding.objects.filter(system="billing").count() == loaded


def test_an_item_read_again_while_it_waits_keeps_one_failure(tmp_path, sample_systems):
    # Given billing synced before its customers, then read again from the start (the source resends)
    customer_master(tmp_path, TEST_CUSTOMERS)
    billing = billing_of(sample_systems)
    first = connector_sync(connector_id=billing.pk, trigger="on_demand")
    Connector.objects.filter(pk=billing.pk).update(watermark="")

    # When billing runs again before the customer master
    second = connector_sync(connector_id=billing.pk, trigger="schedule")

    # Then each item still has one failure, waiting, with its first attempt only
    assert second.failed == first.read
    assert SyncFailure.objects.filter(connector=billing).count() == first.read
    assert set(open_failures(billing).values_list("run", "permanent", "attempts")) == {(first.pk, False, 1)}


def test_the_holdings_own_next_run_loads_them_once_their_customers_came_another_way(tmp_path, sample_systems):
    # Given billing's holdings waiting, and the customers loaded by a run that retried nothing
    # (as when billing was busy when the customer master ended)
    master, billing = customer_master(tmp_path, TEST_CUSTOMERS), billing_of(sample_systems)
    first = connector_sync(connector_id=billing.pk, trigger="on_demand")
    run = sync_run_start(connector=master)
    reader = connector_for(master)
    for page in reader.fetch_since(""):
        page_load(run=run, connector=reader, page=page)
    sync_run_finish(run=run)
    assert open_failures(billing).count() == first.read

    # When billing's next scheduled run ends (with nothing new to read)
    second = connector_sync(connector_id=billing.pk, trigger="schedule")

    # Then it loaded what waited, in one replay run, and the list is empty
    assert second.read == 0
    assert not open_failures(billing).exists()
    replay = SyncRun.objects.get(connector=billing, trigger=RunTrigger.REPLAY)
    assert (replay.read, replay.created, replay.failed) == (first.read, first.read, 0)


def test_the_dead_letter_list_says_which_items_wait_for_their_customer(client, admin_user, tmp_path, sample_systems):
    billing = billing_of(sample_systems)
    connector_sync(connector_id=billing.pk, trigger="on_demand")
    client.force_login(admin_user)

    listing = client.get("/admin/integration/syncfailure/")

    assert listing.status_code == 200
    assert f"waiting for its customer (attempt 1 of {CUSTOMER_WAIT_ATTEMPTS})".encode() in listing.content
