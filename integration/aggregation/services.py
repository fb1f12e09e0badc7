"""Writes an operator makes to the aggregated view's state: closing a connector's circuit breaker."""

from __future__ import annotations

import logging

import redis

from cea.common.errors import Conflict
from integration.aggregation.breaker import breaker_reset
from integration.connectors.models import Connector

logger = logging.getLogger(__name__)


def connector_breaker_reset(*, connector: Connector) -> None:
    """Close ``connector``'s circuit breaker and forget its failures: the next call goes out.

    Raises ``Conflict`` when Redis, where the breakers live, does not answer.
    """
    try:
        breaker_reset(connector.pk)
    except redis.RedisError:
        logger.warning("The circuit breakers are unavailable", exc_info=True)
        raise Conflict("The circuit breakers are unavailable (Redis does not answer); try again.") from None
    logger.info("The circuit breaker of connector %s was reset by hand", connector.name)
