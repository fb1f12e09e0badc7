"""Rules' upkeep and their evaluation on interactions.

``compliance_evaluate`` runs after a conversation is recorded (``engagement.hooks``, on
commit; registered by ``compliance_hooks_register`` from ``InsightsConfig.ready``) and from the
backfill (``compliance_backfill``: interactions recorded otherwise, such as through the API, or before
a rule existed). Evaluating again replaces an interaction's verdicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q

from cea.accounts.types import Actor
from cea.common.errors import Conflict, PermissionDenied, ValidationFailed
from cea.common.roles import is_admin
from engagement.hooks import register_interaction_recorded_hook
from insights.compliance.models import ComplianceCheck, ComplianceRule
from insights.compliance.rules import agent_turns, evaluate, rule_errors
from records.interactions.models import Interaction
from records.interactions.selectors import interaction_with_customer, interactions_page

RULE_FIELDS = ("key", "name", "queue", "kind", "phrase", "is_regex", "active")


def _require_admin(actor: Actor) -> None:
    if actor is not None and not is_admin(actor):
        raise PermissionDenied("Only an administrator may change compliance rules.")


def _check_rule(fields: Mapping[str, Any]) -> dict[str, Any]:
    cleaned = {name: fields[name] for name in RULE_FIELDS if name in fields}
    errors = rule_errors(
        phrase=str(cleaned.get("phrase", "")), is_regex=bool(cleaned.get("is_regex")), kind=str(cleaned.get("kind"))
    )
    if not str(cleaned.get("key", "")).strip():
        errors["key"] = "A key is needed."
    if not str(cleaned.get("name", "")).strip():
        errors["name"] = "A name is needed."
    if errors:
        raise ValidationFailed("The compliance rule is not valid.", fields=errors)
    return cleaned


@transaction.atomic
def compliance_rule_create(*, actor: Actor, fields: Mapping[str, Any]) -> ComplianceRule:
    """A new rule (administrators only); ``ValidationFailed`` for a bad phrase or expression."""
    _require_admin(actor)
    cleaned = _check_rule(fields)
    if ComplianceRule.objects.filter(key=cleaned["key"]).exists():
        raise Conflict(f"A compliance rule {cleaned['key']!r} exists already.", code="duplicate_key")
    return ComplianceRule.objects.create(**cleaned)


@transaction.atomic
def compliance_rule_update(*, actor: Actor, rule: ComplianceRule, fields: Mapping[str, Any]) -> ComplianceRule:
    """Change a rule (administrators only; its key stays). Past verdicts stay until evaluated again."""
    _require_admin(actor)
    merged = {name: getattr(rule, name) for name in RULE_FIELDS} | {k: v for k, v in fields.items() if k != "key"}
    cleaned = _check_rule(merged)
    for name, value in cleaned.items():
        setattr(rule, name, value)
    rule.save()
    return rule


def rules_for_queue(queue: str) -> list[ComplianceRule]:
    return list(ComplianceRule.objects.filter(Q(queue=queue) | Q(queue=""), active=True).order_by("key"))


def _verdicts(interaction: Interaction, rules: list[ComplianceRule]) -> list[ComplianceCheck]:
    """The unsaved verdicts of ``rules`` on the interaction's agent turns (none where no agent spoke)."""
    turns = agent_turns(interaction.transcript)
    if not turns:
        return []
    checks = []
    for rule in rules:
        verdict = evaluate(rule, turns)
        checks.append(
            ComplianceCheck(
                interaction=interaction,
                rule=rule,
                passed=verdict.passed,
                entry_index=verdict.entry_index,
                excerpt=verdict.excerpt,
                queue=interaction.queue,
                team_id=interaction.team_id,
                agent_id=interaction.agent_id,
                customer_id=interaction.customer_id,
                interaction_started_at=interaction.started_at,
            )
        )
    return checks


@transaction.atomic
def compliance_evaluate_interaction(*, interaction: Interaction) -> list[ComplianceCheck]:
    """Evaluate the interaction's queue's active rules on its agent turns, replacing earlier verdicts.

    An interaction without an agent turn (contained in self-service, abandoned) is not judged: a
    disclosure cannot be missing where no agent spoke. Returns the verdicts written.
    """
    ComplianceCheck.objects.filter(interaction=interaction).delete()
    return ComplianceCheck.objects.bulk_create(_verdicts(interaction, rules_for_queue(interaction.queue)))


@transaction.atomic
def _evaluate_page(rows: list[Interaction], rules: list[ComplianceRule]) -> int:
    """One backfill page: its verdicts replaced in two statements (the rules read once per backfill)."""
    by_queue: dict[str, list[ComplianceRule]] = {}
    checks: list[ComplianceCheck] = []
    for interaction in rows:
        if interaction.queue not in by_queue:
            by_queue[interaction.queue] = [rule for rule in rules if rule.queue in ("", interaction.queue)]
        checks.extend(_verdicts(interaction, by_queue[interaction.queue]))
    ComplianceCheck.objects.filter(interaction_id__in=[row.pk for row in rows]).delete()
    return len(ComplianceCheck.objects.bulk_create(checks))


def on_interaction_recorded(interaction_id: int) -> None:
    """The hook: evaluate a just-recorded interaction."""
    interaction = interaction_with_customer(interaction_id=interaction_id)
    if interaction is not None:
        compliance_evaluate_interaction(interaction=interaction)


def compliance_backfill(*, page: int = 500, created_since: datetime | None = None) -> dict[str, int]:
    """Evaluate every interaction (``created_since``: those recorded since then) again — idempotent:
    verdicts are replaced; returns counts."""
    interactions = verdicts = 0
    after = 0
    rules = list(ComplianceRule.objects.filter(active=True).order_by("key"))
    while rows := interactions_page(after_id=after, limit=page, created_since=created_since):
        verdicts += _evaluate_page(rows, rules)
        interactions += len(rows)
        after = rows[-1].pk
    return {"interactions": interactions, "verdicts": verdicts}


def compliance_hooks_register() -> None:
    register_interaction_recorded_hook(on_interaction_recorded)


DEMO_RULES: tuple[dict[str, Any], ...] = (
    {
        "key": "demo-offer-more-help",
        "name": "Offer further help before closing",
        "queue": "",
        "kind": "required",
        "phrase": "anything else I can help with",
        "is_regex": False,
    },
    {
        "key": "demo-no-blame",
        "name": "Never tell the customer to calm down or that it is their fault",
        "queue": "",
        "kind": "forbidden",
        "phrase": r"\b(calm down|your (own )?fault)\b",
        "is_regex": True,
    },
)


def demo_compliance_rules_ensure() -> int:
    """The demo's rules, where their keys are free (as the system); returns how many were added."""
    added = 0
    for fields in DEMO_RULES:
        if not ComplianceRule.objects.filter(key=fields["key"]).exists():
            compliance_rule_create(actor=None, fields=fields)
            added += 1
    return added
