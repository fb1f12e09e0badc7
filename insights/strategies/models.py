"""Engagement strategies as data, the log of their firings, and the state of their evaluation."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TriggerKind(models.TextChoices):
    EVENT = "event", _("A journey event")
    STAGE_ENTERED = "stage_entered", _("Entering a journey stage")
    STAGE_STAYED = "stage_stayed", _("Staying in a journey stage for some days")
    SCORE_CROSSED = "score_crossed", _("A score crossing a threshold")
    SCHEDULE = "schedule", _("Every day at a local time")


class ActionKind(models.TextChoices):
    MESSAGE = "message", _("A proactive message")
    CALLBACK = "callback", _("A callback task for agents")
    NEXT_BEST_ACTION = "next_best_action", _("A next-best-action card on the desk")
    PRIORITY_BOOST = "priority_boost", _("A routing priority boost")
    CASE = "case", _("A case")


class MetricKind(models.TextChoices):
    STAGE_REACHED = "stage_reached", _("Reaching a stage within N days")
    CASE_RESOLVED = "case_resolved", _("A case resolved within N days")
    RETENTION = "retention", _("No lapse within N days")
    NBA_ACCEPTED = "nba_accepted", _("Accepting the next best action")


class PropensityFrom(models.TextChoices):
    OBSERVED = "observed", _("The strategy's observed success rate, smoothed: (successes + 1) / (tries + 2)")
    SCORE = "score", _("The customer's propensity score (a sales action), else the observed rate")


class Direction(models.TextChoices):
    ABOVE = "above", _("Rises to or above")
    BELOW = "below", _("Falls to or below")


class Strategy(models.Model):
    """When (trigger), for whom (audience), what (action), within which limits, judged on which metric."""

    key = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True, help_text="The end date: nothing fires from then on.")

    trigger_kind = models.CharField(max_length=20, choices=TriggerKind.choices)
    event_pattern = models.CharField(
        max_length=60, blank=True, help_text="Journey event kind, '*' as a wildcard: case.created, case.*"
    )
    stage = models.CharField(max_length=30, blank=True, help_text="Stage key (stage_entered, stage_stayed)")
    stay_days = models.PositiveIntegerField(null=True, blank=True)
    score_key = models.CharField(max_length=50, blank=True)
    score_threshold = models.FloatField(null=True, blank=True)
    score_direction = models.CharField(max_length=10, choices=Direction.choices, blank=True)
    schedule_time = models.TimeField(null=True, blank=True, help_text="Local time of day (schedule)")

    audience_personas = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    audience_stages = ArrayField(models.CharField(max_length=30), default=list, blank=True)
    audience_segments = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    audience_value_tiers = ArrayField(models.CharField(max_length=20), default=list, blank=True)

    action_kind = models.CharField(max_length=20, choices=ActionKind.choices)
    action_params = models.JSONField(default=dict, blank=True)
    consent_purpose = models.CharField(max_length=20, blank=True)

    cap_firings = models.PositiveIntegerField(default=1, help_text="At most this many firings per customer …")
    cap_days = models.PositiveIntegerField(default=7, help_text="… per this many days")
    time_zone = models.CharField(
        max_length=60, default="UTC", help_text="IANA time zone of the quiet hours and the schedule"
    )
    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True)
    holdout_percent = models.PositiveSmallIntegerField(default=10)

    metric_kind = models.CharField(max_length=20, choices=MetricKind.choices)
    metric_stage = models.CharField(max_length=30, blank=True)
    metric_days = models.PositiveIntegerField(default=30)

    # Arbitration: priority = propensity × context weight × value × lever (docs/journeys.md).
    propensity_from = models.CharField(max_length=10, choices=PropensityFrom.choices, default=PropensityFrom.OBSERVED)
    context_weights = models.JSONField(
        default=dict,
        blank=True,
        help_text='Weight by the occasion\'s channel and "live" (the customer is in a conversation now): '
        '{"chat": 1.5, "email": 0.8, "live": 2}; 1 where not said',
    )
    value = models.FloatField(default=1.0, help_text="What the action is worth to the business, relative to others")
    lever = models.FloatField(default=1.0, help_text="The business lever: raise or lower this strategy's priority")
    observed_tries = models.PositiveIntegerField(default=0, editable=False)
    observed_successes = models.PositiveIntegerField(default=0, editable=False)

    last_scheduled_on = models.DateField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        verbose_name_plural = "strategies"

    def __str__(self) -> str:
        return self.name or self.key

    @property
    def source_key(self) -> str:
        """What its actions are recorded under in engagement (recommendations, outbound, callbacks)."""
        return f"strategy:{self.key}"


class FiringGroup(models.TextChoices):
    TREATMENT = "treatment", _("Treatment")
    HOLDOUT = "holdout", _("Holdout")
    CONTROL = "control", _("Random control (arbitration)")


class FiringOutcome(models.TextChoices):
    FIRED = "fired", _("Fired")
    HELD_OUT = "held_out", _("Eligible, held out")
    SUPPRESSED = "suppressed", _("Suppressed")
    FAILED = "failed", _("Action failed")


class StrategyFiring(models.Model):
    """One occasion a strategy met a customer in its audience: what was done and why (or why not).

    ``occasion`` makes firings idempotent: ``event:<journey event id>`` for an event, or the time
    trigger's own key (``stayed:<customer>:<since>``, ``schedule:<customer>:<date>``, …).
    """

    strategy = models.ForeignKey(Strategy, on_delete=models.CASCADE, related_name="firings")
    customer = models.ForeignKey("records.Customer", on_delete=models.CASCADE, related_name="+")
    event_id = models.BigIntegerField(null=True, blank=True)
    occasion = models.CharField(max_length=120)
    group = models.CharField(max_length=10, choices=FiringGroup.choices)
    outcome = models.CharField(max_length=12, choices=FiringOutcome.choices)
    reason = models.CharField(max_length=200, blank=True)
    channel = models.CharField(max_length=20, blank=True, help_text="A message's consented channel")
    at = models.DateTimeField()
    acted_at = models.DateTimeField(null=True, blank=True, help_text="When its action ran (fired ones)")
    priority = models.FloatField(null=True, blank=True, help_text="Arbitration's priority (eligible ones)")
    components = models.JSONField(default=dict, blank=True, help_text="Arbitration's components and rank")

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [models.UniqueConstraint(fields=["strategy", "occasion"], name="strategyfiring_once")]
        indexes = [
            models.Index(fields=["customer", "at"], name="strategyfiring_customer_at"),
            models.Index(fields=["strategy", "outcome"], name="strategyfiring_outcome"),
        ]

    def __str__(self) -> str:
        return f"{self.strategy_id} → {self.customer_id}: {self.outcome}"


class StrategyCrossing(models.Model):
    """A customer now on the far side of a score_crossed strategy's threshold (a new row is a crossing)."""

    strategy = models.ForeignKey(Strategy, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey("records.Customer", on_delete=models.CASCADE, related_name="+")
    crossed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["strategy", "customer"], name="strategycrossing_once")]

    def __str__(self) -> str:
        return f"{self.strategy_id} × {self.customer_id} since {self.crossed_at:%Y-%m-%d %H:%M}"


