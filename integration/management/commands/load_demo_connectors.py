"""manage.py load_demo_connectors --port-base N [--secrets-dir DIR] [--legacy-db-url URL]

Connectors for the sample legacy systems that ``python -m integration.sample_systems serve``
runs (billing over SOAP on N, order management over REST on N+1, the legacy customer database
over SQL). Idempotent: an existing connector of the same name is brought back to these settings
(its watermark is kept). Secrets stay in their files; the connectors only name them.
"""

from __future__ import annotations

from pathlib import Path

from celery import chain
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from integration.connectors.models import Connector
from integration.sample_systems import demo
from integration.sync.models import RunTrigger
from integration.sync.schedules import connector_schedule_ensure
from integration.sync.tasks import run as sync_task

# How often the demo's connectors sync (editable in the console's periodic tasks).
SCHEDULE_SECONDS = {"customer-db": 3600, "billing": 900, "orders": 900}


class Command(BaseCommand):
    help = "Create or update the connectors to the sample legacy systems."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port-base", type=int, required=True, help="billing on N, order management on N+1")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--secrets-dir",
            type=Path,
            default=None,
            help="default: sample-systems in the connectors' secret folder (CEA_CONNECTOR_SECRET_DIR)",
        )
        parser.add_argument("--legacy-db-url", default="", help="default: this database's server, <name>_legacy")
        parser.add_argument(
            "--sync",
            action="store_true",
            help="also queue a first sync: the customer master (it links the demo customers), then billing, orders",
        )

    def handle(
        self, *args, port_base: int, host: str, secrets_dir: Path | None, legacy_db_url: str, sync: bool, **options
    ) -> None:
        if not 1 <= port_base <= 65534:
            raise CommandError("--port-base must leave room for two ports.")
        # Connectors read secrets only inside CEA_CONNECTOR_SECRET_DIR (integration.connectors.credentials).
        folder = (secrets_dir or Path(settings.CEA_CONNECTOR_SECRET_DIR) / "sample-systems").resolve()
        demo.demo_secrets(folder)
        configs = [
            demo.soap_connector(
                base_url=f"http://{host}:{port_base + demo.BILLING_PORT_OFFSET}", secrets_folder=folder
            ),
            demo.rest_connector(base_url=f"http://{host}:{port_base + demo.ORDERS_PORT_OFFSET}", secrets_folder=folder),
            demo.sql_connector(url=legacy_db_url or demo.legacy_database_url(settings.DATABASES["default"])),
        ]
        connectors = []
        with transaction.atomic():
            for config in configs:
                name = config.pop("name")
                config["settings"]["schedule_seconds"] = SCHEDULE_SECONDS[name]
                connector, created = Connector.objects.update_or_create(name=name, defaults=config)
                connector_schedule_ensure(connector=connector)
                connectors.append(connector)
                self.stdout.write(
                    f"{'Created' if created else 'Updated'} connector {connector.name} ({connector.kind}),"
                    f" synced every {SCHEDULE_SECONDS[name]} s"
                )
        if sync:
            # The customer master first: billing and orders find their customers through its numbers.
            order = sorted(connectors, key=lambda connector: connector.name != "customer-db")
            chain(*(sync_task.si(connector.pk, RunTrigger.ON_DEMAND) for connector in order)).delay()
            self.stdout.write("Queued a first sync: " + ", then ".join(connector.name for connector in order))
