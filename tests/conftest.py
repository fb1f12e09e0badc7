"""Fixtures shared by the whole suite. Tests run against real PostgreSQL and Redis."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings

from cea.common.translations import compile_catalogs
from tests.accounts.factories import TeamFactory, UserFactory
from tests.support import eager_celery


def pytest_configure(config) -> None:
    # The translation catalogs, compiled as make does (a no-op when their .mo files are current).
    compile_catalogs()
    # Keep the suite's keys apart from a platform running on the same Redis.
    settings.CACHES["default"]["KEY_PREFIX"] = "cea-test"
    settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = "cea-test:channels"


@pytest.fixture(autouse=True)
def _cache_of_its_own(settings) -> None:
    # Each test counts API throttles (and caches anything else) under a key prefix of its own, so
    # that no test spends another's budget, on another xdist worker or in an earlier run either
    # (ids repeat between test databases). Keys expire by themselves (throttle windows, timeouts).
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"cea-test-{uuid.uuid4().hex[:12]}"}}


@pytest.fixture
def eager_tasks():
    """Celery tasks sent on commit run at once, in the thread that commits, as a worker would run
    them elsewhere. Use it as a parameter or with ``pytest.mark.usefixtures("eager_tasks")``."""
    yield from eager_celery()


@pytest.fixture(autouse=True)
def _no_arbitration_control_group(settings) -> None:
    # Arbitration puts a stable 5% of customers (by a hash of their id) in a random control group.
    # Ids depend on what ran before in the test database, so a test ranking strategies would meet it
    # by chance; the tests of the control group set their own percentage.
    settings.CEA_ARBITRATION_CONTROL_PERCENT = 0


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    # Fixtures make many users; the production hasher's iterations are not what the tests measure.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _plain_static_storage(settings) -> None:
    # The manifest storage needs `collectstatic`; tests render templates without it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def team_a(db):
    return TeamFactory(name="Team A")


@pytest.fixture
def team_b(db):
    return TeamFactory(name="Team B")


@pytest.fixture
def agent(team_a):
    return UserFactory(username="agent.a", role="agent", teams=[team_a])


@pytest.fixture
def agent_b(team_b):
    return UserFactory(username="agent.b", role="agent", teams=[team_b])


@pytest.fixture
def supervisor(team_a):
    return UserFactory(username="supervisor.a", role="supervisor", teams=[team_a])


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", role="admin")


@pytest.fixture
def integration_user(db):
    return UserFactory(username="crm-sync", role="integration")


@pytest.fixture
def routing_defaults(db):
    """Channel loads, reason and wrap-up codes, the general queue: made by a migration, but a
    transactional test before this one may have flushed them."""
    from engagement.routing.defaults import routing_defaults_ensure

    routing_defaults_ensure()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test databases; before they are dropped, every pooled connection is closed
    (a connection given back to Django's pool stays open, and PostgreSQL refuses to drop a
    database with sessions on it)."""
    yield
    from django.db import connections

    with django_db_blocker.unblock():
        for connection in connections.all(initialized_only=True):
            connection.close()
            if getattr(connection, "pool", None) is not None:
                connection.close_pool()
