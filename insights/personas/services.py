"""Writes of personas: definitions (admins), the assignment of every customer, discovery and its decisions.

Customers are written only through records' ``customers_set_personas``; the features are read only
through records' ``customer_behaviour_features`` (``features.behaviour_frame``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from cea.accounts.models import User
from cea.accounts.types import Actor
from cea.common.errors import Conflict, NotFound, ValidationFailed
from cea.common.replica import reading_from_replica
from insights.access import require_persona_editor
from insights.personas.assignment import RuledPersona, personas_place
from insights.personas.discovery import K_RANGE, Clustering, cluster, distinguishing, suggested_rules, summary
from insights.personas.features import behaviour_frame, cluster_matrix
from insights.personas.models import ClusterStatus, DiscoveredCluster, DiscoveryRun, PersonaDefinition
from insights.personas.rules import Condition, rules_problems
from insights.personas.starter import STARTER_PERSONAS
from records.customers.services import PersonaPlacement, customers_set_personas

KEY_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
TEXT_FIELDS = ("name", "description", "needs", "preferences", "behaviours")
EDITABLE = (*TEXT_FIELDS, "key", "order", "rules", "is_active")
MAX_ORDER = 2**31 - 1
WRITE_BATCH = 5000  # customers written (and their rows locked) per transaction


# --- Definitions ------------------------------------------------------------------------------


def persona_definition_problems(*, fields: Mapping[str, Any]) -> dict[str, list[str]]:
    """What is wrong with a definition's ``fields`` (those given), by field; empty when they are valid."""
    problems: dict[str, list[str]] = {}
    unknown = sorted(set(fields) - set(EDITABLE))
    if unknown:
        problems["fields"] = [f"Unknown fields: {', '.join(unknown)}."]
    if "key" in fields:
        key = fields["key"]
        if not isinstance(key, str) or not KEY_PATTERN.match(key) or len(key) > 50:
            problems["key"] = ["Use at most 50 lower-case letters, digits and dashes, e.g. digital-native."]
    if "name" in fields and (not isinstance(fields["name"], str) or not fields["name"].strip()):
        problems["name"] = ["A persona needs a name."]
    for name in TEXT_FIELDS[1:]:
        if name in fields and not isinstance(fields[name], str):
            problems[name] = ["Text only."]
    if "order" in fields:
        order = fields["order"]
        if isinstance(order, bool) or not isinstance(order, int) or not 0 <= order <= MAX_ORDER:
            problems["order"] = ["A whole number from 0."]
    if "is_active" in fields and not isinstance(fields["is_active"], bool):
        problems["is_active"] = ["True or false."]
    if "rules" in fields:
        rule_problems = rules_problems(fields["rules"])
        if rule_problems:
            problems["rules"] = rule_problems
    return problems


def _check(fields: Mapping[str, Any], *, instead_of: PersonaDefinition | None = None) -> None:
    problems = persona_definition_problems(fields=fields)
    if problems:
        raise ValidationFailed("The persona definition is invalid.", fields=problems)
    key = fields.get("key")
    taken = PersonaDefinition.objects.filter(key=key)
    if instead_of is not None:
        taken = taken.exclude(pk=instead_of.pk)
    if key is not None and taken.exists():
        raise Conflict(f"A persona with the key {key!r} exists already.", fields={"key": "Already taken."})


@transaction.atomic
def persona_definition_create(*, actor: Actor, fields: Mapping[str, Any]) -> PersonaDefinition:
    """A new definition from ``fields`` (key and name required); admins only. Rules are checked first."""
    require_persona_editor(actor)
    missing = {name: "This field is required." for name in ("key", "name") if name not in fields}
    if missing:
        raise ValidationFailed("The persona definition is invalid.", fields=missing)
    _check(fields)
    return PersonaDefinition.objects.create(**dict(fields))


@transaction.atomic
def persona_definition_update(
    *, actor: Actor, definition: PersonaDefinition, fields: Mapping[str, Any]
) -> PersonaDefinition:
    """Change the given ``fields`` of a definition; admins only. A changed key does not re-key customers
    until the next assignment."""
    require_persona_editor(actor)
    _check(fields, instead_of=definition)
    for name, value in fields.items():
        setattr(definition, name, value)
    definition.save(update_fields=[*fields, "updated_at"])
    return definition


@transaction.atomic
def persona_definition_delete(*, actor: Actor, definition: PersonaDefinition) -> None:
    require_persona_editor(actor)
    definition.delete()


@transaction.atomic
def personas_starter_ensure(*, actor: Actor) -> list[PersonaDefinition]:
    """Add the starter personas (``starter.STARTER_PERSONAS``) whose key is not taken; never changes an
    existing definition. Returns those added."""
    require_persona_editor(actor)
    taken = set(PersonaDefinition.objects.values_list("key", flat=True))
    added = []
    for fields in STARTER_PERSONAS:
        if fields["key"] in taken:
            continue
        _check(fields)
        added.append(PersonaDefinition.objects.create(**fields))
    return added


# --- Assignment -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssignmentSummary:
    """What an assignment did: customers placed, how many changed persona, and how many each persona holds."""

    customers: int
    changed: int
    by_persona: dict[str, int] = field(default_factory=dict)


def active_personas() -> list[RuledPersona]:
    """The active definitions in their order, with their rules as conditions (invalid rules skip the definition)."""
    personas = []
    for definition in PersonaDefinition.objects.filter(is_active=True).order_by("order", "key"):
        if rules_problems(definition.rules):
            continue  # saved around the checks (a raw edit): never placed, never half-applied
        personas.append(
            RuledPersona(key=definition.key, conditions=tuple(Condition.of(rule) for rule in definition.rules))
        )
    return personas


