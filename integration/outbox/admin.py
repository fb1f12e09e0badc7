"""The console for the outbox: write-backs with their status, attempts and errors; send again.

Supervisors read the write-backs of their teams' customers; administrators read all and send again.
"""

from __future__ import annotations

from django.contrib import admin

from cea.common.admin import RoleModelAdmin, run_service_action
from cea.common.roles import Role
from integration.outbox.models import OutboxMessage
from integration.outbox.services import outbox_retry


@admin.register(OutboxMessage)
class OutboxMessageAdmin(RoleModelAdmin):
    view_roles = (Role.SUPERVISOR, Role.ADMIN)
    change_roles = (Role.ADMIN,)
    add_roles = delete_roles = ()
    team_paths = ("customer__team",)
    list_display = ["pk", "kind", "connector", "customer", "status", "attempts", "created_at", "delivered_at"]
    list_filter = ["status", "kind", "connector"]
    list_select_related = ["connector", "customer"]
    search_fields = ["key"]
    readonly_fields = [
        "connector",
        "customer",
        "kind",
        "payload",
        "key",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "result",
        "created_by",
        "created_at",
        "delivered_at",
    ]
    fields = readonly_fields
    actions = ["send_again"]

    @admin.action(description="Send the selected write-backs again (not those delivered)")
    def send_again(self, request, queryset) -> None:
        run_service_action(
            self,
            request,
            queryset,
            lambda message: outbox_retry(actor=request.user, message=message),
            "{count} write-backs sent again.",
        )
