"""The console for sync (administrators): runs with their counts (read-only), the dead-letter list
(replay), files loaded.

The dead-letter list also shows the holdings that wait for their customer (``permanent`` off):
they are loaded again automatically (see ``integration.sync.services``) and need no replay unless
they have stopped waiting.
"""

from __future__ import annotations

from django.contrib import admin, messages

from cea.common.admin import ADMINS, RoleModelAdmin
from cea.common.errors import ApplicationError
from integration.sync.models import ProcessedFile, SyncFailure, SyncRun
from integration.sync.services import CUSTOMER_WAIT_ATTEMPTS, sync_failures_replay


class ReadOnlyAdmin(RoleModelAdmin):
    """Administrators read; nobody edits what a run recorded.

    Not supervisors: runs, dead letters and files carry every team's customers' fields.
    """

    view_roles = ADMINS
    change_roles = add_roles = delete_roles = ()

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "connector",
        "trigger",
        "status",
        "started_at",
        "duration",
        "read",
        "created",
        "updated",
        "unchanged",
        "failed",
        "first_error",
    ]
    list_filter = ["status", "trigger", "connector"]
    list_select_related = ["connector"]
    date_hierarchy = "started_at"

    @admin.display(description="duration (s)")
    def duration(self, run: SyncRun) -> str:
        seconds = run.duration_seconds
        return "running" if seconds is None else f"{seconds:.1f}"

    @admin.display(description="errors")
    def first_error(self, run: SyncRun) -> str:
        if not run.errors:
            return ""
        more = f" (+{len(run.errors) - 1})" if len(run.errors) > 1 else ""
        return f"{str(run.errors[-1])[:120]}{more}"


@admin.register(SyncFailure)
class SyncFailureAdmin(ReadOnlyAdmin):
    list_display = ["id", "connector", "record_key", "state", "short_reason", "attempts", "created_at", "resolved_at"]
    list_filter = ["connector", ("resolved_at", admin.EmptyFieldListFilter), "permanent"]
    search_fields = ["record_key", "reason"]
    list_select_related = ["connector"]
    actions = ["replay"]

    @admin.display(description="state")
    def state(self, failure: SyncFailure) -> str:
        if failure.resolved_at is not None:
            return "resolved"
        if not failure.permanent:
            return f"waiting for its customer (attempt {failure.attempts} of {CUSTOMER_WAIT_ATTEMPTS})"
        return "dead letter"

    @admin.display(description="reason")
    def short_reason(self, failure: SyncFailure) -> str:
        return failure.reason[:140]

    @admin.action(description="Replay: load the selected items again")
    def replay(self, request, queryset) -> None:
        try:
            runs = sync_failures_replay(ids=list(queryset.filter(resolved_at=None).values_list("pk", flat=True)))
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        for run in runs:
            loaded = run.read - run.failed
            self.message_user(
                request,
                f"Replay run {run.pk} ({run.connector}): {loaded} loaded, {run.failed} failed again.",
                messages.SUCCESS if not run.failed else messages.WARNING,
            )


@admin.register(ProcessedFile)
class ProcessedFileAdmin(ReadOnlyAdmin):
    list_display = ["filename", "connector", "lines", "loaded", "bad_lines", "created_at", "completed_at"]
    list_filter = ["connector"]
    search_fields = ["filename", "sha256"]
