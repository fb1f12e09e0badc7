"""manage.py insights_rebuild [--since YYYY-MM-DD | --changed]: re-compute the KPI rollups from a date (or all).

``--changed`` rolls up only what changed since the watermark, as the beat task does (everything on
the first run): ``make run`` calls it at start, so a restart does not re-compute the history.
"""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from insights.kpis.rollup import contact_rollup_rebuild, contact_rollup_refresh


class Command(BaseCommand):
    help = "Re-compute the contact rollups of the KPIs from --since (a local date; default: everything)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--since", help="A date, YYYY-MM-DD, in the deployment's time zone (TIME_ZONE)")
        parser.add_argument(
            "--changed", action="store_true", help="Only what changed since the last run (all on the first)"
        )

    def handle(self, *args, since: str | None, changed: bool, **options) -> None:
        if changed:
            if since is not None:
                raise CommandError("Give --since or --changed, not both.")
            began = time.perf_counter()
            run = contact_rollup_refresh()
            seconds = time.perf_counter() - began
            self.stdout.write(f"Contact rollup current: {run.intervals:,} intervals re-computed in {seconds:.1f} s.")
            return
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
