"""Back-ends that share the customer master's numbers: billing's holdings and the aggregated view
find the customer through the customer master's source record (``settings["customer_system"]``)."""

from __future__ import annotations

import pytest

from integration.aggregation.aggregate import customer_aggregate
from integration.sample_systems import demo, seed
from integration.sample_systems.customer_db import legacy_database_create
from integration.sync.services import connector_sync
from records.holdings.models import Holding, SourceRecord
from tests.integration.factories import ConnectorFactory
from tests.integration.sample_systems_support import (  # noqa: F401 - fixtures
    _well_behaved,
    sample_systems_fixture,
    soap_config,
)

pytestmark = pytest.mark.django_db

PEOPLE = 5


@pytest.fixture
def customer_master(tmp_path):
    """The legacy customer database (SQLite) with the first sample customers, as a connector."""
    url = f"sqlite:///{tmp_path / 'customers.sqlite3'}"
    legacy_database_create(url, seed.demo_people(PEOPLE)).dispose()
    return ConnectorFactory(**demo.sql_connector(url=url), cache_seconds=0)


def test_billing_holdings_and_the_view_find_customers_by_the_masters_number(customer_master, sample_systems):
    # Given: the customer master loaded into records, and billing keyed by the master's numbers
    connector_sync(connector_id=customer_master.pk, trigger="on_demand")
    billing = ConnectorFactory(**soap_config(sample_systems), timeout_seconds=3.0, cache_seconds=0)
    assert billing.settings["customer_system"] == "customer-db"
    linked = SourceRecord.objects.get(system="customer-db", external_id=seed.customer_number(1))
    # When billing is synced
    run = connector_sync(connector_id=billing.pk, trigger="on_demand")
    # Then its holdings of the master's customers are on those customers, under billing's name
    held = Holding.objects.filter(system="billing", customer=linked.customer)
    assert held.exists()
    assert not run.failures.filter(record_key__in=held.values_list("external_id", flat=True)).exists()
    assert not SourceRecord.objects.filter(system="billing").exists()
    # And the aggregated view asks billing for that customer by the master's number
    part = customer_aggregate(linked.customer).part("billing")
    assert (part.status, part.external_id) == ("ok", seed.customer_number(1))
