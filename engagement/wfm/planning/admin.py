"""The console for planning queues: supervisors add and change their teams' queues, admins all.

Saving goes through the services (``planning_queue_create`` / ``planning_queue_update``), so the console
checks what the API checks: the team must be one the user plans, an ASA target needs its seconds,
Erlang A its patience.
"""

from __future__ import annotations

from django.contrib import admin

from cea.common.admin import RoleModelAdmin
from cea.common.errors import ApplicationError
from engagement.wfm.planning.models import PlanningQueue
from engagement.wfm.planning.services import CHANGEABLE, planning_queue_create, planning_queue_update


@admin.register(PlanningQueue)
class PlanningQueueAdmin(RoleModelAdmin):
    team_paths = ("team",)
    list_display = [
        "queue",
        "channel",
        "team",
        "model",
        "interval_minutes",
        "target_kind",
        "service_level_percent",
        "service_level_seconds",
        "shrinkage_percent",
        "is_active",
    ]
    list_filter = ["channel", "model", "is_active", "team"]
    search_fields = ["queue", "label"]

    def get_readonly_fields(self, request, obj=None):
        return ["queue", "channel"] if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        checks = self

        class ServiceCheckedForm(form):  # type: ignore[valid-type,misc]
            def clean(self):
                cleaned = super().clean()
                if not self.errors:
                    checks._service_errors(request, self)
                return cleaned

        return ServiceCheckedForm

    def _service_errors(self, request, form) -> None:
        """Run the service in a savepoint that is rolled back, so its refusals become the form's errors."""
        from django.db import transaction

        try:
            with transaction.atomic():
                self._save_through_service(request, form.instance, form.cleaned_data)
                transaction.set_rollback(True)
        except ApplicationError as refusal:
            for name, messages in refusal.fields.items():
                form.add_error(name if name in form.fields else None, messages)
            if not refusal.fields:
                form.add_error(None, refusal.message)

    def _save_through_service(self, request, obj: PlanningQueue, cleaned: dict) -> PlanningQueue:
        changes = {name: value for name, value in cleaned.items() if name in CHANGEABLE}
        if obj.pk is None:
            return planning_queue_create(
                user=request.user, queue=cleaned["queue"], channel=cleaned["channel"], **changes
            )
        stored = PlanningQueue.objects.get(pk=obj.pk)
        return planning_queue_update(user=request.user, planning_queue=stored, **changes)

    def save_model(self, request, obj, form, change):
        saved = self._save_through_service(request, obj, form.cleaned_data)
        obj.pk = saved.pk
