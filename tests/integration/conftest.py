"""What every integration test shares: its own key prefix and channel layer on the shared Redis
(circuit breakers, the aggregated view's cache, Celery's eager sends all live there)."""

from __future__ import annotations

import pytest

from tests.support import isolated_redis


@pytest.fixture(autouse=True)
def _redis(settings):
    yield from isolated_redis(settings)
