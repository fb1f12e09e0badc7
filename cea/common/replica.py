"""Reports and analytics read from a PostgreSQL streaming replica, when one is configured.

``CEA_REPLICA_DATABASE_URL`` adds the database alias ``"replica"``. Nothing reads from it by
default: a service that writes a row and reads it back must see it, and a replica is always a little
behind. Code that reads figures opts in with ``reading_from_replica()``; in its scope the ORM's reads
go to the replica (``ReplicaRouter.db_for_read`` consults a context variable, so the scope follows
the code into ``sync_to_async`` threads and stays out of concurrent requests). Every write goes to
``"default"``, migrations run on ``"default"`` only, and objects of both may be related.

Within a scope, reads stay on ``"default"``:
- when no replica is configured;
- while the replica lags further behind than ``REPLICA_MAX_LAG_SECONDS`` (checked when a scope
  opens, at most every ``LAG_CHECK_SECONDS`` per process) or cannot be reached (looked at again
  after ``UNREACHABLE_CHECK_SECONDS``);
- inside a transaction open on ``"default"``, whose own uncommitted writes the replica cannot show.

docs/architecture.md ("Read replica") says what a report may lag by.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

logger = logging.getLogger(__name__)

REPLICA = "replica"
# How long a process trusts its last look at the replica's lag; after finding it unreachable, longer,
# for that look may have waited for the pool's timeout (CEA_DB_POOL_TIMEOUT).
LAG_CHECK_SECONDS = 5.0
UNREACHABLE_CHECK_SECONDS = 30.0

_reads_from: contextvars.ContextVar[str | None] = contextvars.ContextVar("cea_reads_from", default=None)

# The replica's replay lag in seconds. A standby that has replayed all it received is current (an idle
# primary writes nothing, so the age of the last replayed transaction says nothing then); one that is
# receiving but behind, or whose WAL receiver is not running (cut off from the primary), is as old as
# the last transaction it replayed. A server that is no standby is current.
LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN EXISTS (SELECT 1 FROM pg_stat_wal_receiver)
         AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
    ELSE COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp()), 0)
END
"""

_checked_lock = threading.Lock()
_checked: tuple[float, str] | None = None  # (monotonic time until which it holds, alias chosen)


def replica_configured() -> bool:
    """Whether the ``"replica"`` alias exists (``CEA_REPLICA_DATABASE_URL`` is set)."""
    return REPLICA in connections.settings


def replica_lag_seconds() -> float:
    """The replica's replay lag now, in seconds (see ``LAG_SQL``). Raises ``DatabaseError`` when it
    cannot be reached; precondition: ``replica_configured()``."""
    with connections[REPLICA].cursor() as cursor:
        cursor.execute(LAG_SQL)
        return float(cursor.fetchone()[0])


def _choose_alias() -> str:
    """``"replica"`` when it is current enough, else ``"default"``; remembered for ``LAG_CHECK_SECONDS``."""
    global _checked
    if not replica_configured():
        return DEFAULT_DB_ALIAS
    max_lag = settings.REPLICA_MAX_LAG_SECONDS
    if not max_lag:
        return REPLICA
    with _checked_lock:
        if _checked is not None and time.monotonic() < _checked[0]:
            return _checked[1]
        holds = LAG_CHECK_SECONDS
        try:
            lag = replica_lag_seconds()
        except DatabaseError:
            logger.warning("The read replica cannot be reached; reports read from the primary.", exc_info=True)
            alias, holds = DEFAULT_DB_ALIAS, UNREACHABLE_CHECK_SECONDS
        else:
            if lag > max_lag:
                logger.warning(
                    "The read replica is %.1f s behind (more than %s s); reports read from the primary.", lag, max_lag
                )
                alias = DEFAULT_DB_ALIAS
            else:
                alias = REPLICA
        _checked = (time.monotonic() + holds, alias)
        return alias


def forget_replica_check() -> None:
    """Forget the last look at the replica's lag, so that the next scope looks again (tests, settings changes)."""
    global _checked
    with _checked_lock:
        _checked = None


@contextmanager
def reading_from_replica() -> Iterator[str]:
    """In this scope, the ORM's reads go to the replica when it is usable (module docstring); yields the
    alias they go to as it opens. Writes, and reads inside a transaction on ``"default"``, still go to
    ``"default"``.
    Use it around reads whose figures may be a few seconds old: reports, exports, analytics."""
    token = _reads_from.set(_choose_alias())
    try:
        yield read_alias()
    finally:
        _reads_from.reset(token)


P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


def reads_from_replica(function: Callable[P, R]) -> Callable[P, R]:
    """Decorate a view, an API method or a task whose reads may come from the replica: it runs inside
    ``reading_from_replica()``. A streamed response's body is read after the view returns; build it
    inside a scope of its own (``replica_streamed``)."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with reading_from_replica():
            return function(*args, **kwargs)

    return wrapper


def replica_streamed(rows: Iterable[T]) -> Iterator[T]:
    """``rows`` produced inside ``reading_from_replica()``, for a streamed response whose generator runs
    after the view has returned (and so outside the view's scope). Each item is produced in a scope of
    its own, so that the scope never outlives a step of the generator (which may be closed elsewhere)."""
    iterator = iter(rows)
    while True:
        with reading_from_replica():
            try:
                item = next(iterator)
            except StopIteration:
                return
        yield item


def read_alias() -> str:
    """The alias the ORM's reads use here and now (``ReplicaRouter.db_for_read``)."""
    alias = _reads_from.get()
    if alias is None or alias == DEFAULT_DB_ALIAS or connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    return alias


def reading_connection() -> BaseDatabaseWrapper:
    """The connection for a read in raw SQL, which no router sees: the replica's inside
    ``reading_from_replica()`` (on the router's terms), else the default one."""
    return connections[read_alias()]


class ReplicaRouter:
    """Reads inside ``reading_from_replica()`` go to the alias it chose; every other read, every write
    and every migration go to ``"default"``."""

    def db_for_read(self, model: type, **hints: Any) -> str:
        return read_alias()

    def db_for_write(self, model: type, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        # Both aliases hold the same rows.
        return True

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        # A standby is read-only and receives the schema through replication.
        return db == DEFAULT_DB_ALIAS
