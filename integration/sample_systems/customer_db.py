"""A legacy SQL customer database: ``cust_master`` (customers) and ``cust_accounts`` (their accounts).

Column names are the legacy system's (``cust_no``, ``first_nm`` …); both tables carry
``updated_at`` for incremental reads. ``legacy_database_create(url)`` makes the database (on
PostgreSQL, creating it beside the server's others if missing), its tables and its seed, once.
Works on PostgreSQL and SQLite.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    Column,
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

from integration.sample_systems import seed

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
    """``postgres://`` (Django's spelling) becomes SQLAlchemy's ``postgresql://``."""
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg2")
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
