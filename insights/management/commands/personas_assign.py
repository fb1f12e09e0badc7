"""manage.py personas_assign [--starter] [--discover] [--seed N]: recompute every customer's persona.

``--starter`` first adds the starter personas whose key is free; ``--discover`` then clusters the customers.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from insights.personas.services import personas_assign, personas_discover, personas_starter_ensure


class Command(BaseCommand):
    help = "Recompute every customer's persona from the active definitions; --discover also clusters the customers."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--starter", action="store_true", help="First add the starter personas not defined yet")
        parser.add_argument("--discover", action="store_true", help="Also run discovery (k-means on the features)")
        parser.add_argument("--seed", type=int, default=0, help="Discovery's random_state (default 0)")

    def handle(self, *args, starter: bool, discover: bool, seed: int, **options) -> None:
        if starter:
            added = personas_starter_ensure(actor=None)
            self.stdout.write(f"Starter personas added: {', '.join(d.key for d in added) or 'none (all defined)'}.")
        began = time.perf_counter()
        result = personas_assign(actor=None)
        seconds = time.perf_counter() - began
        if not result.customers:
            self.stdout.write("No active persona definition: nothing assigned.")
        else:
            counts = ", ".join(f"{key or '(none)'}: {count:,}" for key, count in result.by_persona.items())
            self.stdout.write(
                f"{result.customers:,} customers placed, {result.changed:,} changed, in {seconds:.1f} s ({counts})."
            )
        if discover:
            run = personas_discover(random_state=seed)
            if run is None:
                self.stdout.write("Too few customers to discover clusters.")
            else:
                self.stdout.write(f"Discovery run {run.pk}: k={run.k}, silhouette {run.silhouette:.3f}.")
