"""What every integration test shares: its own key prefix and channel layer on the shared Redis
(circuit breakers, the aggregated view's cache, Celery's eager sends all live there)."""

from __future__ import annotations

import pytest

from tests.support import isolated_redis


@pytest.fixture(autouse=True)
def _redis(settings):
    yield from isolated_redis(settings)


@pytest.fixture(autouse=True)
def _connector_secrets_in_pytests_folder(settings, tmp_path_factory):
    """The sample systems' secrets, and the tests' wrong ones, are files under pytest's temporary
    folder: that is where connectors may read secrets from (CEA_CONNECTOR_SECRET_DIR)."""
    settings.CEA_CONNECTOR_SECRET_DIR = str(tmp_path_factory.getbasetemp())
