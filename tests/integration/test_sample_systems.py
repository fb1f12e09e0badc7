"""The sample legacy systems themselves: their data lines up with the demo customers, their
switches work over HTTP, the runner serves them, and ``load_demo_connectors`` points at them."""

from __future__ import annotations

import io
import json
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import celery.canvas
import httpx
import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from integration.connectors.models import Connector
from integration.sample_systems import seed
from records.customers.models import Customer
from records.demo.generator import DemoSize, load_demo_data
from records.identities.models import Identity, IdentityKind
from tests.integration.sample_systems_support import (  # noqa: F401 - fixtures
    _well_behaved,
    connector,
    rest_config,
    sample_systems_fixture,
)

PROJECT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_the_legacy_customers_are_the_demo_customers():
    # Given CEA's demo data for 30 customers
    load_demo_data(size=DemoSize(customers=30, cases=0, interactions=0, days=5))

    # When the sample systems make their people
    people = seed.demo_people(30)

    # Then each is the demo customer of the same number: same names, email and phone
    demo = list(Customer.objects.order_by("pk").values_list("given_name", "family_name", "email", "phone", "postcode"))
    assert [(p.given_name, p.family_name, p.email, p.phone, p.postcode) for p in people] == demo
    # And the demo's account identities are the legacy account numbers
    accounts = set(Identity.objects.filter(kind=IdentityKind.ACCOUNT).values_list("value", flat=True))
    assert accounts
    assert accounts <= {person.account_number for person in people}


def test_switches_are_flipped_over_http(sample_systems):
    # Given the order-management service
    base = sample_systems.orders_server.url
    key = {"X-API-Key": sample_systems.secrets.orders_api_key}

    # When a rate limit is switched on over its control endpoint
    state = httpx.post(f"{base}/_control", json={"rate_limit_retry_after": 3}).json()
    limited = httpx.get(f"{base}/api/v1/orders", headers=key)
    # And downtime instead
    httpx.post(f"{base}/_control", json={"reset": True, "down": True})
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"{base}/api/v1/orders", headers=key)
    # And everything back to normal
    httpx.post(f"{base}/_control", json={"reset": True})
    normal = httpx.get(f"{base}/api/v1/orders", headers=key, params={"page_size": 1})

    # Then the service behaved as switched
    assert state["switches"]["rate_limit_retry_after"] == 3
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "3"
    assert normal.status_code == 200
    assert len(normal.json()["results"]) == 1
    # And an unknown switch is refused
    assert httpx.post(f"{base}/_control", json={"explode": True}).status_code == 400


def test_the_billing_service_serves_its_wsdl_with_its_own_address(sample_systems):
    # When the WSDL is fetched
    answer = httpx.get(f"{sample_systems.billing_server.url}/billing", params={"wsdl": ""})

    # Then it names the service at the address it was asked on
    assert answer.status_code == 200
    assert f'location="{sample_systems.billing_server.url}/billing"' in answer.text
    assert 'name="CreatePaymentArrangement"' in answer.text


def _free_port_pair() -> int:
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            base = first.getsockname()[1]
            if base >= 65535:
                continue
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", base + 1))
                except OSError:
                    continue
        return base
    raise RuntimeError("no two free consecutive ports")