def personas_assign(*, actor: Actor = None, now: datetime | None = None) -> AssignmentSummary:
    """Recompute every active customer's persona with its reasons and write what changed (records'
    ``customers_set_personas``: one statement and transaction per ``WRITE_BATCH`` customers, a
    ``persona.assigned`` event where the persona changed).

    With no active definition nothing is written: customers keep what they have.
    """
    personas = active_personas()
    if not personas:
        return AssignmentSummary(customers=0, changed=0)
    frame = behaviour_frame(now=now or timezone.now())
    placed = personas_place(personas=personas, frame=frame)
    placements = [
        PersonaPlacement(customer_id=customer_id, persona=persona, reasons=reasons)
        for customer_id, (persona, reasons) in placed.items()
    ]
    changed = 0
    for start in range(0, len(placements), WRITE_BATCH):  # short transactions: agents edit customers meanwhile
        changed += len(customers_set_personas(actor=actor, placements=placements[start : start + WRITE_BATCH]))
    counts = Counter(persona for persona, _ in placed.values())
    return AssignmentSummary(customers=len(placed), changed=changed, by_persona=dict(sorted(counts.items())))


# --- Discovery --------------------------------------------------------------------------------


def personas_discover(
    *, random_state: int = 0, now: datetime | None = None, k_range: range = K_RANGE
) -> DiscoveryRun | None:
    """Cluster the active customers' behavioural features and store the run with its clusters described.

    ``None`` when there are too few distinct customers to cluster. Existing definitions are never touched.
    """
    with reading_from_replica():  # a week's clustering does not miss the last seconds
        frame = behaviour_frame(now=now or timezone.now())
    matrix = cluster_matrix(frame)
    try:
        found = cluster(matrix, random_state=random_state, k_range=k_range)
    except ValueError:
        return None
    with transaction.atomic():  # only the writes: the clustering above holds no transaction open
        return _discovery_store(matrix, found, random_state=random_state)


def _discovery_store(matrix: pd.DataFrame, found: Clustering, *, random_state: int) -> DiscoveryRun:
    run = DiscoveryRun.objects.create(
        customers=len(matrix),
        features=list(matrix.columns),
        population_mean={name: round(float(value), 6) for name, value in found.mean.items()},
        population_std={name: round(float(value), 6) for name, value in found.std.items()},
        k=found.k,
        silhouette=round(found.silhouette, 6),
        silhouettes={str(k): round(value, 6) for k, value in found.silhouettes.items()},
        random_state=random_state,
    )
    centroids = matrix.groupby(pd.Series(found.labels, index=matrix.index)).mean()
    sizes = Counter(found.labels.tolist())
    clusters = []
    for number, centroid in centroids.iterrows():
        apart = distinguishing(centroid, found.mean, found.std)
        size = sizes[number]
        clusters.append(
            DiscoveredCluster(
                run=run,
                number=int(number),
                size=size,
                centroid={name: round(float(value), 6) for name, value in centroid.items()},
                distinguishing=apart,
                summary=summary(apart, size=size, customers=len(matrix)),
            )
        )
    DiscoveredCluster.objects.bulk_create(clusters)
    return run


def _decidable(cluster_id: int) -> DiscoveredCluster:
    found = DiscoveredCluster.objects.select_for_update().filter(pk=cluster_id).first()
    if found is None:
        raise NotFound(f"No discovered cluster with id {cluster_id}.")
    if found.status != ClusterStatus.OPEN:
        raise Conflict(f"This cluster was {found.get_status_display().lower()} already.")
    return found


def _adopted_order() -> int:
    """Before the first catch-all (a definition without rules), else after every definition."""
    catch_all = PersonaDefinition.objects.filter(rules=[]).order_by("order").values_list("order", flat=True).first()
    if catch_all is not None:
        return max(0, catch_all - 1)
    last = PersonaDefinition.objects.aggregate(last=Max("order"))["last"]
    return 100 if last is None else min(MAX_ORDER, last + 10)


@transaction.atomic
def cluster_adopt(*, actor: Actor, cluster_id: int, key: str, name: str) -> PersonaDefinition:
    """Adopt an open cluster as a new, active persona ``key`` with rules suggested by what sets it apart
    (editable afterwards); admins only. Never overwrites: a taken key is a ``Conflict``, nothing written."""
    require_persona_editor(actor)
    found = _decidable(cluster_id)
    fields = {
        "key": key,
        "name": name,
        "description": f"Discovered {found.run.created_at:%Y-%m-%d}: {found.summary}",
        "behaviours": found.summary,
        "rules": suggested_rules(found.distinguishing),
        "order": _adopted_order(),
    }
    _check(fields)
    definition = PersonaDefinition.objects.create(**fields, adopted_from=found)
    found.status = ClusterStatus.ADOPTED
    found.persona = definition
    found.decided_by = actor if isinstance(actor, User) else None
    found.decided_at = timezone.now()
    found.save(update_fields=["status", "persona", "decided_by", "decided_at"])
    return definition


@transaction.atomic
def cluster_dismiss(*, actor: Actor, cluster_id: int) -> DiscoveredCluster:
    """Dismiss an open cluster (not a persona); admins only."""
    require_persona_editor(actor)
    found = _decidable(cluster_id)
    found.status = ClusterStatus.DISMISSED
    found.decided_by = actor if isinstance(actor, User) else None
    found.decided_at = timezone.now()
    found.save(update_fields=["status", "decided_by", "decided_at"])
    return found
