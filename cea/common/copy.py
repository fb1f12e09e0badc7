"""PostgreSQL ``COPY`` through Django's connection (psycopg 3's ``Cursor.copy``).

For bulk loads that ``bulk_create`` would take ten times longer over: the rows go as COPY's text
format (tab-separated, ``\\N`` for NULL, see ``copy_text``), in the caller's transaction, and any
database error comes out as Django's (``connection.wrap_database_errors``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO

from django.db import connections

# Written to the server in pieces of about this many characters (psycopg buffers them anyway).
CHUNK_CHARS = 1 << 20


def copy_in(sql: str, data: str | Iterable[str], *, using: str = "default") -> None:
    """Run ``COPY … FROM STDIN`` with ``data``: one text, or lines (each ending in a newline)."""
    connection = connections[using]
    with connection.cursor() as cursor, connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
        if isinstance(data, str):
            copy.write(data)
            return
        pending: list[str] = []
        size = 0
        for line in data:
            pending.append(line)
            size += len(line)
            if size >= CHUNK_CHARS:
                copy.write("".join(pending))
                pending, size = [], 0
        if pending:
            copy.write("".join(pending))


def copy_out(sql: str, handle: IO[bytes], *, using: str = "default") -> None:
    """Run ``COPY … TO STDOUT`` into a binary file-like ``handle``."""
    connection = connections[using]
    with connection.cursor() as cursor, connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
        for block in copy:
            handle.write(block)