def test_the_runner_serves_every_system_until_stopped(tmp_path):
    # Given the runner started on two free ports, with the customer database in SQLite
    base = _free_port_pair()
    command = [sys.executable, "-m", "integration.sample_systems", "serve", "--port-base", str(base)]
    command += ["--secrets-dir", str(tmp_path), "--customers", "20"]
    runner = subprocess.Popen(command, cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        # When it answers
        deadline, health = time.monotonic() + 30, None
        while time.monotonic() < deadline and runner.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{base + 1}/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)  # polling the runner's start-up, with a deadline
        assert health is not None and health.status_code == 200, runner.stdout.read() if runner.poll() else ""
        key = (tmp_path / "orders-api-key").read_text()
        orders = httpx.get(
            f"http://127.0.0.1:{base + 1}/api/v1/orders", headers={"X-API-Key": key}, params={"page_size": 200}
        )
        wsdl = httpx.get(f"http://127.0.0.1:{base}/billing?wsdl")

        # Then it serves both systems and made the customer database and its secrets
        assert {row["customer_number"] for row in orders.json()["results"]} <= {
            seed.customer_number(i) for i in range(20)
        }
        assert wsdl.status_code == 200
        assert (tmp_path / "customer-db.sqlite3").exists()
        assert stat.S_IMODE((tmp_path / "billing-password").stat().st_mode) == 0o600
    finally:
        # And it stops on SIGTERM
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(timeout=15) == 0


@pytest.mark.django_db
def test_load_demo_connectors_points_at_the_sample_systems(tmp_path):
    # When the demo connectors are loaded, twice
    arguments = ["--port-base", "18100", "--secrets-dir", str(tmp_path), "--legacy-db-url", "sqlite:////tmp/x.db"]
    call_command("load_demo_connectors", *arguments, stdout=io.StringIO())
    Connector.objects.filter(name="orders").update(watermark="kept")
    call_command("load_demo_connectors", *arguments, stdout=io.StringIO())

    # Then there is one connector per sample system, pointing at its port, naming secret files only
    connectors = {row.name: row for row in Connector.objects.all()}
    assert {name: row.kind for name, row in connectors.items()} == {
        "billing": "soap",
        "orders": "rest",
        "customer-db": "sql",
    }
    assert connectors["billing"].settings["wsdl"] == "http://127.0.0.1:18100/billing?wsdl"
    assert connectors["orders"].settings["base_url"] == "http://127.0.0.1:18101"
    assert connectors["orders"].watermark == "kept"
    assert connectors["customer-db"].settings["url"] == "sqlite:////tmp/x.db"
    assert connectors["billing"].credential_file == str(tmp_path / "billing-password")
    stored = json.dumps([row.settings for row in connectors.values()])
    for secret_file in tmp_path.iterdir():
        assert secret_file.read_text() not in stored
    # and each syncs on a schedule the console can edit
    schedules = {task.name: task.interval.every for task in PeriodicTask.objects.filter(task="integration.sync.run")}
    assert sorted(schedules.values()) == [900, 900, 3600]


@pytest.mark.django_db
def test_a_first_sync_goes_customer_master_first(tmp_path, monkeypatch):
    """Billing and orders find their customers through the customer master's numbers: it syncs first."""
    # Given: the chain's tasks are recorded instead of sent to a broker
    queued = []
    monkeypatch.setattr(celery.canvas._chain, "delay", lambda self: queued.extend(self.tasks))
    arguments = ["--port-base", "18100", "--secrets-dir", str(tmp_path), "--legacy-db-url", "sqlite:////tmp/x.db"]
    # When
    call_command("load_demo_connectors", *arguments, "--sync", stdout=io.StringIO())
    # Then
    names = dict(Connector.objects.values_list("pk", "name"))
    order = [names[task.args[0]] for task in queued]
    assert (order[0], sorted(order)) == ("customer-db", ["billing", "customer-db", "orders"])


def test_orders_filter_by_updated_since(sample_systems):
    # Given one order changed after every other record
    orders = sample_systems.orders
    changed = orders.touch("orders", sorted(orders.records["orders"])[-1], status="cancelled")
    key = {"X-API-Key": sample_systems.secrets.orders_api_key}
    second_latest = sorted(row["updated_at"] for row in orders.records["orders"].values())[-2]

    # When orders updated since the one before it are listed
    answer = httpx.get(
        f"{sample_systems.orders_server.url}/api/v1/orders", headers=key, params={"updated_since": second_latest}
    ).json()

    # Then that order is the only one
    assert [row["order_number"] for row in answer["results"]] == [changed["order_number"]]
    assert answer["next"] is None
