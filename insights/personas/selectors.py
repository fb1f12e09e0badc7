"""Reads of personas: definitions, how many customers each holds (in a scope), the latest discovery run."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from insights.personas.models import DiscoveredCluster, DiscoveryRun, PersonaDefinition
from records.customers.models import Customer, CustomerStatus


def persona_definitions(*, active_only: bool = False) -> QuerySet[PersonaDefinition]:
    definitions = PersonaDefinition.objects.all().order_by("order", "key")
    return definitions.filter(is_active=True) if active_only else definitions


def persona_customer_counts(*, customers: QuerySet[Customer]) -> dict[str, int]:
    """How many of ``customers`` (active ones) each persona key holds ("" for none), in one query."""
    rows = (
        customers.filter(status=CustomerStatus.ACTIVE)
        .values("persona")
        .annotate(customers=Count("id"))
        .order_by("persona")
    )
    return {row["persona"]: row["customers"] for row in rows}


def discovery_latest() -> DiscoveryRun | None:
    return DiscoveryRun.objects.order_by("-created_at", "-id").first()


def discovery_clusters(*, run: DiscoveryRun) -> QuerySet[DiscoveredCluster]:
    return run.clusters.select_related("persona", "decided_by").order_by("-size", "number")
