"""Which ASGI server should run the web process? The same endpoints, client and data under each.

    .venv/bin/python bench/asgi_servers.py [--requests 2000] [--concurrency 8] [--rounds 2] [--force]
                                           [--servers NAME,…] [--wsgi-reference]

Servers: uvicorn with 1 worker, uvicorn with 2 workers, gunicorn with 2 uvicorn workers (the
Procfile's command) and daphne (1 process), all with the connection pool of the settings (the
default); "uvicorn (1 worker) without pool" is the same worker with CEA_DB_POOL_MAX_SIZE=0 (a connection
per request, as before the pool) and "uvicorn (1 worker) as before" the same worker with Django's
own ASGI handler (bench/stock_asgi.py) and no API token cache (CEA_API_TOKEN_CACHE_SECONDS=0),
issue 17's changes off, for comparison; with --wsgi-reference, also gunicorn's sync WSGI
workers (HTTP only: a reference, not a candidate).

The floor of every figure: a bare ASGI callable (bench/bare_asgi.py) under the same uvicorn, one
worker, measured with the same client in every round; each figure is printed with its ratio to it.

Endpoints, with an API token: GET /api/v1/customers/<id>/ (the customer 360) and GET
/api/v1/sla-policies/ (trivial: authentication, middleware and DRF, almost no work).

Each server is started, measured on both endpoints and stopped, in turn; the order of the servers
is reversed every round so that drift on the shared machine spreads over all of them. Prints
requests/s, p50 and p99 per server and endpoint, requests/s relative to the bare ASGI app and to
uvicorn with 1 worker (one process, no supervisor), the trivial endpoint against issue 17's 94
requests/s before, and the PostgreSQL sessions opened per 1,000 requests.

Needs the data of bench/records.py (run it first; it loads the database named by DATABASE_URL).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: bench/ is sys.path[0], where bench/records.py would shadow the ``records`` app.
    _root = Path(__file__).resolve().parent.parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _root / "bench"]
    sys.path.insert(0, str(_root))

from bench.common import (
    BARE_ASGI,
    PROXY_HEADERS,
    SERVER_ENV,
    LoadResult,
    Server,
    bare_asgi_command,
    free_port,
    guard_database,
    load,
    machine,
    server_commands,
    setup_django,
    verdict,
)
from bench.records import API_POOL, FLOOR_PATH, api_token, commit, database_sessions, prepare_api_pool

BASELINE = "uvicorn (1 worker)"
NO_POOL = "uvicorn (1 worker) without pool"
# Issue 17's changes off: Django's own ASGIHandler (bench/stock_asgi.py) and no API token cache.
AS_BEFORE = "uvicorn (1 worker) as before"
# Issue 17: the trivial endpoint served about 94 requests/s per uvicorn worker before; the target is 5x.
TRIVIAL_BEFORE_RPS = 94.0
TRIVIAL_TARGET = 5.0


WSGI_REFERENCE = "reference: gunicorn WSGI sync (2), persistent conns"


def variants(port: int, wsgi: bool) -> dict[str, tuple[list[str], dict[str, str]]]:
    """Server name: (command, extra environment), the bare ASGI floor first."""
    found: dict[str, tuple[list[str], dict[str, str]]] = {BARE_ASGI: (bare_asgi_command(port), {})}
    found.update({name: (command, dict(SERVER_ENV)) for name, command in server_commands(port).items()})
    found[NO_POOL] = (server_commands(port)[BASELINE], {**SERVER_ENV, "CEA_DB_POOL_MAX_SIZE": "0"})
    stock = [part if part != "cea.asgi:application" else "bench.stock_asgi:application" for part in found[BASELINE][0]]
    found[AS_BEFORE] = (stock, {**SERVER_ENV, "CEA_API_TOKEN_CACHE_SECONDS": "0"})
    if wsgi:
        # Not a candidate (no websockets): what the same code gives when a process keeps its connection.
        command = [sys.executable, "-m", "gunicorn", "cea.wsgi:application", "--bind", f"127.0.0.1:{port}"]
        found[WSGI_REFERENCE] = ([*command, "--workers", "2", "--log-level", "warning"], dict(SERVER_ENV))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description="Compare ASGI servers on CEA endpoints (see docs/performance.md)")
    parser.add_argument("--requests", type=int, default=2000, help="HTTP requests per server and endpoint")
    parser.add_argument("--concurrency", type=int, default=8, help="HTTP connections kept busy")
    parser.add_argument("--rounds", type=int, default=2, help="times each server is started and measured")
    parser.add_argument("--servers", help="comma-separated subset of the servers' names (the floor is always run)")
    parser.add_argument(
        "--wsgi-reference",
        action="store_true",
        help="also gunicorn's sync WSGI workers with persistent connections (a reference, not a candidate)",
    )
    parser.add_argument("--force", action="store_true", help="allow a database whose name lacks 'bench'")
    args = parser.parse_args()

    setup_django()
    database = guard_database(force=args.force)
    pool = prepare_api_pool(API_POOL)
    names = list(variants(0, args.wsgi_reference))
    if args.servers:
        wanted = [name.strip() for name in args.servers.split(",")]
        unknown = [name for name in wanted if name not in names]
        if unknown:
            parser.error(f"unknown servers {unknown}; choose from {names}")
        names = [BARE_ASGI, *(name for name in wanted if name != BARE_ASGI)]
    endpoints = {"360": [f"/api/v1/customers/{pk}/" for pk in pool], "trivial": [FLOOR_PATH]}
    results = {(name, endpoint): LoadResult() for name in names for endpoint in endpoints}
    sessions = {name: [0, 0] for name in names}  # PostgreSQL sessions opened, requests made

    token, plaintext = api_token()
    headers = {"Authorization": f"Bearer {plaintext}", **PROXY_HEADERS}
    per_round = max(1, args.requests // args.rounds)
    try:
        for number in range(args.rounds):
            for name in names if number % 2 == 0 else reversed(names):
                port = free_port()
                command, env = variants(port, args.wsgi_reference)[name]
                print(f"round {number + 1}: {name} …", flush=True)
                with Server(name, command, port, FLOOR_PATH, headers, env=env):
                    before = database_sessions()
                    # The bare app answers any path alike: measured once a round, under the trivial endpoint.
                    for endpoint, paths in endpoints.items() if name != BARE_ASGI else [("trivial", [FLOOR_PATH])]:
                        outcome = load(
                            port=port,
                            paths=paths,
                            headers=headers,
                            concurrency=args.concurrency,
                            requests=per_round,
                            warmup=100,
                        )
                        results[name, endpoint].add(outcome)
                        sessions[name][1] += outcome["requests"] + 100
                # Counted once the server is gone: a session is counted when it ends.
                time.sleep(1.0)
                sessions[name][0] += database_sessions() - before
    finally:
        from cea.accounts.services import api_token_revoke

        api_token_revoke(token=token)

    print()
    print(f"CEA ASGI servers — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit()}, database {database}")
    print(f"Machine: {machine()}; Python {sys.version.split()[0]}")
    print(
        f"Client: its own process, {args.concurrency} keep-alive connections, {per_round * args.rounds:,} requests "
        f"per server and endpoint over {args.rounds} rounds (after 100 warm-up requests each); access logs off."
    )
    width = max(len(name) for name in names)
    floor = results[BARE_ASGI, "trivial"]
    print(
        f"{'server':<{width}} {'endpoint':<8} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8}  "
        f"{'vs bare':>8} {'vs ' + BASELINE:>24} {'vs trivial':>10}"
    )
    print(
        f"{BARE_ASGI:<{width}} {'(floor)':<8} {floor.rps:>7.0f} {floor.latencies.p50_ms:>8.2f} "
        f"{floor.latencies.p99_ms:>8.2f}  {'1.00x':>8}{floor.problems()}"
    )
    django_names = [name for name in names if name != BARE_ASGI]
    for endpoint in endpoints:
        baseline = results.get((BASELINE, endpoint))
        for name in django_names:
            result = results[name, endpoint]
            trivial_result = results[name, "trivial"]
            print(
                f"{name:<{width}} {endpoint:<8} {result.rps:>7.0f} {result.latencies.p50_ms:>8.2f} "
                f"{result.latencies.p99_ms:>8.2f}  {_ratio(result.rps, floor.rps):>8} "
                f"{_ratio(result.rps, baseline.rps if baseline else 0):>24} "
                f"{_ratio(result.rps, trivial_result.rps) if endpoint != 'trivial' else '':>10}{result.problems()}"
            )
    print()
    for name in django_names:
        trivial = results[name, "trivial"].rps
        print(
            f"{name}: trivial {trivial:.0f} req/s = {trivial / TRIVIAL_BEFORE_RPS:.2f}x issue 17's "
            f"{TRIVIAL_BEFORE_RPS:.0f} req/s (target {TRIVIAL_TARGET:.0f}x: "
            f"{verdict(trivial >= TRIVIAL_TARGET * TRIVIAL_BEFORE_RPS)}); 360 / trivial "
            f"{_ratio(results[name, '360'].rps, trivial)} (target 0.5x: "
            f"{verdict(results[name, '360'].rps >= 0.5 * trivial)})"
        )
    print(f"Load average at the end: {machine()}")
    print()
    print("PostgreSQL sessions opened per 1,000 requests (both endpoints):")
    for name in django_names:
        opened, made = sessions[name]
        print(f"  {name:<{width}} {opened * 1000 / made if made else 0:>6.0f}")


def _ratio(value: float, floor: float) -> str:
    return f"{value / floor:.2f}x" if floor else "-"


if __name__ == "__main__":
    main()
