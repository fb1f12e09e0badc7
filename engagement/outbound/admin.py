"""The console for callbacks: read-only, supervisors their teams' customers', admins all."""

from __future__ import annotations

from django.contrib import admin

from cea.common.admin import RoleModelAdmin
from engagement.outbound.models import Callback

FIELDS: tuple[str, ...] = (
    "customer",
    "queue",
    "reason",
    "source",
    "due_at",
    "status",
    "requested_by",
    "conversation",
    "queued_at",
    "phone",
    "attempts",
    "max_attempts",
    "retry_minutes",
    "attempt_log",
    "finished_at",
)


@admin.register(Callback)
class CallbackAdmin(RoleModelAdmin):
    """Callbacks booked (by agents, strategies, clients, customers out of hours), whether their conversation
    is queued yet, their attempts, and those given up."""

    list_display = ["customer", "queue", "reason", "due_at", "status", "attempts", "source", "conversation"]
    list_filter = ["status", "queue"]
    list_select_related = ["customer", "conversation"]
    search_fields = ["=customer__id", "customer__family_name", "reason", "source"]
    ordering = ["-due_at", "-id"]
    fields = FIELDS
    readonly_fields = FIELDS
    add_roles = ()
    change_roles = ()
    team_paths = ("customer__team",)
