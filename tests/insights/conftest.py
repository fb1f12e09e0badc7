"""Fixtures of the insights tests."""

from __future__ import annotations

import pytest

from tests.insights.journey_support import ensure_default_stages
from tests.support import isolated_redis


@pytest.fixture
def wallboard_env(settings, routing_defaults):
    """What a wallboard test stands on: its own Redis keys and channel layer, and routing's default rows.
    Use it with ``pytest.mark.usefixtures("wallboard_env")``."""
    yield from isolated_redis(settings)


@pytest.fixture
def default_stages(db) -> None:
    """The default journey stages and rules (seeded again if a transactional test flushed them)."""
    ensure_default_stages()
