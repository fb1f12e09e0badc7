"""manage.py journey_stages_rebuild [--changed]: assign every customer's journey stages again from the first event.

``--changed`` only reads the events past the watermark, as the beat task does.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from insights.journeys.assignment import current_visits_count, stages_rebuild, stages_refresh


class Command(BaseCommand):
    help = "Re-assign the journey stages from every journey event (after changing the stage rules)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--changed", action="store_true", help="Only the events since the last run")

    def handle(self, *args, changed: bool, **options) -> None:
        started = time.monotonic()
        run = stages_refresh() if changed else stages_rebuild()
        self.stdout.write(
            f"{run.facts} facts read, {run.entries} stage visits entered, {run.changed} customers changed stage,"
            f" {current_visits_count()} customers with a stage ({time.monotonic() - started:.1f} s)."
        )
