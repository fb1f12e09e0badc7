"""Each ASGI request's sync code runs on one thread of its own, reused by later requests
rather than started anew (cea/common/asgi_handler.py)."""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.core.signals import request_finished, request_started
from django.http import HttpResponse
from django.urls import path

from cea.asgi import application, django_asgi_app
from cea.common.asgi_handler import ThreadReusingASGIHandler

_both_in_flight = threading.Barrier(2, timeout=10)


def _thread(request):
    return HttpResponse(str(threading.get_ident()))


def _wait_for_the_other(request):
    _both_in_flight.wait()  # both requests are in their views at once, or this times out
    return HttpResponse(str(threading.get_ident()))


urlpatterns = [path("thread/", _thread), path("together/", _wait_for_the_other)]


@pytest.fixture(autouse=True)
def _these_views(settings):
    settings.ROOT_URLCONF = __name__


async def _get(path_: str, app=application) -> tuple[int, int]:
    """GET through the ASGI application (or ``app``) as a server would: (status, the view's thread id)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path_,
        "raw_path": path_.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    communicator = ApplicationCommunicator(app, scope)
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(timeout=15)
    body = await communicator.receive_output(timeout=15)
    await communicator.wait(timeout=15)
    return start["status"], int(body["body"])


def test_the_served_application_uses_the_thread_reusing_handler():
    assert isinstance(django_asgi_app, ThreadReusingASGIHandler)


def test_requests_one_after_another_reuse_one_thread_and_each_runs_its_signals_on_it():
    # Given: receivers noting the thread of each request's start and end
    seen: list[tuple[str, int]] = []

    def started(**kwargs):
        seen.append(("started", threading.get_ident()))

    def finished(**kwargs):
        seen.append(("finished", threading.get_ident()))

    request_started.connect(started, dispatch_uid="test-asgi-started")
    request_finished.connect(finished, dispatch_uid="test-asgi-finished")
    try:
        # When: three requests, one after the other
        results = [async_to_sync(_get)("/thread/") for _ in range(3)]
    finally:
        request_started.disconnect(dispatch_uid="test-asgi-started")
        request_finished.disconnect(dispatch_uid="test-asgi-finished")
    # Then: all answered, on one thread that is not the event loop's, signals included
    assert [status for status, _ in results] == [200, 200, 200]
    threads = {thread for _, thread in results}
    assert len(threads) == 1
    assert threads != {threading.get_ident()}
    assert [name for name, _ in seen] == ["started", "finished"] * 3
    assert {thread for _, thread in seen} == threads


def test_requests_in_flight_at_once_each_have_a_thread_of_their_own():
    # Given: a view that returns only once both requests are in it
    async def both() -> tuple[tuple[int, int], tuple[int, int]]:
        return await asyncio.gather(_get("/together/"), _get("/together/"))

    # When
    results = async_to_sync(both)()
    # Then: neither waited for the other's thread
    assert [status for status, _ in results] == [200, 200]
    assert results[0][1] != results[1][1]


class _AsyncCapableRecorder:
    """A middleware that can run either way (as django-axes can) and notes which way it ran, and where."""

    sync_capable = True
    async_capable = True
    calls: list[tuple[str, int]] = []

    def __init__(self, get_response):
        self.get_response = get_response
        if asyncio.iscoroutinefunction(get_response):
            from asgiref.sync import markcoroutinefunction

            markcoroutinefunction(self)

    def __call__(self, request):
        if asyncio.iscoroutinefunction(self):
            return self._acall(request)
        self.calls.append(("sync", threading.get_ident()))
        return self.get_response(request)

    async def _acall(self, request):
        self.calls.append(("async", threading.get_ident()))
        return await self.get_response(request)


def test_the_middleware_and_the_view_run_in_one_hop_to_the_request_thread(settings):
    # Given: a handler whose chain mixes a sync-only middleware and an async-capable one below it,
    # as CEA's does (ApplicationErrorMiddleware, then django-axes)
    settings.MIDDLEWARE = ["cea.common.middleware.ApplicationErrorMiddleware", f"{__name__}._AsyncCapableRecorder"]
    _AsyncCapableRecorder.calls = []
    handler = ThreadReusingASGIHandler()
    # When
    status, view_thread = async_to_sync(_get)("/thread/", handler)
    # Then: the chain is the sync one, and the async-capable middleware ran on the view's thread, not
    # back on the event loop (Django's own handler calls it async, between two hops to the thread)
    assert status == 200
    assert not asyncio.iscoroutinefunction(handler._middleware_chain)
    assert _AsyncCapableRecorder.calls == [("sync", view_thread)]
