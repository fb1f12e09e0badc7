"""A Django ``DATABASES`` entry written back as a URL, for another process or client to connect.

A child process started by CEA (a Celery worker in a test, a sample system) or SQLAlchemy
(the legacy customer database) needs the database a Django process is connected to, which may
be a Unix socket folder (the embedded PostgreSQL) rather than a host name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote


def database_url(database: Mapping[str, Any], *, name: str | None = None, password: bool = True) -> str:
    """``postgresql://user[:password]@host[:port]/name`` for ``database`` (its ``NAME``, or ``name``).

    A socket folder as ``HOST`` goes in the ``host`` query parameter, which libpq, psycopg,
    SQLAlchemy and dj-database-url all read. ``password=False`` leaves the password out (trust or
    peer authentication, or a secret given another way).
    """
    user = quote(database.get("USER") or "postgres", safe="")
    secret = database.get("PASSWORD") if password else ""
    credentials = f"{user}:{quote(secret, safe='')}" if secret else user
    target = quote(name or database["NAME"], safe="")
    host, port = str(database.get("HOST") or ""), str(database.get("PORT") or "")
    if host.startswith("/"):  # a Unix socket folder
        return f"postgresql://{credentials}@/{target}?host={quote(host, safe='/')}" + (f"&port={port}" if port else "")
    return f"postgresql://{credentials}@{host or '127.0.0.1'}{f':{port}' if port else ''}/{target}"
