"""The console for IMAP mailboxes: administrators configure them; supervisors see their teams' (and their errors)."""

from __future__ import annotations

from django.contrib import admin, messages

from cea.common.admin import RoleModelAdmin
from cea.common.roles import Role
from cea.common.tasks import send_on_commit
from engagement.adapters.credentials import credential_variable
from engagement.adapters.mailboxes.models import Mailbox
from engagement.adapters.mailboxes.tasks import fetch_mailbox


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

    actions = ["read_now"]

    @admin.action(description="Read the selected mailboxes now", permissions=["change"])
    def read_now(self, request, queryset) -> None:
        """A pass over each selected active mailbox, by the worker, whatever its retry time."""
        active = list(queryset.filter(is_active=True).values_list("pk", flat=True))
        for mailbox_id in active:
            send_on_commit(fetch_mailbox, mailbox_id)
        self.message_user(
            request,
            f"Asked the worker to read {len(active)} mailbox(es); their last error and fetch time show the outcome.",
            messages.SUCCESS,
        )

    @admin.display(description="Password")
    def password_variable(self, obj: Mailbox | None) -> str:
        if obj is None or not obj.name:
            return "Read from CEA_SOURCE_<NAME>_PASSWORD (or …_PASSWORD_FILE), once the mailbox has a name."
        variable = credential_variable(obj.name, "PASSWORD")
        return f"Read from {variable} (or {variable}_FILE); never stored in the database."
