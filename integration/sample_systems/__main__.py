"""``python -m integration.sample_systems serve --port-base N``: the sample legacy systems on loopback.

    billing (SOAP)          http://127.0.0.1:N/billing?wsdl
    order management (REST) http://127.0.0.1:N+1/api/v1/orders
    customer database (SQL) --legacy-db-url (created and seeded if missing), else SQLite in --secrets-dir
                            its switches (PostgreSQL only) http://127.0.0.1:N+2/_control

Secrets are read from (or made in) ``--secrets-dir``. Switch a system's behaviour while it runs:

    curl -X POST http://127.0.0.1:N+1/_control -d '{"rate_limit_retry_after": 5}'
    curl -X POST http://127.0.0.1:N/_control -d '{"slow_seconds": 4}'      # or error_status, down, reset
    curl -X POST http://127.0.0.1:N+2/_control -d '{"locked": true}'       # or down, reset

SIGINT or SIGTERM stops them.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from integration.sample_systems import seed
from integration.sample_systems.billing import Billing
from integration.sample_systems.customer_db import CustomerDatabase, legacy_database_create, sqlalchemy_url
from integration.sample_systems.demo import (
    BILLING_PORT_OFFSET,
    BILLING_USERNAME,
    CUSTOMER_DB_PORT_OFFSET,
    ORDERS_CLIENT_ID,
    ORDERS_PORT_OFFSET,
    demo_secrets,
)
from integration.sample_systems.http import RunningServer
from integration.sample_systems.orders import OrderManagement


def serve(*, host: str, port_base: int, secrets_dir: Path, legacy_db_url: str, customers: int) -> int:
    values = demo_secrets(secrets_dir)
    people = seed.demo_people(customers)
    url = legacy_db_url or f"sqlite:///{secrets_dir / 'customer-db.sqlite3'}"
    legacy_database_create(url, people).dispose()
    billing = RunningServer(
        Billing(username=BILLING_USERNAME, password=values.billing_password, people=people),
        host,
        port_base + BILLING_PORT_OFFSET,
    )
    orders = RunningServer(
        OrderManagement(
            api_keys={values.orders_api_key}, clients={ORDERS_CLIENT_ID: values.orders_client_secret}, people=people
        ),
        host,
        port_base + ORDERS_PORT_OFFSET,
    )
    customer_db = None
    if sqlalchemy_url(url).get_backend_name() == "postgresql":
        customer_db = RunningServer(CustomerDatabase(url), host, port_base + CUSTOMER_DB_PORT_OFFSET)
    print(f"Sample systems: billing {billing.url}/billing?wsdl, orders {orders.url}/api/v1/", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    stopped.wait()
    billing.stop()
    orders.stop()
    if customer_db is not None:
        customer_db.stop()
        customer_db.system.switches.close()  # the database is left unlocked and accepting connections
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m integration.sample_systems",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="serve the sample systems until stopped")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument(
        "--port-base",
        type=int,
        required=True,
        help="billing on N, order management on N+1, the customer database's switches on N+2",
    )
    run.add_argument("--secrets-dir", type=Path, default=Path(".data/connector-secrets/sample-systems"))
    run.add_argument("--legacy-db-url", default="", help="the legacy customer database (PostgreSQL or SQLite)")
    run.add_argument("--customers", type=int, default=seed.DEMO_CUSTOMERS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    return serve(
        host=args.host,
        port_base=args.port_base,
        secrets_dir=args.secrets_dir,
        legacy_db_url=args.legacy_db_url,
        customers=args.customers,
    )


if __name__ == "__main__":
    sys.exit(main())
