"""manage.py load_demo_routing [--seed S]: the demo's skills, queues and rules, the demo agents' skills,
and the presence history of the agents of the demo's contacts, once."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from engagement.routing.demo import routing_demo_load
from engagement.routing.demo_presence import presence_demo_load


class Command(BaseCommand):
    help = (
        "Create the demo routing (skills, queues with bullseye rules, demo agents' skills) and the presence"
        " history of the agents who handled demo contacts, where they do not exist yet."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--seed", type=int, default=20261123, help="Seed of the presence history's draws")
        parser.add_argument("--days", type=int, default=90, help="Days of presence history, up to now")

    def handle(self, *args, seed: int, days: int, **options) -> None:
        loaded = routing_demo_load()
        self.stdout.write(f"Routing demo: {loaded['queues_created']} queue(s) created, {loaded['agents']} agent(s).")
        began = time.perf_counter()
        presence = presence_demo_load(seed=seed, days=days)
        self.stdout.write(
            f"Presence history: {presence['presence_changes']:,} changes for {presence['agents']} agent(s)"
            f" in {time.perf_counter() - began:.1f} s."
        )
