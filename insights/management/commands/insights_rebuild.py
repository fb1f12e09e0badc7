"""manage.py insights_rebuild [--since YYYY-MM-DD]: re-compute the KPI rollups from a date (or all)."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from insights.kpis.rollup import contact_rollup_rebuild


class Command(BaseCommand):
    help = "Re-compute the contact rollups of the KPIs from --since (a local date; default: everything)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--since", help="A date, YYYY-MM-DD, in the deployment's time zone (TIME_ZONE)")

    def handle(self, *args, since: str | None, **options) -> None:
        start = None
        if since is not None:
            try:
                day = dt.date.fromisoformat(since)
            except ValueError:
                raise CommandError(f"--since {since!r} is not a date (YYYY-MM-DD).") from None
            start = dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(settings.TIME_ZONE))
        began = time.perf_counter()
        run = contact_rollup_rebuild(since=start)
        self.stdout.write(
            f"Contact rollup rebuilt{f' from {since}' if since else ''}: {run.intervals:,} intervals,"
            f" {run.rows:,} rows in {time.perf_counter() - began:.1f} s."
        )
