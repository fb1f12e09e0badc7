"""The floor of the HTTP benchmarks: a bare ASGI callable that answers every request 200 with a tiny JSON body.

    uvicorn bench.bare_asgi:app --workers 1 …   (started by bench/asgi_servers.py and bench/records.py)

No Django, no database, no Redis: what one uvicorn worker, its HTTP parser and the event loop cost
per request on this machine, measured with the same client in the same run as the endpoints.
"""

from __future__ import annotations

BODY = b'{"ok":true}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope, receive, send) -> None:
    if scope["type"] != "http":  # lifespan is off in the benches; refuse anything else plainly
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
