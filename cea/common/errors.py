"""The one error type of CEA's services, mapped to a clear 4xx by every interface."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class ApplicationError(Exception):
    """A refusal a user can act on: bad input, a forbidden action, a missing object, a conflict.

    ``fields`` maps a field name to its messages, for forms and API clients.
    """

    status_code = 400
    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        fields: Mapping[str, Sequence[str] | str] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = {
            name: [errors] if isinstance(errors, str) else list(errors) for name, errors in (fields or {}).items()
        }
        if code:
            self.code = code

    def as_dict(self) -> dict:
        body: dict = {"code": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        return body


class ValidationFailed(ApplicationError):
    status_code = 400
    code = "invalid"


class PermissionDenied(ApplicationError):
    status_code = 403
    code = "forbidden"


class NotFound(ApplicationError):
    status_code = 404
    code = "not_found"


class Conflict(ApplicationError):
    """The request is well-formed but the object's state refuses it (e.g. an invalid transition)."""

    status_code = 409
    code = "conflict"


class PayloadTooLarge(ApplicationError):
    """A request body larger than the server accepts (``CEA_MAX_REQUEST_BYTES``, ``DATA_UPLOAD_MAX_MEMORY_SIZE``)."""

    status_code = 413
    code = "too_large"

    def __init__(self, *, limit: int) -> None:
        super().__init__(f"The request body is larger than the {limit} bytes this server accepts.")
        self.limit = limit


class ServiceUnavailable(ApplicationError):
    """The database (or another part the request needs) cannot be reached now; the client retries.

    What a request gets while PostgreSQL or Redis restarts, or when every pooled connection stays busy
    past ``CEA_DB_POOL_TIMEOUT``: 503 with ``Retry-After``, not a 500, and nothing half-written
    (the request's transaction did not commit).
    """

    status_code = 503
    code = "unavailable"
    retry_after_seconds = 5

    def __init__(self, message: str = "The service is briefly unavailable: try again in a few seconds.") -> None:
        super().__init__(message)

    def as_dict(self) -> dict:
        return {**super().as_dict(), "retry_after_seconds": self.retry_after_seconds}


def unavailable_from(exception: BaseException) -> ServiceUnavailable | None:
    """A database that cannot be reached or answer now (Django's ``OperationalError``/``InterfaceError``,
    which wrap psycopg's connection failures and psycopg_pool's ``PoolTimeout``), or a Redis that
    cannot (redis-py's ``ConnectionError``/``TimeoutError``: the cache, the throttles, the channel
    layer; kombu's ``OperationalError``: the broker), as a 503; else None.

    Also when such an error is what led to ``exception``: a session that could not be saved while
    PostgreSQL restarted reaches Django as ``SessionInterrupted`` (a 400), its cause two links down.
    """
    from django.db import InterfaceError, OperationalError
    from kombu.exceptions import OperationalError as BrokerUnreachable
    from redis.exceptions import ConnectionError as RedisUnreachable
    from redis.exceptions import TimeoutError as RedisTimeout

    unreachable = (OperationalError, InterfaceError, RedisUnreachable, RedisTimeout, BrokerUnreachable)
    seen: set[int] = set()
    cause: BaseException | None = exception
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, unreachable):
            return ServiceUnavailable()
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return None
