"""Who did it: every service that writes records runs inside ``audited(actor)``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pghistory


@contextlib.contextmanager
def audited(actor, **metadata) -> Iterator[None]:
    """Attach ``actor`` (a user or ``None`` for the system) to the audit events written inside.

    Nested with the request middleware's context, the metadata is merged.
    """
    user_id = getattr(actor, "pk", None)
    with pghistory.context(user=user_id, **metadata):
        yield
