"""Fixtures of the insights tests."""

from __future__ import annotations

import pytest

from tests.support import isolated_redis


@pytest.fixture
def wallboard_env(settings, routing_defaults):
    """What a wallboard test stands on: its own Redis keys and channel layer, and routing's default rows.
    Use it with ``pytest.mark.usefixtures("wallboard_env")``."""
    yield from isolated_redis(settings)
