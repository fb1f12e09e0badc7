"""GET /health/: PostgreSQL, Redis and a Celery worker, against the real servers and a real worker."""

from __future__ import annotations

import json
import uuid

import celery.contrib.testing.tasks  # noqa: F401 - registers the ``celery.ping`` task the worker check sends
import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from cea.celery import app as celery_app
from cea.health import recent_worker_check
from tests.accounts.factories import UserFactory
from tests.process_support import Processes, free_port, http_get
from tests.support import child_environment, token_client


def _drop_broker_connections() -> None:
    # The app keeps a pool of connections made with the old transport options: forget it (kombu keeps
    # pools per connection settings, so the old one is still there, unclosed, for the old options).
    celery_app._pool = None
    amqp = celery_app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@pytest.fixture(autouse=True)
def _no_remembered_worker_ping():
    recent_worker_check.clear()
    yield
    recent_worker_check.clear()


@pytest.fixture
def staff_client(client, supervisor):
    """Supervisors see each check and its reason."""
    client.force_login(supervisor)
    return client


@pytest.fixture
def private_broker():
    """A broker keyspace of this test's own on the real Redis.

    Pings are broadcast to every worker of a broker: a platform running on the same Redis
    would answer the "no worker" check, and a test worker would consume tasks other tests
    left in the queue. A key prefix of its own keeps both out.
    """
    prefix = f"cea-test:health:{uuid.uuid4().hex}:"
    redis_url = settings.REDIS_URL
    original_options = celery_app.conf.broker_transport_options
    original_hijack = celery_app.conf.worker_hijack_root_logger
    celery_app.conf.broker_transport_options = {**original_options, "global_keyprefix": prefix}
    celery_app.conf.worker_hijack_root_logger = False  # leave pytest's log capture alone
    _drop_broker_connections()
    yield prefix
    celery_app.conf.broker_transport_options = original_options
    celery_app.conf.worker_hijack_root_logger = original_hijack
    _drop_broker_connections()
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


# Celery's Django fix-up closes the database connections of the thread that builds the worker (this
# one): outside a test transaction Django simply reconnects, inside one the test would lose it.
@pytest.mark.django_db(transaction=True)
def test_health_is_ok_with_a_worker_on_the_default_queue(staff_client, private_broker):
    # Given: a real worker in this process, consuming the queue tasks are sent to by default.
    # start_worker's ping check sends a task to that queue and waits for its answer.
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    assert celery_app.conf.task_default_queue == queue == "cea"
    with start_worker(celery_app, queues=[queue], perform_ping_check=True, shutdown_timeout=30) as worker:
        assert {q.name for q in worker.consumer.task_consumer.queues} == {queue}
        # When
        response = staff_client.get("/health/")
    # Then
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"postgres", "redis", "celery"}
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "postgres": True,
        "redis": True,
        "celery": True,
    }
    assert body["checks"]["celery"]["worker"] == worker.hostname


@pytest.mark.django_db
def test_health_is_503_without_a_worker_and_says_why(staff_client, private_broker):
    # When: nothing consumes this broker
    response = staff_client.get("/health/")
    # Then
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "postgres": True,
        "redis": True,
        "celery": False,
    }
    celery_check = {key: value for key, value in body["checks"]["celery"].items() if key != "ms"}
    assert celery_check == {"ok": False, "error": "RuntimeError: no Celery worker answered a ping within 1s"}


@pytest.mark.django_db
def test_health_is_503_when_redis_does_not_answer(staff_client, private_broker, settings):
    # Given: a Redis address where nothing listens
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    # When
    response = staff_client.get("/health/")
    # Then
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert (checks["postgres"]["ok"], checks["redis"]["ok"]) == (True, False)
    assert checks["redis"]["error"].startswith("ConnectionError: ")


@pytest.mark.django_db
def test_health_answers_get_only(client):
    assert client.post("/health/").status_code == 405


@pytest.mark.django_db
def test_an_anonymous_caller_gets_the_status_only_without_reasons(client, private_broker):
    # When: nothing consumes this broker, and nobody is signed in
    response = client.get("/health/")
    # Then: failing, and nothing about why (no exception text, no worker names, no timings)
    assert response.status_code == 503
    assert response.json() == {"status": "failing"}


@pytest.mark.django_db
def test_an_agent_is_anonymous_to_the_health_check_but_an_api_token_sees_the_checks(client, agent, private_broker):
    # Given: an agent signed in, and an integration token
    client.force_login(agent)
    integrator = UserFactory(username="monitoring", role="integration")
    # When
    as_agent = client.get("/health/")
    as_token = token_client(integrator, scopes=["customers:read"]).get("/health/")
    # Then
    assert as_agent.json() == {"status": "failing"}
    assert as_token.status_code == 503
    assert as_token.json()["checks"]["celery"]["error"] == "RuntimeError: no Celery worker answered a ping within 1s"


