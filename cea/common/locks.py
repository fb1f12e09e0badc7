"""Named locks for the length of a transaction: PostgreSQL's transaction advisory locks on a text key.

For a check-then-do whose row may not exist yet (so there is no row to ``SELECT … FOR UPDATE``): the first
publish of a schedule's week, the first sync of a customer, one adherence update of an agent at a time.
The lock is released when the transaction ends; call it inside one.
"""

from __future__ import annotations

from django.db import connection


def transaction_lock(key: str) -> None:
    """Wait for, then hold until the end of the current transaction, the advisory lock named ``key``."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])
