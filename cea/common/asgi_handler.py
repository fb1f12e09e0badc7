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
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext
from django.core.handlers.asgi import ASGIHandler

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


def get_asgi_application() -> ThreadReusingASGIHandler:
    """As ``django.core.asgi.get_asgi_application``, with this handler."""
    import django

    django.setup(set_prefix=False)
    return ThreadReusingASGIHandler()
