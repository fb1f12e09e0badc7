"""manage.py load_demo_insights [--force]: the demo's personas, stages, scores and strategies, once.

Each step's time is printed (insights/demo/services.py says what each does and what fires after).
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from insights.demo.services import demo_insights_load


class Command(BaseCommand):
    help = (
        "Once, on the demo data: starter personas and assignment, discovery, journey stages, the two models"
        " trained and scored, the demo strategies, and the strategies' event watermark at the newest event."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--force", action="store_true", help="Run the steps again (nothing made is changed)")

    def handle(self, *args, force: bool, **options) -> None:
        began = time.perf_counter()
        self.stdout.write("Demo insights:")
        if demo_insights_load(report=self.stdout.write, force=force):
            self.stdout.write(f"Demo insights loaded in {time.perf_counter() - began:.1f} s.")
