"""A legacy SQL customer database: ``cust_master`` (customers) and ``cust_accounts`` (their accounts).

Column names are the legacy system's (``cust_no``, ``first_nm`` …); both tables carry
``updated_at`` for incremental reads. ``legacy_database_create(url)`` makes the database (on
PostgreSQL, creating it beside the server's others if missing), its tables and its seed, once.
Works on PostgreSQL and SQLite.

On PostgreSQL it can misbehave for real (``CustomerDatabaseSwitches``): a batch job locking its
tables (reads wait, then time out) or the database refusing connections. ``CustomerDatabase``
serves those switches at ``/_control`` as the HTTP systems serve theirs.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Index,
    MetaData,
    String,
    Table,
    create_engine,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from integration.sample_systems import seed
from integration.sample_systems.http import CONTROL_PATH, Reply, Request, SampleSystem

metadata = MetaData()
customers = Table(
    "cust_master",
    metadata,
    Column("cust_no", String(12), primary_key=True),
    Column("first_nm", String(60), nullable=False),
    Column("last_nm", String(60), nullable=False),
    Column("email_addr", String(200)),
    Column("phone_no", String(30)),
    Column("birth_dt", Date),
    Column("addr_line1", String(200)),
    Column("town", String(100)),
    Column("post_cd", String(10)),
    Column("acct_no", String(20)),
    Column("segment_cd", String(40)),
    Column("tier_cd", String(20)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("cust_master_updated", "updated_at", "cust_no"),
)
accounts = Table(
    "cust_accounts",
    metadata,
    Column("acct_no", String(24), primary_key=True),
    Column("cust_no", String(12), nullable=False, index=True),
    Column("product_nm", String(100), nullable=False),
    Column("status_cd", String(1), nullable=False),
    Column("opened_dt", Date),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


def sqlalchemy_url(url: str | URL) -> URL:
    """``postgres://`` (Django's spelling) becomes SQLAlchemy's ``postgresql+psycopg://`` (psycopg 3)."""
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.drivername in ("postgres", "postgresql", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _create_postgres_database(url: URL) -> None:
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
            ).scalar()
            if not exists:
                quoted = admin.dialect.identifier_preparer.quote(url.database)
                connection.execute(text(f"CREATE DATABASE {quoted}"))
    finally:
        admin.dispose()


