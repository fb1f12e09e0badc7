"""The console for the people side of schedules (issue 15, part D): agents' contracts, shift templates
and time off.

Contracts and time off belong to the agent's teams: supervisors see and change their own teams' only.
Shift templates are global configuration: administrators edit, supervisors read. Time off added here
goes through ``time_off_enter`` (approved at once, shifts cleared); requested time off is decided with
the list's actions (``time_off_decide``), never by editing its status.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin

from cea.common.admin import DraftCheckedForm, RoleModelAdmin, run_service_action
from cea.common.errors import ApplicationError
from engagement.wfm.scheduling.models import AgentContract, ShiftTemplate, TimeOff
from engagement.wfm.scheduling.requests import time_off_decide, time_off_enter, time_off_problems
from engagement.wfm.scheduling.shapes import contract_errors, template_errors


class AgentContractForm(DraftCheckedForm):
    draft_errors = staticmethod(contract_errors)

    class Meta:
        model = AgentContract
        fields = "__all__"


@admin.register(AgentContract)
class AgentContractAdmin(RoleModelAdmin):
    """What each agent may be scheduled for: hours and days a week, weekdays (0 Monday … 6 Sunday;
    empty: any), the window of their day (local time) and the rest between shifts."""

    form = AgentContractForm
    team_paths = ("agent__user__teams",)
    list_display = ["agent", "min_hours_week", "max_hours_week", "max_days_week", "earliest_start", "latest_end"]
    list_select_related = ["agent__user"]
    search_fields = ["agent__user__username", "agent__user__first_name", "agent__user__last_name"]
    autocomplete_fields = ["agent"]
    delete_roles = RoleModelAdmin.change_roles


class ShiftTemplateForm(DraftCheckedForm):
    draft_errors = staticmethod(template_errors)

    class Meta:
        model = ShiftTemplate
        fields = "__all__"


@admin.register(ShiftTemplate)
class ShiftTemplateAdmin(RoleModelAdmin):
    """Shift shapes the solver places: paid length, the window of starts, and breaks, e.g.
    ``[{"kind": "lunch", "minutes": 30, "after_minutes": 240, "spread_minutes": 60}]``."""

    form = ShiftTemplateForm
    list_display = ["name", "label", "length_minutes", "earliest_start", "latest_start", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "label"]


class TimeOffForm(forms.ModelForm):
    """The service's own checks (overlapping time off, order, length) as the form's errors."""

    class Meta:
        model = TimeOff
        fields = ["agent", "kind", "starts_at", "ends_at", "note"]

    def clean(self):
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        problems = time_off_problems(cleaned["agent"], cleaned["starts_at"], cleaned["ends_at"], cleaned["kind"])
        for name, messages in problems.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)
        return cleaned


@admin.action(description="Approve the selected requests (their shifts are trimmed)")
def approve_time_off(modeladmin, request, queryset):
    run_service_action(
        modeladmin,
        request,
        queryset,
        lambda row: time_off_decide(planner=request.user, time_off=row, approve=True),
        "{count} approved.",
    )


@admin.action(description="Reject the selected requests")
def reject_time_off(modeladmin, request, queryset):
    run_service_action(
        modeladmin,
        request,
        queryset,
        lambda row: time_off_decide(planner=request.user, time_off=row, approve=False),
        "{count} rejected.",
    )


@admin.register(TimeOff)
class TimeOffAdmin(RoleModelAdmin):
    """Agents' time off. Added here: approved at once. Requests: decided with the actions."""

    form = TimeOffForm
    team_paths = ("agent__user__teams",)
    list_display = ["agent", "kind", "starts_at", "ends_at", "status", "decided_by"]
    list_filter = ["status", "kind"]
    list_select_related = ["agent__user", "decided_by"]
    search_fields = ["agent__user__username", "agent__user__first_name", "agent__user__last_name"]
    autocomplete_fields = ["agent"]
    actions = [approve_time_off, reject_time_off]

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # decided with the actions, cancelled by the agent or on the requests page

    def save_model(self, request, obj, form, change):
        try:
            saved = time_off_enter(planner=request.user, **form.cleaned_data)
        except ApplicationError as error:
            raise forms.ValidationError(error.message) from error
        obj.pk = saved.pk
