"""Fixtures for the connector tests: the sample legacy systems in-process on free loopback ports,
and connector objects configured as ``load_demo_connectors`` configures them (unsaved rows: a
connector needs its configuration, not the database)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from integration.connectors.base import BaseConnector, connector_for
from integration.connectors.models import Connector
from integration.connectors.rest import client as rest_client
from integration.sample_systems import demo
from integration.sample_systems.testing import SampleSystems


@pytest.fixture(scope="module", name="sample_systems")
def sample_systems_fixture(tmp_path_factory) -> Iterator[SampleSystems]:
    systems = SampleSystems.start(tmp_path_factory.mktemp("sample-secrets"))
    yield systems
    systems.stop()


@pytest.fixture(autouse=True)
def _well_behaved(request) -> Iterator[None]:
    """Every test starts with the systems healthy and no OAuth2 token cached."""
    rest_client._tokens.clear()
    yield
    if "sample_systems" in request.fixturenames:
        request.getfixturevalue("sample_systems").reset()


def connector(config: dict[str, Any], **overrides: Any) -> BaseConnector:
    settings = {**config.get("settings", {}), **overrides.pop("settings", {})}
    fields = {**config, **overrides, "settings": settings}
    return connector_for(Connector(**fields))


def secrets_in(systems: SampleSystems) -> list[str]:
    return [systems.secrets.billing_password, systems.secrets.orders_api_key, systems.secrets.orders_client_secret]


def rest_config(systems: SampleSystems, **kwargs: Any) -> dict[str, Any]:
    return demo.rest_connector(base_url=systems.orders_server.url, secrets_folder=systems.secrets.folder, **kwargs)


def soap_config(systems: SampleSystems, **kwargs: Any) -> dict[str, Any]:
    return demo.soap_connector(base_url=systems.billing_server.url, secrets_folder=systems.secrets.folder, **kwargs)


def worker_suffix() -> str:
    """A name part per pytest-xdist worker, so that parallel workers never share a database."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")
