"""Each ASGI request's sync code runs on one thread of its own, reused by later requests
rather than started anew (cea/common/asgi_handler.py)."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.core.signals import request_finished, request_started
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import path

from cea.asgi import application, django_asgi_app
from cea.common.asgi_handler import ThreadReusingASGIHandler

_both_in_flight = threading.Barrier(2, timeout=10)


def _thread(request):
    return HttpResponse(str(threading.get_ident()))


def _wait_for_the_other(request):
    _both_in_flight.wait()  # both requests are in their views at once, or this times out
    return HttpResponse(str(threading.get_ident()))


def _stream(request):
    def chunks():
        yield b"1"
        yield b"2"

    response = StreamingHttpResponse(chunks())
    response._resource_closers.append(lambda: _events.append("closed"))
    return response


_events: list[str] = []

urlpatterns = [path("thread/", _thread), path("together/", _wait_for_the_other), path("stream/", _stream)]


class _CountingExecutor(ThreadPoolExecutor):
    """The request thread's executor, counting the hand-overs to it."""

    def __init__(self) -> None:
        super().__init__(1)
        self.handed_over = 0

    def submit(self, *args, **kwargs):
        self.handed_over += 1
        return super().submit(*args, **kwargs)


async def _exchange(app, path_: str, query: bytes = b"") -> list[dict]:
    """Every message the application sends for a GET of ``path_`` (with ``query``) as a server would, in order."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path_,
        "raw_path": path_.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    communicator = ApplicationCommunicator(app, scope)
    await communicator.send_input({"type": "http.request", "body": b""})
    await communicator.wait(timeout=15)
    messages = []
    while not communicator.output_queue.empty():
        messages.append(communicator.output_queue.get_nowait())
    return messages


@pytest.fixture(autouse=True)
def _these_views(settings):
    settings.ROOT_URLCONF = __name__


async def _get(path_: str, app=application) -> tuple[int, int]:
    """GET through the ASGI application (or ``app``) as a server would: (status, the view's thread id)."""
    start, body = await _exchange(app, path_)
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


def test_a_request_hands_over_to_its_thread_once_and_a_streamed_one_ends_after_its_body():
    # Given: a handler whose request thread counts what it is handed, and a receiver of request_finished
    handler = ThreadReusingASGIHandler()
    executor = _CountingExecutor()
    handler._idle.append(executor)
    _events.clear()

    def finished(**kwargs):
        _events.append("finished")

    request_finished.connect(finished, dispatch_uid="test-asgi-one-hop")
    try:
        # When: a plain request
        plain = async_to_sync(_exchange)(handler, "/thread/")
        # Then: answered after one hand-over (start, middleware, view and end together), its end sent
        assert plain[0]["status"] == 200
        assert int(plain[1]["body"]) != threading.get_ident()
        assert executor.handed_over == 1
        assert _events == ["finished"]

        # When: a streamed request, on the same thread
        _events.clear()
        streamed = async_to_sync(_exchange)(handler, "/stream/")
    finally:
        request_finished.disconnect(dispatch_uid="test-asgi-one-hop")
        executor.shutdown()
    # Then: its body is sent whole, and only then is it closed (its end sent), in a second hand-over
    assert streamed[0]["status"] == 200
    assert b"".join(message.get("body", b"") for message in streamed[1:]) == b"12"
    assert _events == ["closed", "finished"]
    # one more hand-over each: the chunks, read on the thread (Django's sync iterator), and the close
    assert executor.handed_over == 1 + 3


def test_a_request_django_cannot_read_gets_its_error_and_ends(settings):
    # Given: a request whose query string is not UTF-8 (Django answers 400 before any view)
    handler = ThreadReusingASGIHandler()
    _events.clear()

    def finished(**kwargs):
        _events.append("finished")

    request_finished.connect(finished, dispatch_uid="test-asgi-bad-request")
    try:
        # When
        messages = async_to_sync(_exchange)(handler, "/thread/", b"q=\xff")
    finally:
        request_finished.disconnect(dispatch_uid="test-asgi-bad-request")
    # Then: a clear 400, and the request still ended (request_finished: its connection back to the pool)
    assert messages[0]["status"] == 400
    assert _events == ["finished"]
