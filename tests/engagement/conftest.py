"""Fixtures of engagement's tests (those every test of the suite needs are in tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.engagement.selfservice_support import make_flows, order_lookup, register_lookup
from tests.support import isolated_redis


@pytest.fixture
def routing_env(settings, routing_defaults):
    """What a routing test stands on: its own Redis keys (contexts are read for priority) and the
    default channel loads, codes and queue. Use it with ``pytest.mark.usefixtures("routing_env")``."""
    yield from isolated_redis(settings)


@pytest.fixture
def selfservice_env(settings):
    """What a self-service test (chat, IVR, API) stands on: its own Redis keys, where each
    conversation's context keeps its self-service state. Use it with
    ``pytest.mark.usefixtures("selfservice_env")``."""
    yield from isolated_redis(settings)


@pytest.fixture
def flows(monkeypatch) -> dict:
    """The self-service flows of ``selfservice_support.make_flows`` (order status, delivery,
    balance, opening hours), their order look-up ``test_order`` registered for the test."""
    register_lookup(monkeypatch, "test_order", order_lookup, database=True)
    return make_flows()
