"""The console for recommended actions: read-only, supervisors their teams' customers', admins all."""

from __future__ import annotations

from django.contrib import admin

from cea.common.admin import RoleModelAdmin
from engagement.recommendations.models import SHOWN_FIELDS, RecommendedAction

FIELDS: tuple[str, ...] = ("team", *SHOWN_FIELDS)


@admin.register(RecommendedAction)
class RecommendedActionAdmin(RoleModelAdmin):
    """What was offered to whom, why, and what became of it. Offers come from strategies
    (``recommendation_offer``) and decisions from the desk (``recommendation_decide``): nothing here
    is added or edited by hand."""

    list_display = ["title", "customer", "source_key", "score", "status", "created_at", "decided_by", "decided_at"]
    list_filter = ["status", "team"]
    list_select_related = ["customer", "decided_by"]
    search_fields = ["title", "source_key", "=customer__id", "customer__family_name"]
    ordering = ["-created_at", "-id"]
    fields = FIELDS
    readonly_fields = FIELDS
    add_roles = ()
    change_roles = ()
    team_paths = ("customer__team",)
