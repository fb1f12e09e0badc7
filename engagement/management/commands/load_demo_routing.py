"""manage.py load_demo_routing: the demo's skills, queues and rules, and the demo agents' skills, once."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from engagement.routing.demo import routing_demo_load


class Command(BaseCommand):
    help = "Create the demo routing (skills, queues with bullseye rules, demo agents' skills) that does not exist yet."

    def handle(self, *args, **options) -> None:
        loaded = routing_demo_load()
        self.stdout.write(f"Routing demo: {loaded['queues_created']} queue(s) created, {loaded['agents']} agent(s).")
