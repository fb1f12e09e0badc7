"""Which ASGI server should run the web process? The same endpoints, client and data under each.

    .venv/bin/python bench/asgi_servers.py [--requests 2000] [--concurrency 8] [--rounds 2] [--force]
                                           [--pool-python /tmp/cea-pool-venv/bin/python] [--wsgi-reference]

Servers: uvicorn with 1 worker, uvicorn with 2 workers, gunicorn with 2 uvicorn workers (the
Procfile's command) and daphne (1 process); with --pool-python, also uvicorn and gunicorn under
Django's psycopg 3 connection pool (bench/pool_settings.py) instead of a connection per request;
with --wsgi-reference, gunicorn's sync WSGI workers keeping their connections (HTTP only: a
reference for what connection reuse is worth, not a candidate).

Endpoints, with an API token: GET /api/v1/customers/<id>/ (the customer 360) and GET
/api/v1/sla-policies/ (trivial: authentication, middleware and DRF, almost no work).

Each server is started, measured on both endpoints and stopped, in turn; the order of the servers
is reversed every round so that drift on the shared machine spreads over all of them. Prints
requests/s, p50 and p99 per server and endpoint, requests/s relative to uvicorn with 1 worker
(one process, no supervisor: the floor), and the PostgreSQL sessions opened per 1,000 requests.

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
    LoadResult,
    Server,
    free_port,
    guard_database,
    load,
    machine,
    server_commands,
    setup_django,
)
from bench.records import API_POOL, FLOOR_PATH, api_token, commit, database_sessions, prepare_api_pool

BASELINE = "uvicorn (1 worker)"
POOLED = ("uvicorn (1 worker)", "gunicorn + uvicorn workers (2)")


WSGI_REFERENCE = "reference: gunicorn WSGI sync (2), persistent conns"


def variants(port: int, pool_python: str | None, wsgi: bool) -> dict[str, tuple[list[str], dict[str, str]]]:
    """Server name: (command, extra environment). Pooled variants only with an interpreter that has psycopg 3."""
    found = {name: (command, {}) for name, command in server_commands(port).items()}
    if pool_python:
        pooled = server_commands(port, python=pool_python)
        for name in POOLED:
            found[f"{name} + psycopg pool"] = (pooled[name], {"DJANGO_SETTINGS_MODULE": "bench.pool_settings"})
    if wsgi:
        # Not a candidate (no websockets): what the same code gives when a process keeps its connection.
        command = [sys.executable, "-m", "gunicorn", "cea.wsgi:application", "--bind", f"127.0.0.1:{port}"]
        found[WSGI_REFERENCE] = ([*command, "--workers", "2", "--log-level", "warning"], {"CEA_DB_CONN_MAX_AGE": "600"})
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description="Compare ASGI servers on CEA endpoints (see docs/performance.md)")
    parser.add_argument("--requests", type=int, default=2000, help="HTTP requests per server and endpoint")
    parser.add_argument("--concurrency", type=int, default=8, help="HTTP connections kept busy")
    parser.add_argument("--rounds", type=int, default=2, help="times each server is started and measured")
    parser.add_argument("--servers", help="comma-separated subset of the servers' names")
    parser.add_argument(
        "--pool-python",
        help="an interpreter with psycopg[binary,pool] (see bench/pool_settings.py): adds pooled variants",
    )
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
    names = list(variants(0, args.pool_python, args.wsgi_reference))
    if args.servers:
        wanted = [name.strip() for name in args.servers.split(",")]
        unknown = [name for name in wanted if name not in names]
        if unknown:
            parser.error(f"unknown servers {unknown}; choose from {names}")
        names = wanted
    endpoints = {"360": [f"/api/v1/customers/{pk}/" for pk in pool], "trivial": [FLOOR_PATH]}
    results = {(name, endpoint): LoadResult() for name in names for endpoint in endpoints}
    sessions = {name: [0, 0] for name in names}  # PostgreSQL sessions opened, requests made

    token, plaintext = api_token()
    headers = {"Authorization": f"Bearer {plaintext}"}
    per_round = max(1, args.requests // args.rounds)
    try:
        for number in range(args.rounds):
            for name in names if number % 2 == 0 else reversed(names):
                port = free_port()
                command, env = variants(port, args.pool_python, args.wsgi_reference)[name]
                print(f"round {number + 1}: {name} …", flush=True)
                with Server(name, command, port, FLOOR_PATH, headers, env=env):
                    before = database_sessions()
                    for endpoint, paths in endpoints.items():
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
    print(f"{'server':<{width}} {'endpoint':<8} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8}  vs {BASELINE}")
    for endpoint in endpoints:
        baseline = results.get((BASELINE, endpoint))
        for name in names:
            result = results[name, endpoint]
            relative = f"{result.rps / baseline.rps:.2f}x" if baseline and baseline.rps else "-"
            print(
                f"{name:<{width}} {endpoint:<8} {result.rps:>7.0f} {result.latencies.p50_ms:>8.2f} "
                f"{result.latencies.p99_ms:>8.2f}  {relative}{result.problems()}"
            )
    print()
    print("PostgreSQL sessions opened per 1,000 requests (both endpoints):")
    for name in names:
        opened, made = sessions[name]
        print(f"  {name:<{width}} {opened * 1000 / made if made else 0:>6.0f}")


if __name__ == "__main__":
    main()
