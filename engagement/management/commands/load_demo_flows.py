"""manage.py load_demo_flows: the demo's self-service flows and knowledge articles, once."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from engagement.selfservice.demo import selfservice_demo_load


class Command(BaseCommand):
    help = (
        "Create the demo self-service flows (order status, opening hours, balance, case status) and "
        "knowledge articles that do not exist yet. Idempotent: existing flows and articles are never changed."
    )

    def handle(self, *args, **options) -> None:
        loaded = selfservice_demo_load()
        self.stdout.write(
            f"Self-service demo: {loaded.flows_created} flow(s) created, {loaded.flows_kept} already there; "
            f"{loaded.articles_created} article(s) created, {loaded.articles_kept} already there."
        )
