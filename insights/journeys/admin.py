"""The console: journey stages with their rules (validated with clear errors). Global configuration:
administrators edit, supervisors read. A rule change applies to new events; ``manage.py
journey_stages_rebuild`` re-assigns the history."""

from __future__ import annotations

from django.contrib import admin

from cea.common.admin import ADMINS, ParentRoleInline, RoleModelAdmin
from insights.journeys.models import JourneyStage, StageRule


class StageRuleInline(ParentRoleInline):
    model = StageRule
    fields = [
        "source",
        "kind_pattern",
        "channel",
        "payload_key",
        "holding_kind",
        "inactivity_days",
        "precedence",
        "active",
    ]


@admin.register(JourneyStage)
class JourneyStageAdmin(RoleModelAdmin):
    change_roles = ADMINS
    add_roles = ADMINS
    delete_roles = ADMINS
    list_display = ["name", "key", "order", "is_drop_off"]
    ordering = ["order"]
    inlines = [StageRuleInline]
