"""The console: administrators edit compliance rules (through the services: the phrase or expression is
checked); supervisors read them and their teams' verdicts."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from cea.common.admin import RoleModelAdmin
from cea.common.errors import ApplicationError
from insights.compliance.models import ComplianceCheck, ComplianceRule
from insights.compliance.rules import rule_errors
from insights.compliance.services import RULE_FIELDS, compliance_rule_create, compliance_rule_update


class ComplianceRuleForm(forms.ModelForm):
    class Meta:
        model = ComplianceRule
        fields = list(RULE_FIELDS)

    def clean(self):
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        errors = rule_errors(
            phrase=cleaned.get("phrase", ""), is_regex=bool(cleaned.get("is_regex")), kind=cleaned.get("kind", "")
        )
        for name, message in errors.items():
            self.add_error(name if name in self.fields else None, message)
        return cleaned


@admin.register(ComplianceRule)
class ComplianceRuleAdmin(RoleModelAdmin):
    form = ComplianceRuleForm
    list_display = ["key", "name", "queue", "kind", "phrase", "is_regex", "active"]
    list_filter = ["kind", "active", "queue"]
    search_fields = ["key", "name", "phrase"]

    def get_readonly_fields(self, request, obj=None):
        return ["key"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        try:
            if change:
                fields = {name: form.cleaned_data[name] for name in form.changed_data if name != "key"}
                saved = compliance_rule_update(actor=request.user, rule=obj, fields=fields)
            else:
                saved = compliance_rule_create(actor=request.user, fields=dict(form.cleaned_data))
        except ApplicationError as error:  # checked in the form already; a race is the only way here
            raise forms.ValidationError(error.message) from error
        obj.pk = saved.pk


@admin.register(ComplianceCheck)
class ComplianceCheckAdmin(RoleModelAdmin):
    team_paths = ("team",)
    list_display = ["interaction_started_at", "interaction_id", "rule", "passed", "queue", "agent", "entry_index"]
    list_filter = ["passed", "rule"]
    list_select_related = ["rule", "agent"]
    add_roles = ()
    change_roles = ()

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]
