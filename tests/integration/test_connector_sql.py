"""The SQL connector against the sample legacy customer database, on PostgreSQL (a database of its
own, per test worker) and on SQLite."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import dj_database_url
import httpx
import pytest
from django.conf import settings as django_settings
from sqlalchemy import Engine, func, select, update

from cea.common.db_url import database_url
from integration.connectors.base import ConnectorError
from integration.sample_systems import demo, seed
from integration.sample_systems.customer_db import (
    CustomerDatabase,
    CustomerDatabaseSwitches,
    accounts,
    customer_touch,
    customers,
    legacy_database_create,
    legacy_database_drop,
)
from integration.sample_systems.http import RunningServer
from integration.sample_systems.testing import closed_port
from tests.integration.sample_systems_support import connector, worker_suffix

PEOPLE = 40


def _postgres_url(name: str = "legacy") -> str:
    """A legacy database beside the configured one, one per xdist worker."""
    database = dj_database_url.parse(django_settings.DATABASE_URL)
    return database_url(database, name=f"{database['NAME']}_{name}_{worker_suffix()}")


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def legacy(request, tmp_path_factory) -> Iterator[tuple[str, Engine]]:
    """The legacy customer database, seeded with the first demo customers: ``(url, engine)``."""
    if request.param == "postgresql":
        url = _postgres_url()
        legacy_database_drop(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('legacy') / 'customers.sqlite3'}"
    engine = legacy_database_create(url, seed.demo_people(PEOPLE))
    yield url, engine
    engine.dispose()
    legacy_database_drop(url)


def _count(engine: Engine, table) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar()


def test_fetch_since_reads_customers_then_their_accounts_in_pages(legacy):
    # Given the legacy database and a connector reading 15 rows a page
    url, engine = legacy
    sql = connector(demo.sql_connector(url=url), settings={"page_size": 15})

    # When it reads from the beginning
    pages = list(sql.fetch_since(""))

    # Then it read every customer, then every account, once each
    items = [item for page in pages for item in page.items]
    account_count = _count(engine, accounts)
    assert [item.kind for item in items] == ["customer"] * PEOPLE + ["holding"] * account_count
    assert len({item.key for item in items}) == PEOPLE + account_count
    assert [len(page.items) for page in pages] == [15, 15, 10] + [15] * (account_count // 15) + (
        [account_count % 15] if account_count % 15 else []
    )
    # And a customer comes out in canonical fields, lined up with the demo customer
    person = seed.demo_people(1)[0]
    customer = next(item for item in items if item.key == "customer:CUST000000")
    assert customer.fields == {
        "external_id": "CUST000000",
        "given_name": person.given_name,
        "family_name": person.family_name,
        "email": person.email or None,
        "phone": person.phone or None,
        "date_of_birth": person.date_of_birth.isoformat(),
        "postcode": person.postcode,
        "account_number": "ACC00000000",
        "segment": person.segment,
        "value_tier": person.value_tier,
    }
    account = next(item for item in items if item.key == "account:ACC00000000")
    assert account.fields["customer_external_id"] == "CUST000000"
    assert account.fields["kind"] == "account"
    assert set(account.fields["data"]) == {"opened_dt"}


def test_a_resumed_run_reads_the_rest_once(legacy):
    # Given a run that stopped after its second page
    url, _ = legacy
    sql = connector(demo.sql_connector(url=url), settings={"page_size": 15})
    everything = [item.key for page in sql.fetch_since("") for item in page.items]
    pages = sql.fetch_since("")
    done = [next(pages), next(pages)]

    # When the next run starts from its watermark
    rest_of_it = [item.key for page in sql.fetch_since(done[-1].watermark) for item in page.items]

    # Then it reads exactly the rest
    assert [item.key for page in done for item in page.items] + rest_of_it == everything


def test_after_a_full_run_only_changed_rows_are_read(legacy):
    # Given a run that read everything
    url, engine = legacy
    sql = connector(demo.sql_connector(url=url), settings={"page_size": 100})
    last = list(sql.fetch_since(""))[-1].watermark
    assert list(sql.fetch_since(last)) == []

    # When one customer changes in the legacy system
    customer_touch(engine, "CUST000011", post_cd="LS1 1AA")
    pages = list(sql.fetch_since(last))

    # Then the next run reads that customer only
    assert [(item.key, item.fields["postcode"]) for page in pages for item in page.items] == [
        ("customer:CUST000011", "LS1 1AA")
    ]
    assert list(sql.fetch_since(pages[-1].watermark)) == []


def test_rows_with_the_same_time_across_a_page_boundary_are_all_read(legacy):
    # Given three customers changed at the same instant, and a connector reading 2 rows a page
    url, engine = legacy
    sql = connector(demo.sql_connector(url=url), settings={"page_size": 2})
    last = list(connector(demo.sql_connector(url=url)).fetch_since(""))[-1].watermark
    moment = customer_touch(engine, "CUST000020")
    with engine.begin() as connection:
        connection.execute(
            update(customers).where(customers.c.cust_no.in_(["CUST000021", "CUST000022"])).values(updated_at=moment)
        )

    # When it reads from the last watermark
    keys = [item.key for page in sql.fetch_since(last) for item in page.items]

    # Then each of the three is read once
    assert keys == ["customer:CUST000020", "customer:CUST000021", "customer:CUST000022"]


def test_fetch_customer_returns_the_customer_and_accounts(legacy):
    # Given a customer with accounts in the legacy database
    url, engine = legacy
    with engine.connect() as connection:
        expected = sorted(
            connection.execute(select(accounts.c.acct_no).where(accounts.c.cust_no == "CUST000003")).scalars()
        )

    # When the connector asks for the customer
    answer = connector(demo.sql_connector(url=url)).fetch_customer("CUST000003")

    # Then it has the customer's record and each account
    assert answer["customer"]["external_id"] == "CUST000003"
    assert answer["customer"]["given_name"] == seed.demo_people(4)[3].given_name
    assert sorted(holding["external_id"] for holding in answer["holdings"]) == expected
    assert expected[0] == "ACC00000003"


def test_a_missing_table_is_a_permanent_error(legacy):
    # Given a connector configured with a table the database does not have
    url, _ = legacy
    config = demo.sql_connector(url=url)
    config["settings"]["sources"][0]["table"] = "customer_master_v2"

    # When it reads, then the failure is permanent
    with pytest.raises(ConnectorError) as missing:
        next(connector(config).fetch_since(""))
    assert missing.value.permanent is True
    assert "customer_master_v2" in missing.value.message


def test_health(legacy):
    # Given the database
    url, _ = legacy

    # When the connector checks it, then it answers
    assert connector(demo.sql_connector(url=url)).health()["ok"] is True


def test_a_password_comes_from_the_secret_never_the_url(monkeypatch):
    # Given a URL that holds a password
    config = demo.sql_connector(url="postgresql://crm:hunter2@127.0.0.1:5432/crm")

    # When the connector reads, then it refuses, without repeating the password
    with pytest.raises(ConnectorError) as refused:
        next(connector(config).fetch_since(""))
    assert refused.value.permanent is True
    assert "hunter2" not in refused.value.message


def test_an_unreachable_database_is_retryable_and_the_secret_stays_out(monkeypatch):
    # Given a database server that is down, and the password in the connector's environment variable
    monkeypatch.setenv("CEA_CONNECTOR_TEST_LEGACY_PASSWORD", "s3cret-legacy-password")
    config = demo.sql_connector(url=f"postgresql://crm@127.0.0.1:{closed_port()}/crm", name="down-db")
    sql = connector(config, credential_env="CEA_CONNECTOR_TEST_LEGACY_PASSWORD", timeout_seconds=1)

    # When it reads and checks health
    with pytest.raises(ConnectorError) as down:
        next(sql.fetch_since(""))
    health = sql.health()

    # Then the failure is worth retrying, and the password appears nowhere
    assert down.value.permanent is False
    assert health["ok"] is False
    assert "s3cret-legacy-password" not in down.value.message + str(health)


# --- The database misbehaving (PostgreSQL: the switches act in the database itself) --------------


@pytest.fixture(scope="module")
def postgres_legacy() -> Iterator[tuple[str, Engine]]:
    """The legacy customer database on PostgreSQL only, where the switches act: ``(url, engine)``."""
    url = _postgres_url("legacy_switched")
    legacy_database_drop(url)
    engine = legacy_database_create(url, seed.demo_people(PEOPLE))
    yield url, engine
    engine.dispose()
    legacy_database_drop(url)


@pytest.fixture
def switches(postgres_legacy) -> Iterator[CustomerDatabaseSwitches]:
    url, engine = postgres_legacy
    switches = CustomerDatabaseSwitches(url)
    yield switches
    switches.close()
    engine.dispose()  # its pooled sessions may have been ended (down)


def _reader(url: str, name: str, timeout: int = 1):
    """A connector of its own name (its engine, with its statement timeout, is its own)."""
    return connector(demo.sql_connector(url=url, name=name), timeout_seconds=timeout)


def test_a_locked_table_times_out_retryably_and_is_read_once_released(postgres_legacy, switches):
    # Given a batch job locking the customer tables, and a connector with a 1 s timeout
    url, _ = postgres_legacy
    sql = _reader(url, "customer-db-locked")
    switches.update(locked=True)

    # When it reads
    started = time.monotonic()
    with pytest.raises(ConnectorError) as locked:
        next(sql.fetch_since(""))

    # Then the database cancelled the read after the timeout, and that is worth retrying
    assert time.monotonic() - started >= 1
    assert locked.value.permanent is False
    assert "canceling statement due to statement timeout" in locked.value.message
    assert switches.as_dict() == {"locked": True, "down": False}

    # And once the lock is released, it reads everything
    switches.update(locked=False)
    assert len(next(sql.fetch_since("")).items) == PEOPLE


def test_a_lock_held_shorter_than_the_timeout_only_slows_a_read(postgres_legacy, switches):
    # Given a batch job locking the tables for half a second, and a connector with a 5 s timeout
    url, _ = postgres_legacy
    sql = _reader(url, "customer-db-slow", timeout=5)
    switches.update(locked=True)
    release = threading.Timer(0.5, switches.update, kwargs={"locked": False})

    # When it reads meanwhile
    started = time.monotonic()
    release.start()
    page = next(sql.fetch_since(""))

    # Then the read waited for the lock and succeeded
    assert time.monotonic() - started >= 0.5
    assert len(page.items) == PEOPLE
    release.join()


def test_a_database_that_is_down_is_retryable_and_comes_back(postgres_legacy, switches):
    # Given a connector that has read once, and then the database going down
    url, _ = postgres_legacy
    sql = _reader(url, "customer-db-down")
    assert sql.health()["ok"] is True
    switches.update(down=True)

    # When it reads and checks health
    with pytest.raises(ConnectorError) as down:
        next(sql.fetch_since(""))
    health = sql.health()

    # Then the database refused the connection, and that is worth retrying
    assert down.value.permanent is False
    assert "is not currently accepting connections" in down.value.message
    assert (health["ok"], health["permanent"]) == (False, False)

    # And when it is up again, the same connector reads
    switches.update(down=False)
    assert len(next(sql.fetch_since("")).items) == PEOPLE
    assert sql.health()["ok"] is True


def test_the_switches_are_flipped_over_http(postgres_legacy, switches):
    # Given the customer database's switches served over HTTP
    url, _ = postgres_legacy
    server = RunningServer(CustomerDatabase(url))
    control = f"{server.url}/_control"
    sql = _reader(url, "customer-db-http")
    try:
        # When the tables are locked over HTTP
        state = httpx.post(control, json={"locked": True}).json()

        # Then reads time out, retryably
        assert state["switches"] == {"locked": True, "down": False}
        with pytest.raises(ConnectorError) as locked:
            next(sql.fetch_since(""))
        assert locked.value.permanent is False

        # And a reset brings it back; unknown switches and other paths are refused
        assert httpx.post(control, json={"reset": True}).json()["switches"] == {"locked": False, "down": False}
        assert len(next(sql.fetch_since("")).items) == PEOPLE
        assert httpx.post(control, json={"slow_seconds": 3}).status_code == 400
        assert httpx.get(f"{server.url}/cust_master").status_code == 404
    finally:
        server.stop()
        server.system.switches.close()
