"""Fixtures of engagement's tests (those every test of the suite needs are in tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.support import isolated_redis


@pytest.fixture
def routing_env(settings, routing_defaults):
    """What a routing test stands on: its own Redis keys (contexts are read for priority) and the
    default channel loads, codes and queue. Use it with ``pytest.mark.usefixtures("routing_env")``."""
    yield from isolated_redis(settings)
