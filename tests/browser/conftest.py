"""Browser tests: a real headless Chromium (Playwright, sync API) against the real ASGI application.

What a browser test gets:

- ``asgi_server``: ``cea.asgi.application`` (HTTP, websockets, Channels on the Redis channel layer)
  served by uvicorn in a thread of the test process, on a free port of 127.0.0.1 (so each xdist
  worker has its own), with ``/static/`` served from the source folders. The server is started per
  test and stopped (its websockets closed) before the test's database is flushed; it shares the
  test's settings (its own Redis prefix and channel layer) and its database (``transactional_db``:
  the server's threads see the rows the test commits, and the test sees theirs).
- Celery tasks run eagerly in the process, so the router runs on commit inside the server, as a
  worker would moments later.
- ``new_context()``: a fresh browser context (its own cookies and localStorage: one visitor or one
  agent), closed at the end of the test, before the server stops.

Chromium is ``$CEA_CHROMIUM``, else ``/usr/bin/chromium``, else ``chromium`` on ``PATH``. Without one
the tests fail (``.ci/run`` installs Debian's); a developer may set ``CEA_BROWSER_TESTS=skip`` to
skip them on a machine without a browser.

While Playwright runs, its event loop is the "running loop" of the main thread, so Django would
refuse the tests' own ORM calls as "async unsafe"; ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set for as long
as the browser runs (the browser tests' package only, so other tests on the same worker keep the
check).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

from tests.browser.helpers import TIMEOUT_MS
from tests.support import LiveServer, isolated_redis
from tests.support import eager_celery as run_tasks_eagerly

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


# --- The browser ------------------------------------------------------------------------------


def chromium_executable() -> str | None:
    """``$CEA_CHROMIUM``, ``/usr/bin/chromium`` or ``chromium`` on PATH; ``None`` when there is none."""
    configured = os.environ.get("CEA_CHROMIUM", "").strip()
    if configured:
        return configured
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def _no_browser(message: str) -> None:
    if os.environ.get("CEA_BROWSER_TESTS", "").strip().lower() == "skip":
        pytest.skip(f"{message} (CEA_BROWSER_TESTS=skip)")
    pytest.fail(
        f"{message}. The browser tests need Chromium: install it with `sudo apt-get install -y chromium` (.ci/run "
        "does), or point CEA_CHROMIUM at a Chromium binary. To skip them on this machine only, set "
        "CEA_BROWSER_TESTS=skip.",
        pytrace=False,
    )


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One headless Chromium per xdist worker, for the browser tests' package only."""
    executable = chromium_executable()
    if executable is None:
        _no_browser("No Chromium found: CEA_CHROMIUM is not set, /usr/bin/chromium does not exist, no chromium on PATH")
    elif not os.access(executable, os.X_OK):
        _no_browser(f"CEA_CHROMIUM={executable!r} is not an executable file")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with pytest.MonkeyPatch.context() as patch:
        # See the module's docstring: the tests' ORM calls run beside Playwright's event loop.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            try:
                chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            except Exception as error:
                pytest.fail(f"Chromium at {executable} did not start: {error}", pytrace=False)
            try:
                yield chromium
            finally:
                chromium.close()


# --- The server -------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _redis(settings) -> Iterator[str]:
    yield from isolated_redis(settings)


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Celery tasks run in the process that sends them (here: inside the server, on commit)."""
    yield from run_tasks_eagerly()


@pytest.fixture
def asgi_server(browser, transactional_db, eager_celery, settings) -> Iterator[LiveServer]:
    """``cea.asgi.application`` served over HTTP and websockets for this test (see the module's docstring).

    Not pytest-django's ``live_server``: that one serves WSGI, without websockets.
    """
    from cea.asgi import application

    server = LiveServer(ASGIStaticFilesHandler(application))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def new_context(browser, asgi_server) -> Iterator[Callable[..., Any]]:
    """Make browser contexts (one per visitor or agent), with the live server as base URL."""
    contexts = []

    def make(**options):
        context = browser.new_context(base_url=asgi_server.url, **options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