class StrategyWatermark(models.Model):
    """The last journey event the evaluation read (one row), and ids found missing to read again."""

    name = models.CharField(max_length=30, unique=True)
    last_id = models.BigIntegerField(default=0)
    gaps = models.JSONField(default=dict, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} after {self.last_id}"


class StrategyEffect(models.Model):
    """A strategy's metric, treated against holdout, computed by a task (team ``None``: all customers)."""

    strategy = models.ForeignKey(Strategy, on_delete=models.CASCADE, related_name="effects")
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    treated = models.PositiveIntegerField()
    treated_successes = models.PositiveIntegerField()
    holdout = models.PositiveIntegerField()
    holdout_successes = models.PositiveIntegerField()
    difference = models.FloatField(null=True, blank=True)
    ci_low = models.FloatField(null=True, blank=True)
    ci_high = models.FloatField(null=True, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["strategy", "team"], name="strategyeffect_team"),
            models.UniqueConstraint(
                fields=["strategy"], condition=models.Q(team__isnull=True), name="strategyeffect_all"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.strategy_id} team {self.team_id or 'all'}: {self.difference}"


class ArbitrationUplift(models.Model):
    """Arbitration's uplift against the random control group, computed by a task (team ``None``: all).

    One row per firing of the treatment (arbitrated) and control groups that was acted on and whose
    metric window has been read: ``treated``/``control`` count them, ``*_successes`` their metric.
    ``qini_auc``, ``uplift_auc`` and ``curve`` (the Qini curve's points) are scikit-uplift's, or
    ``None`` when a group has fewer than ``CEA_ARBITRATION_UPLIFT_MIN`` firings or one outcome only.
    """

    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    treated = models.PositiveIntegerField()
    treated_successes = models.PositiveIntegerField()
    control = models.PositiveIntegerField()
    control_successes = models.PositiveIntegerField()
    qini_auc = models.FloatField(null=True, blank=True)
    uplift_auc = models.FloatField(null=True, blank=True)
    curve = models.JSONField(default=list, blank=True, help_text="[[firings targeted, incremental successes], …]")
    note = models.CharField(max_length=200, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        # Replaced whole by the task (delete, then insert, in one transaction).
        constraints = [models.UniqueConstraint(fields=["team"], name="arbitrationuplift_team")]

    def __str__(self) -> str:
        return f"uplift team {self.team_id or 'all'}: qini {self.qini_auc}"
