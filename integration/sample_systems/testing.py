"""The sample systems in-process, for tests: threads on free loopback ports, secrets of their own.

systems = SampleSystems.start(tmp_path)   # or the ``sample_systems`` fixture of a test module
systems.orders.switches.update(rate_limit_retry_after=7)
...
systems.stop()
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from integration.sample_systems import seed
from integration.sample_systems.billing import Billing
from integration.sample_systems.demo import BILLING_USERNAME, ORDERS_CLIENT_ID, DemoSecrets, demo_secrets
from integration.sample_systems.http import RunningServer
from integration.sample_systems.orders import OrderManagement

TEST_CUSTOMERS = 60


@dataclass
class SampleSystems:
    secrets: DemoSecrets
    billing_server: RunningServer
    orders_server: RunningServer

    @classmethod
    def start(cls, secrets_folder: Path, *, customers: int = TEST_CUSTOMERS) -> SampleSystems:
        values = demo_secrets(secrets_folder)
        people = seed.demo_people(customers)
        billing = Billing(username=BILLING_USERNAME, password=values.billing_password, people=people)
        orders = OrderManagement(
            api_keys={values.orders_api_key},
            clients={ORDERS_CLIENT_ID: values.orders_client_secret},
            people=people,
        )
        return cls(values, RunningServer(billing), RunningServer(orders))

    @property
    def billing(self) -> Billing:
        return self.billing_server.system  # type: ignore[return-value]

    @property
    def orders(self) -> OrderManagement:
        return self.orders_server.system  # type: ignore[return-value]

    def reset(self) -> None:
        for server in (self.billing_server, self.orders_server):
            server.system.switches.update(reset=True)

    def stop(self) -> None:
        self.billing_server.stop()
        self.orders_server.stop()


def closed_port() -> int:
    """A loopback port nothing listens on (as far as anyone can tell): a system that is down."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
