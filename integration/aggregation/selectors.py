"""Reads of the aggregated view's state for operators: each connector's circuit breaker."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
from django.conf import settings
from django.utils import timezone

from integration.aggregation.breaker import CLOSED, HALF_OPEN, OPEN, breaker_state
from integration.connectors.models import Connector

logger = logging.getLogger(__name__)

UNKNOWN = "unknown"


@dataclass(frozen=True)
class CircuitBreakerView:
    """A connector's circuit breaker as an operator reads it.

    ``state``: closed, open, half_open, or unknown (Redis did not answer); ``failures``: the
    failures in a row it has counted; ``open_until``: when an open circuit lets a trial call through.
    """

    state: str
    failures: int = 0
    open_until: datetime | None = None

    def __str__(self) -> str:
        if self.state == UNKNOWN:
            return "unknown: Redis does not answer"
        if self.state == OPEN and self.open_until is not None:
            when = timezone.localtime(self.open_until)
            return f"open until {when:%Y-%m-%d %H:%M:%S %Z} ({self.failures} failures in a row)"
        if self.state == HALF_OPEN:
            return f"half-open: the next call is a trial ({self.failures} failures in a row)"
        if self.failures:
            return f"closed ({self.failures} of {settings.CEA_BREAKER_FAILURES} failures in a row that open it)"
        return "closed"


def connector_breaker_view(*, connector: Connector) -> CircuitBreakerView:
    """``connector``'s circuit breaker now, read from Redis (reserves nothing); ``unknown`` without Redis."""
    try:
        state = breaker_state(connector.pk)
    except redis.RedisError:
        logger.warning("The circuit breakers are unavailable", exc_info=True)
        return CircuitBreakerView(UNKNOWN)
    if state.state == CLOSED:
        return CircuitBreakerView(CLOSED, state.failures)
    return CircuitBreakerView(state.state, state.failures, datetime.fromtimestamp(state.open_until, tz=UTC))