def legacy_database_drop(url: str | URL) -> None:
    parsed = sqlalchemy_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            quoted = admin.dialect.identifier_preparer.quote(parsed.database)
            connection.execute(text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
    finally:
        admin.dispose()


def legacy_database_create(url: str | URL, people: list[seed.Person] | None = None) -> Engine:
    """Create (if missing) and seed (if empty) the legacy customer database; return an engine on it."""
    parsed = sqlalchemy_url(url)
    if parsed.get_backend_name() == "postgresql":
        _create_postgres_database(parsed)
    engine = create_engine(parsed)
    metadata.create_all(engine)
    with engine.begin() as connection:
        if connection.execute(select(func.count()).select_from(customers)).scalar():
            return engine
        people = people if people is not None else seed.demo_people()
        customer_rows, account_rows = [], []
        for person in people:
            account_rows.extend(seed.accounts_for(person))
            customer_rows.append(
                {
                    "cust_no": person.customer_number,
                    "first_nm": person.given_name,
                    "last_nm": person.family_name,
                    "email_addr": person.email or None,
                    "phone_no": person.phone or None,
                    "birth_dt": person.date_of_birth,
                    "addr_line1": person.address_line1,
                    "town": person.city,
                    "post_cd": person.postcode,
                    "acct_no": person.account_number,
                    "segment_cd": person.segment,
                    "tier_cd": person.value_tier,
                    "updated_at": max(
                        row["updated_at"] for row in account_rows if row["cust_no"] == person.customer_number
                    ),
                }
            )
        connection.execute(insert(customers), customer_rows)
        connection.execute(insert(accounts), account_rows)
    return engine


def customer_touch(engine: Engine, customer_number: str, **changes: object) -> datetime:
    """Change a customer now (as the legacy system's own screens would); return the new ``updated_at``."""
    with engine.begin() as connection:
        latest = connection.execute(select(func.max(customers.c.updated_at))).scalar()
        now = datetime.now(UTC)
        if latest is not None:
            latest = latest if latest.tzinfo else latest.replace(tzinfo=UTC)
            now = max(now, latest + timedelta(microseconds=1))
        connection.execute(
            update(customers).where(customers.c.cust_no == customer_number).values(**changes, updated_at=now)
        )
    return now


SWITCH_NAMES = ("locked", "down")


class CustomerDatabaseSwitches:
    """How badly the legacy customer database (PostgreSQL) behaves right now, done in the database itself.

    - ``locked``: a batch job holds ``ACCESS EXCLUSIVE`` locks on ``cust_master`` and
      ``cust_accounts`` in an open transaction: every read waits until it is released, or until
      the reader's ``statement_timeout`` cancels it (the SQL connector sets its timeout there);
    - ``down``: the database refuses connections ("not currently accepting connections") and its
      open sessions are ended, as in a crash or a maintenance window.

    ``update(**changes)`` (``reset=True`` clears both) and ``as_dict()`` work as ``http.Switches``'.
    Needs the rights of the database's owner (its creator has them).
    """

    def __init__(self, url: str | URL) -> None:
        self.url = sqlalchemy_url(url)
        if self.url.get_backend_name() != "postgresql":
            raise ValueError("The customer database's switches need PostgreSQL.")
        self._engine = create_engine(self.url, poolclass=NullPool)
        self._admin = create_engine(self.url.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self._lock = threading.Lock()
        self._batch_job: Connection | None = None
        self._down = False

    def update(self, **changes: Any) -> None:
        with self._lock:
            if changes.pop("reset", False):
                changes = {"down": False, "locked": False, **changes}
            unknown = sorted(set(changes) - set(SWITCH_NAMES))
            if unknown:
                raise ValueError(f"No switch named {unknown[0]!r}.")
            try:
                if "down" in changes:
                    self._set_down(bool(changes["down"]))
                if "locked" in changes:
                    self._set_locked(bool(changes["locked"]))
            except SQLAlchemyError as error:
                reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
                raise ValueError(f"The database refused: {reason}") from None

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {"locked": self._batch_job is not None, "down": self._down}

    def close(self) -> None:
        """Leave the database well (unlocked, accepting connections)."""
        if self._down or self._batch_job is not None:
            self.update(reset=True)

    def _set_locked(self, locked: bool) -> None:
        if locked and self._batch_job is None:
            job = self._engine.connect()
            try:
                job.execute(text(f"LOCK TABLE {customers.name}, {accounts.name} IN ACCESS EXCLUSIVE MODE"))
            except SQLAlchemyError:
                job.close()
                raise
            self._batch_job = job  # its transaction stays open: the locks are held
        elif not locked and self._batch_job is not None:
            job, self._batch_job = self._batch_job, None
            try:
                job.rollback()
            except SQLAlchemyError:
                pass  # its session was ended already (the database went down)
            finally:
                job.close()

    def _set_down(self, down: bool) -> None:
        if down:
            self._set_locked(False)  # a crash ends the batch job's session too
        quoted = self._admin.dialect.identifier_preparer.quote(self.url.database)
        with self._admin.connect() as connection:
            connection.execute(text(f"ALTER DATABASE {quoted} WITH ALLOW_CONNECTIONS {str(not down).lower()}"))
            if down:
                connection.execute(
                    text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                    {"name": self.url.database},
                )
        self._down = down


class CustomerDatabase(SampleSystem):
    """The customer database's switches over HTTP: ``/_control`` only (the data is read over SQL)."""

    name = "customer-db"

    def __init__(self, url: str | URL) -> None:
        super().__init__()
        self.switches = CustomerDatabaseSwitches(url)  # type: ignore[assignment]

    def respond(self, request: Request) -> Reply | None:
        return Reply.json(404, {"error": f"Read the customer database over SQL; its switches are at {CONTROL_PATH}."})
