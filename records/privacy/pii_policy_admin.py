"""The console's redaction policy: one page, administrators change it, supervisors read it.

Saving goes through ``pii_policy_update`` (the check that a card is never kept, the cache's
invalidation in every process); there is one row, never added twice nor deleted.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import reverse

from cea.common.admin import RoleModelAdmin
from cea.common.errors import ApplicationError
from records.privacy.models import PiiPolicy
from records.privacy.pii_policy import MODE_FIELDS, pii_policy_check, pii_policy_update


class PiiPolicyForm(forms.ModelForm):
    class Meta:
        model = PiiPolicy
        fields = list(MODE_FIELDS)

    def clean(self):
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            pii_policy_check(modes={name: cleaned[name] for name in MODE_FIELDS if name in cleaned})
        except ApplicationError as error:
            for name, message in error.fields.items():
                self.add_error(name if name in self.fields else None, message)
            if not error.fields:
                self.add_error(None, error.message)
        return cleaned


@admin.register(PiiPolicy)
class PiiPolicyAdmin(RoleModelAdmin):
    """Global configuration: ``RoleModelAdmin`` lets administrators write and supervisors read."""

    form = PiiPolicyForm
    list_display = ["__str__", *MODE_FIELDS, "updated_by", "updated_at"]
    readonly_fields = ["updated_by", "updated_at"]
    fieldsets = [
        (
            "Mode per kind (a card number is never kept in clear; a card security code is always removed)",
            {"fields": list(MODE_FIELDS)},
        ),
        ("Last change", {"fields": ["updated_by", "updated_at"]}),
    ]

    def has_add_permission(self, request) -> bool:
        return super().has_add_permission(request) and not PiiPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        """The one row's page (made with the defaults when first opened by someone who may change it)."""
        row = PiiPolicy.objects.filter(pk=PiiPolicy.SINGLETON_ID).first()
        if row is None and self.has_change_permission(request):
            row = pii_policy_update(actor=request.user, modes={})
        if row is None:
            return super().changelist_view(request, extra_context)
        return HttpResponseRedirect(reverse("admin:records_piipolicy_change", args=[row.pk]))

    def save_model(self, request, obj, form, change):
        modes = {name: form.cleaned_data[name] for name in MODE_FIELDS if name in form.cleaned_data}
        try:
            saved = pii_policy_update(actor=request.user, modes=modes)
        except ApplicationError as error:  # checked in the form already; a race is the only way here
            raise forms.ValidationError(error.message) from error
        obj.pk = saved.pk
