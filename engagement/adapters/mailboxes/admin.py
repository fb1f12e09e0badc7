"""The console for IMAP mailboxes: administrators configure them; supervisors see their teams' (and their errors)."""

from __future__ import annotations

from django.contrib import admin

from cea.common.admin import RoleModelAdmin
from cea.common.roles import Role
from engagement.adapters.credentials import credential_variable
from engagement.adapters.mailboxes.models import Mailbox


@admin.register(Mailbox)
class MailboxAdmin(RoleModelAdmin):
    """IMAP mailboxes read into email conversations. The password is not here: it is read from the
    environment variable (or secret file) shown on the page."""

    list_display = [
        "name",
        "username",
        "host",
        "folder",
        "after_fetch",
        "team",
        "is_active",
        "last_fetch_at",
        "failures",
    ]
    list_filter = ["is_active", "after_fetch"]
    search_fields = ["name", "host", "username"]
    team_paths = ("team",)
    change_roles = (Role.ADMIN,)
    add_roles = (Role.ADMIN,)
    delete_roles = (Role.ADMIN,)
    readonly_fields = [
        "password_variable",
        "uid_validity",
        "last_uid",
        "last_fetch_at",
        "failures",
        "retry_at",
        "last_error",
    ]
    fieldsets = [
        (None, {"fields": ["name", "team", "queue", "is_active"]}),
        ("Server", {"fields": ["host", "port", "security", "username", "password_variable", "folder"]}),
        ("After a message is kept", {"fields": ["after_fetch", "move_to"]}),
        ("Reading", {"fields": ["uid_validity", "last_uid", "last_fetch_at", "failures", "retry_at", "last_error"]}),
    ]

    @admin.display(description="Password")
    def password_variable(self, obj: Mailbox | None) -> str:
        if obj is None or not obj.name:
            return "Read from CEA_SOURCE_<NAME>_PASSWORD (or …_PASSWORD_FILE), once the mailbox has a name."
        variable = credential_variable(obj.name, "PASSWORD")
        return f"Read from {variable} (or {variable}_FILE); never stored in the database."
