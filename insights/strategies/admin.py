"""The console for engagement strategies: administrators edit, supervisors read.

Saving goes through the strategies' services (validation, the index's invalidation); the
firings log is read-only.
"""

from __future__ import annotations

from django.contrib import admin

from cea.common.admin import DraftCheckedForm, KeyedServiceAdmin, RoleModelAdmin
from insights.strategies.models import Strategy, StrategyFiring
from insights.strategies.rules import strategy_errors
from insights.strategies.services import strategy_create, strategy_update


class StrategyForm(DraftCheckedForm):
    draft_errors = strategy_errors

    class Meta:
        model = Strategy
        exclude: list[str] = []


@admin.register(Strategy)
class StrategyAdmin(KeyedServiceAdmin):
    form = StrategyForm
    list_display = [
        "key",
        "name",
        "trigger_kind",
        "action_kind",
        "active",
        "ends_at",
        "holdout_percent",
        "value",
        "lever",
    ]
    list_filter = ["active", "trigger_kind", "action_kind"]
    search_fields = ["key", "name"]
    fieldsets = [
        (None, {"fields": ["key", "name", "description", "active", "starts_at", "ends_at"]}),
        (
            "When",
            {
                "fields": [
                    "trigger_kind", "event_pattern", "stage", "stay_days",
                    "score_key", "score_threshold", "score_direction", "schedule_time",
                ]
            },
        ),
        ("For whom", {"fields": ["audience_personas", "audience_stages", "audience_segments", "audience_value_tiers"]}),
        ("What", {"fields": ["action_kind", "action_params", "consent_purpose"]}),
        ("Limits", {"fields": ["cap_firings", "cap_days", "time_zone", "quiet_start", "quiet_end", "holdout_percent"]}),
        ("Judged on", {"fields": ["metric_kind", "metric_stage", "metric_days"]}),
        ("Arbitration: priority = propensity × context weight × value × lever",
         {"fields": ["propensity_from", "context_weights", "value", "lever"]}),
    ]  # fmt: skip

    def service_create(self, *, actor, fields: dict):
        return strategy_create(actor=actor, fields=fields)

    def service_update(self, *, actor, obj, fields: dict):
        return strategy_update(actor=actor, strategy=obj, fields=fields)


@admin.register(StrategyFiring)
class StrategyFiringAdmin(RoleModelAdmin):
    team_paths = ("customer__team",)
    list_display = ["at", "strategy", "customer", "group", "outcome", "reason", "priority"]
    list_filter = ["outcome", "group", "strategy"]
    list_select_related = ["strategy", "customer"]
    add_roles = ()
    change_roles = ()

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]
