"""A small HTTP/1.1 load generator: keep-alive connections, a fixed number in flight, per-request latency.

Run as its own process (``python -m bench.loadgen``) so that the client and the server under test
do not share an interpreter. Standard library only (uvloop when present), so that it adds no
dependency and costs little CPU next to the server: on a 2-core machine every cycle it spends is
taken from the server. Prints one JSON object: counts, wall time, requests/s and the latencies.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import time
from collections import Counter


class ProtocolError(Exception):
    pass


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; return (status, server wants the connection closed)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise ProtocolError(f"bad status line {lines[0]!r}")
    status = int(parts[1])
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif status not in (204, 304):
        raise ProtocolError("response without length (the client needs keep-alive)")
    closing = headers.get("connection", "").lower() == "close"
    return status, closing


async def run(
    *, host: str, port: int, paths: list[str], headers: list[str], concurrency: int, requests: int, warmup: int
) -> dict:
    extra = "".join(f"{header}\r\n" for header in headers)
    prepared = [f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}\r\n".encode() for path in paths]
    order = itertools.cycle(prepared)
    ticket = itertools.count()
    latencies_us: list[int] = []
    statuses: Counter[int] = Counter()
    errors: list[str] = []
    total = warmup + requests
    started_at: list[float] = []

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while (number := next(ticket)) < total:
                if number == warmup:
                    started_at.append(time.perf_counter())
                request = next(order)
                begin = time.perf_counter_ns()
                writer.write(request)
                try:
                    status, closing = await read_response(reader)
                except (ProtocolError, asyncio.IncompleteReadError, ConnectionError) as exc:
                    errors.append(repr(exc))
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                    continue
                elapsed = time.perf_counter_ns() - begin
                if number >= warmup:
                    latencies_us.append(elapsed // 1000)
                    statuses[status] += 1
                if closing:
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(concurrency)))
    finished = time.perf_counter()
    seconds = finished - started_at[0] if started_at else 0.0
    return {
        "requests": len(latencies_us),
        "seconds": seconds,
        "rps": len(latencies_us) / seconds if seconds else 0.0,
        "statuses": {str(code): count for code, count in sorted(statuses.items())},
        "errors": errors[:10],
        "error_count": len(errors),
        "latencies_us": latencies_us,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--paths", required=True, help="JSON list of paths, requested in turn")
    parser.add_argument("--header", action="append", default=[], help="'Name: value', repeatable")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args(argv)
    try:
        import uvloop  # optional: only to keep the client's own cost low

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    result = runner(
        run(
            host=args.host,
            port=args.port,
            paths=json.loads(args.paths),
            headers=args.header,
            concurrency=args.concurrency,
            requests=args.requests,
            warmup=args.warmup,
        )
    )
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
