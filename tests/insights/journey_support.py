"""The default journey stages for tests: seeded by a data migration, which a transactional test's flush
removes for the tests after it, so the journey tests seed them again when they are missing."""

from __future__ import annotations

from importlib import import_module

from django.apps import apps


def ensure_default_stages() -> None:
    from insights.journeys.models import JourneyStage

    if not JourneyStage.objects.exists():
        import_module("insights.migrations.0009_default_journey_stages").seed(apps, None)
        import_module("insights.migrations.0013_default_stage_rules_for_shop_events").add_rules(apps, None)
