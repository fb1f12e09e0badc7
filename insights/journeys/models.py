"""Journey stages, the rules that place a customer in them, and each customer's visits to them.

A ``JourneyStage`` is configured in the console (name, order, the customer's needs, emotions and
touchpoints there). ``StageRule`` rows map what happens (journey events by kind pattern, channel
and payload key; cases opened or resolved; new holdings; interactions; inactivity) to a stage.
``StageVisit`` is the history: one row per stay of a customer in a stage, the open one (``left_at``
is null) being the current stage. ``StageWatermark`` says how far the assignment has read.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models


class JourneyStage(models.Model):
    """A stage of the customer journey (awareness … advocacy, lapsed), ordered left to right."""

    key = models.SlugField(max_length=30, unique=True, help_text="Written to customers, e.g. onboarding")
    name = models.CharField(max_length=80)
    order = models.PositiveSmallIntegerField(help_text="Left to right on the map; moving to a higher order is forward")
    description = models.TextField(blank=True)
    needs = models.TextField(blank=True, help_text="What the customer needs at this stage")
    emotions = models.TextField(blank=True, help_text="How the customer typically feels")
    touchpoints = models.TextField(blank=True, help_text="Where the customer meets us at this stage")
    is_drop_off = models.BooleanField(
        default=False, help_text="Moving here counts as dropping off (the lapsed stage), not as moving forward"
    )

    class Meta:
        ordering = ["order", "key"]

    def __str__(self) -> str:
        return self.name


class RuleSource(models.TextChoices):
    EVENT = "event", "Journey event (kind pattern, channel, payload key)"
    CASE_OPENED = "case_opened", "Case opened"
    CASE_RESOLVED = "case_resolved", "Case resolved"
    HOLDING = "holding", "New holding (product)"
    INTERACTION = "interaction", "Interaction (contact)"
    INACTIVITY = "inactivity", "No event for N days"


# What each source matches among journey events (holdings are read as "holding.added" facts).
SOURCE_KINDS = {
    RuleSource.CASE_OPENED: "case.created",
    RuleSource.CASE_RESOLVED: "case.resolved",
    RuleSource.HOLDING: "holding.added",
    RuleSource.INTERACTION: "interaction.recorded",
}
# The assignment's own events: never matched by a rule, so a stage change cannot trigger another.
OWN_KIND_PREFIX = "stage."
KIND_PATTERN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-*")


class StageRule(models.Model):
    """What places a customer in ``stage``. Rules are tried by ``precedence`` (lowest first), then id.

    ``kind_like`` is derived on save: the SQL ``LIKE`` pattern of the events the rule matches.
    """

    stage = models.ForeignKey(JourneyStage, on_delete=models.CASCADE, related_name="rules")
    source = models.CharField(max_length=20, choices=RuleSource.choices, default=RuleSource.EVENT)
    kind_pattern = models.CharField(
        max_length=60, blank=True, help_text='Event sources: a kind or a pattern with *, e.g. "order.*"'
    )
    channel = models.CharField(max_length=20, blank=True, help_text="Only events on this channel (blank: any)")
    payload_key = models.CharField(max_length=60, blank=True, help_text="Only events whose payload has this key")
    holding_kind = models.CharField(max_length=30, blank=True, help_text="Holdings: only this kind (blank: any)")
    inactivity_days = models.PositiveIntegerField(null=True, blank=True, help_text="Inactivity: days without events")
    precedence = models.PositiveSmallIntegerField(default=100, help_text="Lower first when several rules match")
    active = models.BooleanField(default=True)
    kind_like = models.CharField(max_length=80, editable=False, default="")

    class Meta:
        ordering = ["precedence", "id"]

    def __str__(self) -> str:
        return f"{self.get_source_display()} → {self.stage_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.kind_like = kind_like_of(source=self.source, kind_pattern=self.kind_pattern)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        errors = stage_rule_errors(
            source=self.source,
            kind_pattern=self.kind_pattern,
            inactivity_days=self.inactivity_days,
            payload_key=self.payload_key,
            holding_kind=self.holding_kind,
        )
        if errors:
            raise ValidationError(errors)


def kind_like_of(*, source: str, kind_pattern: str) -> str:
    """The SQL LIKE pattern of the events a rule of ``source`` matches ('' for inactivity)."""
    if source == RuleSource.INACTIVITY:
        return ""
    if source == RuleSource.EVENT:
        escaped = kind_pattern.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return escaped.replace("*", "%")
    return SOURCE_KINDS[RuleSource(source)]


def stage_rule_errors(
    *, source: str, kind_pattern: str, inactivity_days: int | None, payload_key: str, holding_kind: str
) -> dict[str, str]:
    """What is wrong with a rule, by field, in words ({} when it is valid)."""
    errors: dict[str, str] = {}
    pattern = kind_pattern.strip()
    if source == RuleSource.EVENT:
        if not pattern:
            errors["kind_pattern"] = 'An event rule needs a kind pattern such as "order.*" or "case.created".'
        elif not set(pattern) <= KIND_PATTERN_CHARS or ("." not in pattern.strip("*") and pattern != "*"):
            errors["kind_pattern"] = (
                "A kind pattern is a dotted name of lower-case letters, digits, - and _, with * for any part"
                ' (e.g. "order.*").'
            )
        elif pattern == "*" or pattern.startswith(OWN_KIND_PREFIX):
            errors["kind_pattern"] = (
                'A rule cannot match every event or the stage events themselves ("stage.*"): a stage change'
                " would trigger the rules again."
            )
    elif pattern:
        errors["kind_pattern"] = "Only event rules take a kind pattern; leave it blank for this source."
    if source == RuleSource.INACTIVITY:
        if not inactivity_days:
            errors["inactivity_days"] = "An inactivity rule needs the number of days without events (1 or more)."
    elif inactivity_days is not None:
        errors["inactivity_days"] = "Only inactivity rules take a number of days."
    if payload_key and source not in (RuleSource.EVENT, RuleSource.INTERACTION):
        errors["payload_key"] = "Only event and interaction rules can ask for a payload key."
    if holding_kind and source != RuleSource.HOLDING:
        errors["holding_kind"] = "Only holding rules take a holding kind."
    return errors


class StageVisit(models.Model):
    """A customer's stay in a stage: from ``entered_at`` until ``left_at`` (null: the current stage).

    ``event_id`` is the journey event that moved the customer here (null for holdings and inactivity,
    whose ``rule_id`` says why). ``last_activity_at`` (open visits) is the customer's latest event,
    which the inactivity rule measures from.
    """

    customer_id = models.BigIntegerField()
    stage_key = models.CharField(max_length=30)
    entered_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)
    event_id = models.BigIntegerField(null=True, blank=True)
    rule_id = models.BigIntegerField(null=True, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["customer_id", "entered_at"], name="stagevisit_customer"),
            models.Index(fields=["stage_key", "entered_at"], name="stagevisit_stage"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["customer_id"], condition=models.Q(left_at__isnull=True), name="stagevisit_one_open"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} in {self.stage_key} from {self.entered_at:%Y-%m-%d}"


class StageWatermark(models.Model):
    """How far stage assignment has read: journey events and holdings up to these ids."""

    name = models.CharField(max_length=40, unique=True)
    last_event_id = models.BigIntegerField(default=0)
    last_holding_id = models.BigIntegerField(default=0)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_changes = models.IntegerField(default=0, help_text="Customers whose stage changed in the last run")

    def __str__(self) -> str:
        return f"{self.name} at event {self.last_event_id}"
