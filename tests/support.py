"""Helpers shared by test modules of every app (not collected as tests)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import uvicorn
from celery import current_app
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from cea.accounts.services import api_token_create
from cea.common.db_url import database_url
from records.customers.services import customer_create


def isolated_redis(settings) -> Iterator[str]:
    """A key prefix and a channel layer of the test's own on the shared Redis, removed afterwards.

    A generator for a module's autouse fixture: ``yield from isolated_redis(settings)``.
    """
    prefix = f"cea-test-{uuid.uuid4().hex[:12]}"
    settings.REDIS_PREFIX = prefix
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # As configured (cea/settings.py): the socket timeout and the connection class.
                "hosts": [settings.CHANNEL_LAYER_HOST],
                "prefix": f"{prefix}:channels",
            },
        }
    }
    yield prefix
    redis_keys_delete(settings.REDIS_URL, prefix)


def redis_keys_delete(redis_url: str, prefix: str) -> None:
    """Delete every key under ``prefix:`` on the Redis at ``redis_url``."""
    client = redis.Redis.from_url(redis_url)
    try:
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
    finally:
        client.close()


def child_environment(**overrides: str) -> dict[str, str]:
    """The environment for a process a test starts (a Celery worker, ``manage.py``): this one's,
    pointed at the test database and the suite's Redis, with the same secret key and mode, in
    embedded and stack mode alike. The one place tests take these from."""
    return {
        **os.environ,
        "DATABASE_URL": database_url(django_settings.DATABASES["default"]),
        "REDIS_URL": django_settings.REDIS_URL,
        "SECRET_KEY": django_settings.SECRET_KEY,
        "CEA_EMBEDDED": "1" if django_settings.EMBEDDED else "0",
        **overrides,
    }


def token_client(user, scopes=("conversations:read", "conversations:write")) -> APIClient:
    """An API client authenticated with a new token of ``user`` with ``scopes``."""
    _, plaintext = api_token_create(user=user, name="tests", scopes=list(scopes), expires_at=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


def session_client(user) -> APIClient:
    """An API client signed in with a browser session, as the desktop calls the API."""
    client = APIClient()
    client.force_login(user)
    return client


def make_customer(team=None, *, given_name: str = "Alice", family_name: str = "Smith", **fields):
    """A customer made by the system through the service, so journey and audit rows exist."""
    return customer_create(actor=None, given_name=given_name, family_name=family_name, team=team, **fields)


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The response is the one error shape with ``status``; return its ``error`` object."""
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code
    return error


def eager_celery() -> Iterator[None]:
    """Celery tasks run in the process that sends them (on commit) for the duration.

    A generator for a fixture: ``yield from eager_celery()``.
    """
    conf = current_app.conf
    before = conf.task_always_eager, conf.task_eager_propagates
    conf.task_always_eager, conf.task_eager_propagates = True, True
    yield
    conf.task_always_eager, conf.task_eager_propagates = before


def finished_within(seconds: float, *, setup: str, work: str) -> str:
    """``repr`` of the Python expression ``work``, evaluated in a new process within ``seconds``.

    The process sets Django up and runs ``setup`` first, outside the deadline (a loaded machine
    starts slowly); only ``work`` is timed. For work that must not take the CPU for long, such as
    hostile input for a parser or a regular expression: a generous deadline, so that only an
    unbounded running time fails it. The test fails when the deadline passes.
    """
    script = (
        f"import sys\nimport django\ndjango.setup()\n{setup}\n"
        f"print('ready', flush=True)\nsys.stdin.readline()\nprint(repr({work}), flush=True)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "cea.settings"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline() == "ready\n", child.stderr.read()
        out, err = child.communicate("go\n", timeout=seconds)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        pytest.fail(f"{work} did not finish within {seconds} s.")
    assert child.returncode == 0, err
    return out.rstrip("\n")


class LiveServer:
    """The real ASGI application under uvicorn, in a thread, on a free port of 127.0.0.1."""

    def __init__(self, app) -> None:
        self.app = app
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    def start(self, *, timeout: float = 20) -> None:
        config = uvicorn.Config(
            self.app, lifespan="off", log_level="warning", access_log=False, timeout_graceful_shutdown=5
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, name=f"uvicorn-{self.port}", daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError(f"The test server on port {self.port} stopped while starting (see its log).")
            if time.monotonic() > deadline:
                raise RuntimeError(f"The test server on port {self.port} did not start within {timeout} s.")
            time.sleep(0.02)

    def stop(self, *, timeout: float = 20) -> None:
        if self.server is None or self.thread is None:
            return
        self.server.should_exit = True
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise RuntimeError(f"The test server on port {self.port} did not stop within {timeout} s.")
        self.sock.close()
