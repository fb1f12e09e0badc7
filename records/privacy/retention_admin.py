"""The console for personal data: retention policies (administrators edit, supervisors read), the
retention job's runs (read-only), and legal holds (read-only here: placed and released on the
customer and case pages or the API, where the target's team is checked)."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from cea.common.admin import RoleModelAdmin
from cea.common.errors import ApplicationError
from records.privacy.holds import retention_policy_update
from records.privacy.models import LegalHold, RetentionPolicy, RetentionRun


class RetentionPolicyForm(forms.ModelForm):
    class Meta:
        model = RetentionPolicy
        fields = ["keep_days", "enabled"]

    def clean_keep_days(self):
        keep_days = self.cleaned_data["keep_days"]
        if keep_days < self.instance.minimum_keep_days:
            raise forms.ValidationError(
                f"Keep {self.instance.get_kind_display().lower()} at least {self.instance.minimum_keep_days} days."
            )
        return keep_days


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(RoleModelAdmin):
    """One policy per kind of data (seeded, disabled); the nightly job applies the enabled ones."""

    form = RetentionPolicyForm
    list_display = ["kind", "keep_days", "action", "enabled", "updated_at", "updated_by"]
    list_filter = ["enabled"]
    readonly_fields = ["kind", "action", "minimum_keep_days", "updated_at", "updated_by"]
    fields = ["kind", "action", "minimum_keep_days", "keep_days", "enabled", "updated_at", "updated_by"]
    add_roles = ()

    def save_model(self, request, obj, form, change):
        try:
            retention_policy_update(actor=request.user, policy=obj, keep_days=obj.keep_days, enabled=obj.enabled)
        except ApplicationError as error:  # checked in the form already
            raise forms.ValidationError(error.message) from error


@admin.register(RetentionRun)
class RetentionRunAdmin(RoleModelAdmin):
    """What each retention run removed, per kind and handler, and how many held records it skipped."""

    list_display = ["started_at", "finished_at", "status", "total", "held_customers", "held_cases"]
    list_filter = ["status"]
    readonly_fields = ("started_at", "finished_at", "status", "counts", "held_customers", "held_cases", "error")
    fields = readonly_fields
    add_roles = change_roles = ()


@admin.register(LegalHold)
class LegalHoldAdmin(RoleModelAdmin):
    """Holds of the user's teams' customers and cases; placed and released on the customer and case pages."""

    team_paths = ("customer__team", "case__team")
    list_display = ["__str__", "reason", "placed_by", "placed_at", "released_by", "released_at"]
    list_filter = [("released_at", admin.EmptyFieldListFilter)]
    search_fields = ["reason", "=customer__id", "case__reference"]
    readonly_fields = ("customer", "case", "reason", "placed_by", "placed_at", "released_by", "released_at")
    fields = readonly_fields
    add_roles = change_roles = ()