def _broadcasts(pubsub) -> int:
    """How many messages were published on the broker's fanout (pidbox) channels so far."""
    count = 0
    while (message := pubsub.get_message(timeout=0.2)) is not None:
        count += message["type"] == "pmessage"
    return count


@pytest.mark.django_db
def test_anonymous_probes_reuse_a_recent_worker_ping_and_staff_get_a_fresh_one(client, supervisor, private_broker):
    # Given: every publish on this test's broker keyspace is counted (a Celery ping is a fanout publish)
    listener = redis.Redis.from_url(settings.REDIS_URL)
    pubsub = listener.pubsub()
    pubsub.psubscribe(f"{private_broker}*")
    assert pubsub.get_message(timeout=1)["type"] == "psubscribe"
    try:
        # When: three anonymous probes, then a supervisor's
        anonymous = [client.get("/health/") for _ in range(3)]
        after_anonymous = _broadcasts(pubsub)
        client.force_login(supervisor)
        staff = client.get("/health/")
        after_staff = _broadcasts(pubsub)
    finally:
        pubsub.close()
        listener.close()
    # Then: the anonymous probes shared one ping; the supervisor's was a fresh one
    assert [response.status_code for response in anonymous] == [503, 503, 503]
    assert after_anonymous == 1
    assert staff.status_code == 503
    assert after_staff == 1


# --- The probes of load balancers and orchestrators: /health/live/ and /health/ready/ ---------------

NEVER_CACHED = "max-age=0, no-cache, no-store, must-revalidate, private"


@pytest.mark.django_db
def test_readiness_is_ok_with_postgres_and_redis_and_wants_no_worker(client, supervisor, private_broker):
    # Given: nothing consumes this broker (no Celery worker), PostgreSQL and Redis answer
    # When: an anonymous probe, then a supervisor's
    anonymous = client.get("/health/ready/")
    client.force_login(supervisor)
    staff = client.get("/health/ready/")
    # Then: ready (a web process serves while workers restart); staff see the two checks, no Celery
    assert anonymous.status_code == 200
    assert anonymous.json() == {"status": "ok"}
    assert anonymous["Cache-Control"] == NEVER_CACHED
    assert staff.status_code == 200
    assert {name: check["ok"] for name, check in staff.json()["checks"].items()} == {"postgres": True, "redis": True}


@pytest.mark.django_db
def test_readiness_is_503_when_redis_does_not_answer_and_liveness_stays_200(client, supervisor, settings):
    # Given: a Redis address where nothing listens
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    # When: anonymous probes, then a supervisor's
    ready = client.get("/health/ready/")
    live = client.get("/health/live/")
    client.force_login(supervisor)
    staff = client.get("/health/ready/")
    # Then: not ready, and nothing about why for an anonymous caller; alive all the same
    assert (ready.status_code, ready.json()) == (503, {"status": "failing"})
    assert ready["Cache-Control"] == NEVER_CACHED
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    assert live["Cache-Control"] == NEVER_CACHED
    checks = staff.json()["checks"]
    assert (staff.status_code, checks["postgres"]["ok"], checks["redis"]["ok"]) == (503, True, False)
    assert checks["redis"]["error"].startswith("ConnectionError: ")


@pytest.mark.django_db
def test_the_probes_answer_get_only(client):
    assert client.post("/health/live/").status_code == 405
    assert client.post("/health/ready/").status_code == 405


def test_a_web_process_whose_database_is_unreachable_is_alive_but_not_ready():
    # Given: a real web process (uvicorn, as make run starts it) whose PostgreSQL address is a port
    # where nothing listens, with the redirect to HTTPS of a deployment on (the probes are exempt)
    dead = f"postgres://cea@127.0.0.1:{free_port()}/cea"
    env = child_environment(DATABASE_URL=dead, CEA_SSL_REDIRECT="1", CEA_DB_POOL_MIN_SIZE="0")
    with Processes() as processes:
        web = processes.web("dead-db", env)
        processes.wait_until_live(web)
        # When
        live = http_get(f"{web.url}/health/live/")
        ready = http_get(f"{web.url}/health/ready/", timeout=30)
        home = http_get(f"{web.url}/")  # any other page still redirects
    # Then
    assert (live[0], json.loads(live[1])) == (200, {"status": "ok"})
    assert (ready[0], json.loads(ready[1])) == (503, {"status": "failing"})
    assert ready[2]["Cache-Control"] == NEVER_CACHED
    assert (home[0], home[2]["Location"]) == (301, f"https://127.0.0.1:{web.port}/")
