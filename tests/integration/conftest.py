"""What every integration test shares: its own key prefix and channel layer on the shared Redis
(circuit breakers, the aggregated view's cache, Celery's eager sends all live there), and the
loopback back-ends of the aggregated view's tests (``aggregate_support``)."""

from __future__ import annotations

import pytest
import redis

from tests.integration.aggregate_support import BALANCE, Backend
from tests.integration.hooks_loopback import WEBHOOK_SECRET, LegacyBackend, WebhookReceiver
from tests.support import isolated_redis


@pytest.fixture(autouse=True)
def _redis(settings):
    yield from isolated_redis(settings)


@pytest.fixture(autouse=True)
def _connector_secrets_in_pytests_folder(settings, tmp_path_factory):
    """The sample systems' secrets, and the tests' wrong ones, are files under pytest's temporary
    folder: that is where connectors may read secrets from (CEA_CONNECTOR_SECRET_DIR)."""
    settings.CEA_CONNECTOR_SECRET_DIR = str(tmp_path_factory.getbasetemp())


@pytest.fixture
def raw_redis(settings):
    """A client of the tests' Redis, to read or plant keys (breakers, the aggregate cache) directly."""
    client = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def backends():
    """Loopback back-ends made by name (``backends("crm")``), each stopped after the test."""
    made: list[Backend] = []

    def make(name: str) -> Backend:
        made.append(Backend(name))
        return made[-1]

    yield make
    for backend in made:
        backend.stop()


@pytest.fixture
def billing(backends) -> Backend:
    """Billing on loopback: customer ``B-1`` holds a current account (``BALANCE``); tests may change its records."""
    backend = backends("billing")
    backend.records["B-1"] = {"holdings": [BALANCE]}
    return backend


@pytest.fixture
def orders(backends) -> Backend:
    """Order management on loopback, knowing nobody until a test gives it records."""
    return backends("orders")


@pytest.fixture
def webhook_secret() -> str:
    """The secret the webhook receiver checks signatures with; a module overrides it to test another."""
    return WEBHOOK_SECRET


@pytest.fixture
def receiver(settings, webhook_secret):
    """A subscriber's HTTP receiver on loopback that checks each delivery's signature."""
    settings.CEA_WEBHOOK_ALLOW_PRIVATE_TARGETS = True  # the receiver listens on loopback
    server = WebhookReceiver(secret=webhook_secret)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def backend():
    """A legacy back-end on loopback that takes the outbox's writes."""
    server = LegacyBackend()
    server.start()
    yield server
    server.stop()
