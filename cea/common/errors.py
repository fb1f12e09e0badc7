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
