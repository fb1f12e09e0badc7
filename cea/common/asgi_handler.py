"""Django's ASGI handler, with each request's thread borrowed from a set that is kept, not started anew.

Django runs the sync code of an ASGI request (signals, middleware, the view, closing the response)
in a thread of its own: ``ASGIHandler`` enters a ``ThreadSensitiveContext``, for which asgiref
starts a new single-thread executor, and when the request ends it starts another thread to join
it. Two thread starts per request, each of which blocks the event loop until the operating
system runs the new thread: on a busy machine, a large share of a small request
(docs/performance.md, "The trivial endpoint and the 360 per worker").

``ThreadReusingASGIHandler`` gives each request in flight a single-thread executor of its own, as
before — so all of one request's sync code still runs on one thread, in order, and requests
still run side by side — but takes it from a free list and puts it back when the request is
done, so threads are started only when more requests are in flight than ever before. At most
``IDLE_THREADS`` wait in the list; more are shut down. The thread's Django state is what a
WSGI server's reused threads see: database connections go back to the pool (or are closed) at
``request_finished``, and the locale is activated per request.

It also runs the middleware and the view in **one** hop to that thread. Django's own handler builds
its middleware chain for async: a sync-only middleware is wrapped in ``sync_to_async``, an async-capable
one below it (django-axes) is called back on the event loop through ``async_to_sync``, and the sync
view goes to the thread again: four hand-overs between the loop and the thread per request, each a
wake-up of the other side. CEA's HTTP views and middleware are all sync, so this handler builds the
sync chain (as under WSGI) and runs it whole on the request's thread; an async view would still work
(Django adapts it with ``async_to_sync``), only less directly.

And it makes that hop the request's only one, as under WSGI. Django's ``handle`` hands over to the
thread three times a request — the ``request_started`` signal, the chain, ``response.close()`` (which
sends ``request_finished``: the database connection goes back to the pool) — and races the chain
against a task listening for the client's disconnect, which can cancel the wait for a sync view but
never the view itself. Here one call on the request's thread sends ``request_started``, builds the
request, runs the chain and, for a response whose body is already whole, closes it; the loop then
sends the response. A streaming response (a file download) is closed after its body is sent, in a
second hop. Each hop costs the loop and the thread a wake-up each: one instead of three took about
a fifth off a small request's CPU in-process and an eighth through uvicorn (docs/performance.md,
"The third pass: one hand-over to the request's thread").
A client that hangs up meanwhile changes nothing: its answer goes nowhere (the server drops it).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse, HttpResponseBase
from django.urls import set_script_prefix

IDLE_THREADS = 64


class ThreadReusingASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        super().__init__()
        self._idle: list[ThreadPoolExecutor] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        # The loop is single-threaded: no lock needed around the list.
        executor = self._idle.pop() if self._idle else ThreadPoolExecutor(1, thread_name_prefix="cea-request")
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            # A request cancelled while its view still runs leaves work queued on this executor;
            # the next request's work waits behind it on the same thread, in order.
            if len(self._idle) < IDLE_THREADS:
                self._idle.append(executor)
            else:
                executor.shutdown(wait=False)

    def load_middleware(self, is_async: bool = False) -> None:
        # The sync chain whatever Django asks for (ASGIHandler asks for the async one).
        super().load_middleware(is_async=False)

    async def handle(self, scope, receive, send) -> None:
        """As ``ASGIHandler.handle``, with the request's sync work in one hop (see the module's docstring)."""
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        try:
            set_script_prefix(get_script_prefix(scope))
            response = await sync_to_async(self._respond, thread_sensitive=True)(scope, body_file)
            try:
                await self.send_response(response, send)
            except asyncio.CancelledError:
                pass  # the client went away while its answer was sent, as Django's handler allows
            finally:
                if response.streaming:
                    await sync_to_async(response.close, thread_sensitive=True)()
        finally:
            body_file.close()

    def _respond(self, scope: dict[str, Any], body_file) -> HttpResponseBase:
        """On the request's thread: its start, the request, the chain, and its end unless its body streams."""
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            response = cast(HttpResponseBase, error_response)  # a request Django cannot read: 400 or 413
        else:
            response = self.get_response(request)
            response._handler_class = self.__class__  # type: ignore[attr-defined]
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        if not response.streaming:
            response.close()
        return response


def get_asgi_application() -> ThreadReusingASGIHandler:
    """As ``django.core.asgi.get_asgi_application``, with this handler."""
    import django

    django.setup(set_prefix=False)
    return ThreadReusingASGIHandler()
