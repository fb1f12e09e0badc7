"""The console shows each connector's circuit breaker as Redis holds it, and an administrator can close it."""

from __future__ import annotations

import re

import pytest
import redis
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from redis.backoff import NoBackoff
from redis.retry import Retry

from integration.aggregation import breaker
from integration.sample_systems.testing import closed_port
from tests.integration.flatfile_support import flatfile_connector
from tests.support import isolated_redis

pytestmark = pytest.mark.django_db

FAR_FUTURE = 2 * 10**9  # 2033-05-18 03:33:20 UTC


@pytest.fixture(autouse=True)
def _redis(settings):
    settings.CEA_BREAKER_FAILURES = 3
    settings.TIME_ZONE = "UTC"
    yield from isolated_redis(settings)


@pytest.fixture
def redis_down(monkeypatch):
    """The breakers' Redis refuses connections (a closed port on loopback)."""
    dead = redis.Redis(
        host="127.0.0.1",
        port=closed_port(),
        socket_connect_timeout=0.5,
        retry=Retry(NoBackoff(), 0),
        decode_responses=True,
    )
    scripts = tuple(dead.register_script(script) for script in (breaker._ALLOW, breaker._FAILURE, breaker._STATE))
    monkeypatch.setattr(breaker, "_client", lambda: dead)
    monkeypatch.setattr(breaker, "_scripts", lambda: scripts)
    yield
    dead.close()


def _connectors(tmp_path, *names: str) -> dict:
    return {name: flatfile_connector(tmp_path, name=name, system=name) for name in names}


def _breaker_cells(response) -> list[str]:
    return re.findall(r'<td class="field-circuit_breaker">(.*?)</td>', response.content.decode())


def _messages(response) -> list[str]:
    return [message.message for message in get_messages(response.wsgi_request)]


def test_the_connector_list_shows_each_breaker_state(client, admin_user, tmp_path, raw_redis):
    # Given a breaker in each state
    connectors = _connectors(tmp_path, "billing", "crm", "orders", "warehouse")
    breaker.breaker_failure(connectors["crm"].pk)
    breaker.breaker_failure(connectors["crm"].pk)
    raw_redis.hset(breaker.breaker_key(connectors["orders"].pk), mapping={"failures": 3, "open_until": FAR_FUTURE})
    raw_redis.hset(breaker.breaker_key(connectors["warehouse"].pk), mapping={"failures": 4, "open_until": 1})
    client.force_login(admin_user)

    # When an administrator lists the connectors and opens one
    listing = client.get("/admin/integration/connector/")
    detail = client.get(f"/admin/integration/connector/{connectors['orders'].pk}/change/")

    # Then each row says its breaker's state, and the connector's page too (read-only)
    assert listing.status_code == 200
    assert _breaker_cells(listing) == [
        "closed",
        "closed (2 of 3 failures in a row that open it)",
        "open until 2033-05-18 03:33:20 UTC (3 failures in a row)",
        "half-open: the next call is a trial (4 failures in a row)",
    ]
    assert detail.status_code == 200
    assert b"open until 2033-05-18 03:33:20 UTC (3 failures in a row)" in detail.content
    assert b'name="circuit_breaker"' not in detail.content


def test_an_administrator_closes_a_breaker_and_it_is_logged(client, admin_user, tmp_path, raw_redis):
    # Given an open breaker and another that is closed with a failure counted
    connectors = _connectors(tmp_path, "billing", "orders")
    raw_redis.hset(breaker.breaker_key(connectors["orders"].pk), mapping={"failures": 3, "open_until": FAR_FUTURE})
    breaker.breaker_failure(connectors["billing"].pk)
    client.force_login(admin_user)

    # When the administrator resets the open one
    response = client.post(
        "/admin/integration/connector/",
        {"action": "reset_circuit_breaker", "_selected_action": [connectors["orders"].pk]},
        follow=True,
    )

    # Then it is closed with no failures counted; the other is untouched; the console says so
    assert response.status_code == 200
    assert breaker.breaker_state(connectors["orders"].pk) == breaker.BreakerState("closed", 0, 0.0)
    assert breaker.breaker_state(connectors["billing"].pk) == breaker.BreakerState("closed", 1, 0.0)
    assert "Circuit breaker closed for 1 connector(s)." in _messages(response)
    assert _breaker_cells(response) == ["closed (1 of 3 failures in a row that open it)", "closed"]
    entry = LogEntry.objects.get(object_id=str(connectors["orders"].pk))
    assert (entry.user, entry.change_message) == (admin_user, "Reset its circuit breaker (closed it).")


def test_only_administrators_reset_breakers(client, supervisor, tmp_path, raw_redis):
    connector = flatfile_connector(tmp_path, name="orders", system="orders")
    raw_redis.hset(breaker.breaker_key(connector.pk), mapping={"failures": 3, "open_until": FAR_FUTURE})
    client.force_login(supervisor)

    response = client.post(
        "/admin/integration/connector/", {"action": "reset_circuit_breaker", "_selected_action": [connector.pk]}
    )

    assert response.status_code == 403
    assert breaker.breaker_state(connector.pk).state == "open"
    assert not LogEntry.objects.exists()


def test_without_redis_the_state_is_unknown_and_a_reset_says_why(client, admin_user, tmp_path, redis_down):
    connector = flatfile_connector(tmp_path, name="orders", system="orders")
    client.force_login(admin_user)

    listing = client.get("/admin/integration/connector/")
    response = client.post(
        "/admin/integration/connector/",
        {"action": "reset_circuit_breaker", "_selected_action": [connector.pk]},
        follow=True,
    )

    assert _breaker_cells(listing) == ["unknown: Redis does not answer"]
    assert _messages(response) == ["orders: The circuit breakers are unavailable (Redis does not answer); try again."]
    assert not LogEntry.objects.exists()
