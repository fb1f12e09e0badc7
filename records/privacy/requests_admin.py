"""The console's privacy requests: supervisors request (for their teams' customers), administrators
approve, reject and carry out. Every step goes through ``records.privacy.services``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from cea.common.admin import SUPERVISORS_AND_ADMINS, RoleModelAdmin, run_service_action
from cea.common.errors import ApplicationError
from cea.common.roles import is_admin
from records.privacy.models import PROCESS_FIELDS, PrivacyRequest
from records.privacy.services import (
    privacy_request_approve,
    privacy_request_carry_out,
    privacy_request_check,
    privacy_request_create,
    privacy_request_reject,
)

REJECTED_IN_CONSOLE = "Rejected in the console."


class PrivacyRequestForm(forms.ModelForm):
    class Meta:
        model = PrivacyRequest
        fields = ["kind", "customer", "reason"]

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor

    def clean(self):
        cleaned: dict[str, Any] = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            cleaned["reason"] = privacy_request_check(
                actor=self.actor, customer=cleaned["customer"], kind=cleaned["kind"], reason=cleaned["reason"]
            )
        except ApplicationError as error:
            self.add_error(None, error.message)
        return cleaned


@admin.register(PrivacyRequest)
class PrivacyRequestAdmin(RoleModelAdmin):
    form = PrivacyRequestForm
    team_paths = ("customer__team",)
    view_roles = SUPERVISORS_AND_ADMINS
    add_roles = SUPERVISORS_AND_ADMINS
    change_roles = ()
    list_display = ["__str__", "kind", "customer", "status", "requested_by", "requested_at", "approved_by", "done_at"]
    list_filter = ["kind", "status"]
    raw_id_fields = ["customer"]
    readonly_fields = [*PROCESS_FIELDS, "export_links"]
    actions = ["approve", "reject", "carry_out"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class: Any = super().get_form(request, obj, change, **kwargs)

        class WithActor(form_class):
            def __init__(self, *args, **inner):
                super().__init__(*args, actor=request.user, **inner)

        return WithActor

    def get_fields(self, request, obj=None):
        return ["kind", "customer", "reason"] if obj is None else ["kind", "customer", "reason", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is None else ["kind", "customer", "reason", *self.readonly_fields]

    @admin.display(description="Export")
    def export_links(self, obj: PrivacyRequest) -> str:
        from django.urls import reverse
        from django.utils.html import format_html

        if obj.pk is None or obj.kind != "access" or obj.status != "done":
            return "—"
        return format_html(
            '<a href="{}" data-testid="export-page">Readable document</a> · <a href="{}">JSON</a>',
            reverse("records:privacy-export", args=[obj.pk]),
            reverse("records-api:privacy-request-export", args=[obj.pk]),
        )

    def save_model(self, request, obj, form, change):
        created = privacy_request_create(
            actor=request.user, customer=obj.customer, kind=obj.kind, reason=form.cleaned_data["reason"]
        )
        obj.pk = created.pk
        obj.status = created.status
        obj.requested_by = created.requested_by
        obj.requested_at = created.requested_at

    def has_decide_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_staff and is_admin(request.user)

    @admin.action(description="Approve the selected requests", permissions=["decide"])
    def approve(self, request, queryset):
        run_service_action(
            self,
            request,
            queryset,
            lambda obj: privacy_request_approve(actor=request.user, request=obj),
            "{count} request(s) approved.",
        )

    @admin.action(description="Reject the selected requests", permissions=["decide"])
    def reject(self, request, queryset):
        run_service_action(
            self,
            request,
            queryset,
            lambda obj: privacy_request_reject(actor=request.user, request=obj, reason=REJECTED_IN_CONSOLE),
            "{count} request(s) rejected.",
        )

    @admin.action(description="Carry out the selected approved requests", permissions=["decide"])
    def carry_out(self, request, queryset):
        run_service_action(
            self,
            request,
            queryset,
            lambda obj: privacy_request_carry_out(actor=request.user, request=obj),
            "{count} request(s) sent to be carried out: they turn done when finished.",
        )
