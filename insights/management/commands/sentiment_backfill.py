"""manage.py sentiment_backfill [--rescore] [--compliance]: score what came before scoring.

Customer messages never scored, interactions without a sentiment (``--rescore``: every interaction,
e.g. to replace the demo's invented figures with VADER's), then the customers' trends; ``--compliance``
also checks every interaction against the compliance rules again.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from insights.compliance.services import compliance_backfill
from insights.sentiment.services import sentiment_backfill


class Command(BaseCommand):
    help = "Score messages and interactions not scored yet (VADER, English only); --compliance checks them too."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--rescore", action="store_true", help="Score every interaction again")
        parser.add_argument("--compliance", action="store_true", help="Also evaluate every interaction's compliance")

    def handle(self, *args, rescore: bool, compliance: bool, **options) -> None:
        began = time.perf_counter()
        counts = sentiment_backfill(rescore=rescore)
        self.stdout.write(
            f"Sentiment: {counts['messages']:,} messages, {counts['interactions']:,} interactions, "
            f"{counts['customers']:,} customers' trends, in {time.perf_counter() - began:.1f} s."
        )
        if compliance:
            began = time.perf_counter()
            checked = compliance_backfill()
            self.stdout.write(
                f"Compliance: {checked['interactions']:,} interactions, {checked['verdicts']:,} verdicts, "
                f"in {time.perf_counter() - began:.1f} s."
            )
