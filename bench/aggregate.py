"""The aggregated customer view: latency of GET /api/v1/customers/{id}/aggregate/ with four back-ends,
one of them slow, against the slowest healthy back-end's own latency in the same run.

    DATABASE_URL=…aggregate_bench… REDIS_URL=… SECRET_KEY=… .venv/bin/python bench/aggregate.py [--calls 400]

Four HTTP back-ends on loopback (``http.server`` in threads) answer a customer's holdings after
a fixed delay: 5, 10 and 20 ms (healthy) and 2 s (slow; its connector's timeout is 0.3 s). The
view is asked through Django's test client (session, middleware, access check, serializer), the
cache off (``cache_seconds = 0``) unless said otherwise. Three phases:

- **circuit closed**: the breaker never opens (``CEA_BREAKER_FAILURES`` huge): every answer
  waits for the slow back-end's timeout;
- **circuit open** (the steady state with the default settings): after ``CEA_BREAKER_FAILURES``
  timeouts the slow back-end is answered "circuit open" at once; its trial calls after each
  cool-down are part of the measure;
- **cached**: every connector caches for 60 s: all parts come from Redis.

The floor is ``fetch_customer`` of the slowest healthy back-end (20 ms), called directly with
the same connector class, in the same run; the ratio is the view's latency over the floor's.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Timings, guard_database, machine, setup_django

HEALTHY_DELAYS_MS = {"billing": 5, "crm": 10, "orders": 20}
SLOW = ("legacy", 2000)
SLOW_TIMEOUT_SECONDS = 0.3


def start_backend(delay_ms: int) -> ThreadingHTTPServer:
    payload = json.dumps(
        {
            "customer": {"external_id": "C-1", "given_name": "Ada", "family_name": "Lovelace"},
            "holdings": [
                {"kind": "balance", "external_id": f"ACC-{n}", "amount": "42.10", "currency": "GBP"} for n in range(10)
            ],
        }
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(delay_ms / 1000)  # the back-end's own work
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass

        def log_message(self, format, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


def register_bench_kind():
    import httpx

    from integration.connectors.base import BaseConnector, ConnectorError, register_kind

    # One client for the process, as a real REST connector keeps one: a new httpx client loads the
    # CA bundle (tens of ms of CPU), which would be measured instead of the aggregation.
    http = httpx.Client()

    @register_kind
    class BenchHttpConnector(BaseConnector):
        kind = "bench_http"

        def fetch_customer(self, external_id: str) -> dict:
            try:
                response = http.get(f"{self.settings['base_url']}/customers/{external_id}", timeout=self.timeout)
            except httpx.TimeoutException:
                raise ConnectorError(f"{self.config.name} timed out") from None
            except httpx.HTTPError as error:
                raise ConnectorError(f"{self.config.name}: {error}") from None
            return response.json()

    return BenchHttpConnector


def measure(call, calls: int, warmup: int) -> Timings:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(calls):
        started = time.perf_counter_ns()
        call()
        samples.append(time.perf_counter_ns() - started)
    timings = Timings()
    timings.extend(samples)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=400, help="view calls timed in each phase")
    parser.add_argument("--closed-calls", type=int, default=40, help="view calls timed with the circuit closed")
    parser.add_argument("--force", action="store_true", help="allow a database whose name lacks 'bench'")
    args = parser.parse_args()
    setup_django()
    database = guard_database(force=args.force)

    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from cea.accounts.models import User
    from cea.accounts.services import user_create
    from integration.aggregation.aggregate import customer_aggregate
    from integration.connectors.base import connector_for
    from integration.connectors.models import Connector
    from records.customers.services import customer_create
    from records.holdings.models import SourceRecord

    call_command("migrate", verbosity=0)
    settings.REDIS_PREFIX = f"bench-aggregate-{time.time_ns()}"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    register_bench_kind()

    servers = {name: start_backend(delay) for name, delay in HEALTHY_DELAYS_MS.items()}
    servers[SLOW[0]] = start_backend(SLOW[1])
    Connector.objects.filter(name__startswith="bench-").delete()
    connectors = {}
    for name, server in servers.items():
        host, port = server.server_address[:2]
        connectors[name] = Connector.objects.create(
            name=f"bench-{name}",
            kind="bench_http",
            system=f"bench-{name}",
            settings={"base_url": f"http://{host}:{port}"},
            timeout_seconds=SLOW_TIMEOUT_SECONDS if name == SLOW[0] else 2.0,
            cache_seconds=0,
        )
    # Other connectors a developer left in this database would be asked too: switch them off.
    Connector.objects.exclude(name__startswith="bench-").update(is_active=False)
    customer = customer_create(actor=None, given_name="Ada", family_name="Lovelace")
    for name in servers:
        SourceRecord.objects.create(customer=customer, system=f"bench-{name}", external_id=f"C-{customer.pk}")
    user = User.objects.filter(username="bench-aggregate-admin").first() or user_create(
        username="bench-aggregate-admin", password="bench-only-password-1", role="admin", validate=False
    )
    client = Client()
    client.force_login(user)
    path = f"/api/v1/customers/{customer.pk}/aggregate/"

    def view() -> dict:
        response = client.get(path)
        assert response.status_code == 200, response.content
        return response.json()

    slowest_name = max(HEALTHY_DELAYS_MS, key=HEALTHY_DELAYS_MS.get)
    slowest = connector_for(connectors[slowest_name])
    floor = measure(lambda: slowest.fetch_customer(f"C-{customer.pk}"), args.calls, warmup=20)

    results = []
    # 1. Circuit closed: every view waits for the slow back-end's timeout.
    settings.CEA_BREAKER_FAILURES = 10**9
    closed = measure(view, args.closed_calls, warmup=3)
    statuses = {part["connector"]: part["status"] for part in view()["parts"]}
    results.append(("circuit closed (slow one times out)", closed, statuses))
    # 2. Circuit open: the default threshold and cool-down, after the circuit has opened.
    settings.CEA_BREAKER_FAILURES = 5
    from integration.aggregation.breaker import breaker_success

    breaker_success(connectors[SLOW[0]].pk)
    opened = measure(view, args.calls, warmup=settings.CEA_BREAKER_FAILURES + 5)
    statuses = {part["connector"]: part["status"] for part in view()["parts"]}
    results.append(("circuit open (steady state)", opened, statuses))
    service = measure(lambda: customer_aggregate(customer), args.calls, warmup=5)
    results.append(("customer_aggregate() alone, circuit open", service, statuses))
    # 3. Everything cached.
    Connector.objects.filter(name__startswith="bench-").update(cache_seconds=60)
    cached = measure(view, args.calls, warmup=5)
    statuses = {part["connector"]: part["status"] + (" (cached)" if part["cached"] else "") for part in view()["parts"]}
    results.append(("cached (60 s)", cached, statuses))

    print(f"bench/aggregate.py — database {database}, {machine()}")
    print(
        f"back-ends: healthy {', '.join(f'{n} {d} ms' for n, d in HEALTHY_DELAYS_MS.items())}; "
        f"slow {SLOW[0]} {SLOW[1]} ms (timeout {SLOW_TIMEOUT_SECONDS} s); "
        f"breaker {settings.CEA_BREAKER_FAILURES} failures, cool-down {settings.CEA_BREAKER_COOLDOWN_SECONDS} s"
    )
    print(
        f"{'floor: fetch_customer of ' + slowest_name + ' (direct)':<44} p50 {floor.p50_ms:8.2f} ms  "
        f"p99 {floor.p99_ms:8.2f} ms"
    )
    for label, timings, statuses in results:
        print(
            f"{('' if label.startswith('customer_') else 'view, ') + label:<44} "
            f"p50 {timings.p50_ms:8.2f} ms  p99 {timings.p99_ms:8.2f} ms   "
            f"ratio p50 {timings.p50_ms / floor.p50_ms:5.2f}x  p99 {timings.p99_ms / floor.p99_ms:5.2f}x   "
            f"({len(timings.samples)} calls)"
        )
        print(f"    parts: {json.dumps(statuses, sort_keys=True)}")

    for server in servers.values():
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
