"""manage.py load_demo_data [--scale N | --customers N --cases N --interactions N] [--seed S]"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from records.demo.generator import DemoSize, demo_data_present, load_demo_data


class Command(BaseCommand):
    help = "Load the deterministic demo data set once (teams, agents, customers, cases, interactions, journeys)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="Multiply the default size (2,000 customers, 5,000 cases, 20,000 interactions)",
        )
        parser.add_argument("--customers", type=int)
        parser.add_argument("--cases", type=int)
        parser.add_argument("--interactions", type=int)
        parser.add_argument(
            "--queue-contacts",
            type=int,
            help="Contacts on the main voice and chat queues besides the interactions (default 50,000 × scale)",
        )
        parser.add_argument("--days", type=int, default=90, help="Spread cases and interactions over this many days")
        parser.add_argument("--seed", type=int, default=20261123)

    def handle(self, *args, scale, customers, cases, interactions, queue_contacts, days, seed, **options) -> None:
        if scale <= 0:
            raise CommandError("--scale must be positive.")
        if demo_data_present():
            self.stdout.write("Demo data already present (the database has customers); nothing loaded.")
            return
        base = DemoSize.scaled(scale)
        size = DemoSize(
            customers=base.customers if customers is None else customers,
            cases=base.cases if cases is None else cases,
            interactions=base.interactions if interactions is None else interactions,
            days=days,
            queue_contacts=base.queue_contacts if queue_contacts is None else queue_contacts,
        )
        if min(size.cases, size.interactions, size.queue_contacts) < 0 or size.customers < 1 or size.days < 1:
            raise CommandError("Sizes must be positive (at least one customer and one day).")
        started = time.monotonic()
        counts = load_demo_data(size=size, seed=seed, report=self.stdout.write)
        summary = ", ".join(f"{value:,} {name.replace('_', ' ')}" for name, value in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded in {time.monotonic() - started:.1f}s: {summary}."))
