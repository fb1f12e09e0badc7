"""The console for back-office work (read-only, scoped to the supervisor's teams) and out-of-hours
answers (global configuration per queue and channel: administrators change them, supervisors read)."""

from __future__ import annotations

from django.contrib import admin

from cea.common.admin import RoleModelAdmin
from engagement.backoffice.models import BackofficeWork, OutOfHoursAnswer

WORK_FIELDS: tuple[str, ...] = (
    "kind",
    "case",
    "customer",
    "team",
    "title",
    "description",
    "queue",
    "due_at",
    "status",
    "conversation",
    "outcome",
    "created_by",
    "completed_by",
    "completed_at",
)


@admin.register(BackofficeWork)
class BackofficeWorkAdmin(RoleModelAdmin):
    """Cases and tasks routed to agents as work, and how each ended."""

    list_display = ["title", "kind", "queue", "due_at", "status", "team", "completed_by"]
    list_filter = ["status", "kind", "queue"]
    list_select_related = ["team", "completed_by"]
    search_fields = ["title", "=case__reference"]
    ordering = ["-created_at", "-id"]
    fields = WORK_FIELDS
    readonly_fields = WORK_FIELDS
    add_roles = ()
    change_roles = ()
    team_paths = ("team",)


@admin.register(OutOfHoursAnswer)
class OutOfHoursAnswerAdmin(RoleModelAdmin):
    """What a contact is told on each channel when it reaches a queue outside its business hours."""

    list_display = ["queue", "channel", "offer_callback", "offer_message", "is_active"]
    list_filter = ["queue", "channel", "is_active"]
    list_select_related = ["queue"]
    fields = ["queue", "channel", "text", "offer_callback", "offer_message", "is_active"]
