"""Who did it: every service that writes records runs inside ``audited(actor)``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pghistory
import pghistory.runtime
from django.db import connection


@contextlib.contextmanager
def audited(actor, **metadata) -> Iterator[None]:
    """Attach ``actor`` (a user or ``None`` for the system) to the audit events written inside.

    Nested in another context (the request middleware's), the metadata is merged. When the
    outermost context ends, the database forgets it too: pghistory sets it for the rest of the
    transaction, so later writes in the same transaction would otherwise be put on ``actor``.
    """
    user_id = getattr(actor, "pk", None)
    with pghistory.context(user=user_id, **metadata):
        yield
    # pghistory keeps the current context in a private thread-local; tests/test_db_helpers.py
    # fails if that ever changes.
    if not hasattr(pghistory.runtime._tracker, "value") and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('pghistory.context_id', '', true),"
                " set_config('pghistory.context_metadata', '', true)"
            )
