"""Django's PostgreSQL backend, with a connection pool that heals at once after a database restart.

Django's pool (psycopg_pool) checks each connection before lending it and replaces a broken one;
but after a restart *every* idle connection is broken, and psycopg_pool backs off between one
failed check and the next (about 1 s, 2 s, 4 s …), so with a few idle connections the first
request after a restart waited past the pool's timeout. Measured: five dead connections, a 4 s
timeout, no connection lent (tests/test_db_pool.py). Here a failed check also checks the rest of
the idle connections at once (``ConnectionPool.check``: the dead ones go, new ones are opened in
the background), so the borrower's next attempt, about a second later, gets a new connection.

And a pool is made again when its alias comes to name another database (the test runner renames
``default`` to the test database; a pool made before that, by anything that connected during
collection, would go on serving the other one — every test would have written to the development
database).

A process forked from one that has pooled connections (a test's worker processes; Celery's prefork
children, whose fix-up also closes the parent's pool before forking) starts with no pool: the
inherited pools and connections share their sockets with the parent, so the child keeps them
unused and unclosed (closing would end the parent's sessions) and makes its own.

Everything else is Django's backend (``ENGINE = "cea.common.postgresql"``).
"""

from __future__ import annotations

import os
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self):
        pool_options = self.settings_dict["OPTIONS"].get("pool")
        if self.alias == NO_DB_ALIAS or not pool_options:
            return None
        pools: dict[str, Any] = self._connection_pools  # type: ignore[attr-defined]  # Django's, untyped
        target = self._pool_target()
        existing = pools.get(self.alias)
        if existing is not None and getattr(existing, "cea_target", target) != target:
            # The alias now names another database than its pool connects to: the test runner
            # renamed it to the test database after something had already connected (Django keeps
            # one pool per alias, made with the settings of its first use). A pool for the new one.
            pools.pop(self.alias, None)
            existing.close()
        if self.alias not in pools:
            if self.settings_dict.get("CONN_MAX_AGE", 0) != 0:
                raise ImproperlyConfigured("Pooling doesn't support persistent connections.")
            from psycopg_pool import ConnectionPool

            options: dict[str, Any] = {} if pool_options is True else dict(pool_options)
            connect_kwargs = self.get_connection_params()
            connect_kwargs["autocommit"] = True  # as Django's: it sets autocommit itself later on
            made: list[ConnectionPool] = []

            def check(connection) -> None:
                try:
                    ConnectionPool.check_connection(connection)
                except Exception:
                    made[0].check()  # one dead connection: the others likely too (a restart)
                    raise

            pool = ConnectionPool(
                kwargs=connect_kwargs,
                open=False,  # opened on first use, as Django's
                configure=self._configure_connection,  # type: ignore[attr-defined]
                check=check if self.settings_dict["CONN_HEALTH_CHECKS"] else None,
                **options,
            )
            made.append(pool)
            pool.cea_target = target  # type: ignore[attr-defined]
            # setdefault: threads racing at start-up agree on one pool (none is open yet).
            pools.setdefault(self.alias, pool)
        return pools[self.alias]

    def _pool_target(self) -> tuple[str, str, str, str]:
        """Which server and database the alias names now."""
        settings = self.settings_dict
        return (
            str(settings.get("NAME")),
            str(settings.get("HOST")),
            str(settings.get("PORT")),
            str(settings.get("USER")),
        )


# What a forked child inherited and must neither use nor close (closing sends the server a
# Terminate on a socket the parent still uses). Kept referenced so that no garbage collection
# closes them; a forked child ends with os._exit, which runs no finalisers.
_inherited: list[Any] = []


def _forget_inherited_connections() -> None:
    from django.db import connections

    pools: dict[str, Any] = base.DatabaseWrapper._connection_pools  # type: ignore[attr-defined]
    _inherited.extend(pools.values())
    pools.clear()
    for wrapper in connections.all(initialized_only=True):
        if wrapper.connection is not None:
            _inherited.append(wrapper.connection)
            wrapper.connection = None


os.register_at_fork(after_in_child=_forget_inherited_connections)
