"""Strategies in and out of the API; the service validates the rules between fields."""

from __future__ import annotations

from rest_framework import serializers

from cea.common.serializers import ModelSerializer
from insights.strategies.figures import effect_claimed
from insights.strategies.models import ArbitrationUplift, Strategy, StrategyEffect

FIELDS = [
    "key", "name", "description", "active", "starts_at", "ends_at",
    "trigger_kind", "event_pattern", "stage", "stay_days", "score_key", "score_threshold", "score_direction",
    "schedule_time",
    "audience_personas", "audience_stages", "audience_segments", "audience_value_tiers",
    "action_kind", "action_params", "consent_purpose",
    "cap_firings", "cap_days", "time_zone", "quiet_start", "quiet_end", "holdout_percent",
    "metric_kind", "metric_stage", "metric_days",
    "propensity_from", "context_weights", "value", "lever",
]  # fmt: skip


class StrategySerializer(ModelSerializer):
    # Objects, never null (the schema says so; the service checks what they hold).
    action_params = serializers.DictField(required=False)
    context_weights = serializers.DictField(required=False)

    class Meta:
        model = Strategy
        fields = [*FIELDS, "observed_tries", "observed_successes", "created_at", "updated_at"]
        read_only_fields = ["observed_tries", "observed_successes", "created_at", "updated_at"]
        # The key's uniqueness is the service's check (a clear message), not the serializer's.
        extra_kwargs: dict[str, dict[str, list]] = {"key": {"validators": []}}


class DryRunSerializer(serializers.Serializer):
    in_audience = serializers.IntegerField()
    would_fire = serializers.IntegerField()
    holdout = serializers.IntegerField()
    capped = serializers.IntegerField()
    no_consent = serializers.IntegerField()
    quiet_hours = serializers.IntegerField()
    truncated = serializers.BooleanField()
    sample = serializers.SerializerMethodField()

    def get_sample(self, dry_run) -> list[dict]:
        # Ids and teams only: an insights:read token reads figures, not customers' names (customers:read).
        return [{"id": c.pk, "team_id": c.team_id} for c in dry_run.sample]


class EffectSerializer(ModelSerializer):
    team = serializers.SerializerMethodField()
    effect_claimed = serializers.SerializerMethodField()

    class Meta:
        model = StrategyEffect
        fields = [
            "team", "treated", "treated_successes", "holdout", "holdout_successes",
            "difference", "ci_low", "ci_high", "effect_claimed", "computed_at",
        ]  # fmt: skip

    def get_team(self, effect) -> str | None:
        return effect.team.name if effect.team else None

    def get_effect_claimed(self, effect) -> bool:
        return effect_claimed(effect)


class UpliftSerializer(ModelSerializer):
    team = serializers.SerializerMethodField()
    enough_data = serializers.SerializerMethodField()

    class Meta:
        model = ArbitrationUplift
        fields = [
            "team", "treated", "treated_successes", "control", "control_successes",
            "qini_auc", "uplift_auc", "curve", "enough_data", "note", "computed_at",
        ]  # fmt: skip

    def get_team(self, row) -> str | None:
        return row.team.name if row.team else None

    def get_enough_data(self, row) -> bool:
        return row.qini_auc is not None
