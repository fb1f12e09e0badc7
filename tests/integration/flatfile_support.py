"""Helpers of the flat-file and sync tests (not collected as tests)."""

from __future__ import annotations

from pathlib import Path

from integration.connectors.models import Connector, ConnectorKind
from integration.sample_systems import customer_master
from records.customers.models import Customer
from records.holdings.models import Holding, SourceRecord
from tests.integration.factories import ConnectorFactory


def flatfile_connector(
    folder: Path, *, name: str = "custmast", system: str = "customer_master", **settings
) -> Connector:
    """A flat-file connector reading the sample customer-master extracts from ``folder``."""
    return ConnectorFactory(
        name=name,
        kind=ConnectorKind.FLATFILE,
        system=system,
        settings=customer_master.connector_settings(folder, **settings),
        mappings=customer_master.MAPPINGS,
    )


def drop_extract(
    folder: Path, customers: int, *, first: int = 0, bad_every: int = 0, day: int = 23
) -> customer_master.Extract:
    """A customer-master extract of ``customers`` (not the demo's people) in ``folder``."""
    return customer_master.write_extract(
        folder / f"CUSTMAST202611{day:02d}.dat", customers, first=first, bad_every=bad_every, demo=False
    )


def loaded_state(system: str = "customer_master") -> dict:
    """What records hold from ``system``: counts of customers, source records and holdings."""
    return {
        "customers": Customer.objects.filter(source_records__system=system).count(),
        "all_customers": Customer.objects.count(),
        "source_records": SourceRecord.objects.filter(system=system).count(),
        "holdings": Holding.objects.filter(system=system).count(),
    }
