"""manage.py load_demo_wfm: the demo's workforce management, once (engagement/wfm/demo.py).

Run after load_demo_routing (the demo's presence history, which the roster's past schedules come from)
and ensure_demo_logins (the demo administrator makes the plans)."""

from django.core.management.base import BaseCommand

from engagement.wfm.demo import wfm_demo_plan_load, wfm_demo_roster_load


class Command(BaseCommand):
    help = (
        "Load the demo's roster (contracts, shift templates, special days, time off, past schedules) and its "
        "plans (planning queues, forecasts, requirements, next week's schedules, adherence), where missing."
    )

    def handle(self, *args, **options) -> None:
        roster = wfm_demo_roster_load()
        self.stdout.write("Roster: " + ", ".join(f"{count} {what}" for what, count in roster.items()))
        plans = wfm_demo_plan_load(report=self.stdout.write)
        self.stdout.write("Plans: " + ", ".join(f"{count} {what}" for what, count in plans.items()))
