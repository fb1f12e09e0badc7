"""The console: administrators edit compliance rules (through the services: the phrase or expression is
checked); supervisors read them and their teams' verdicts."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from cea.common.admin import KeyedServiceAdmin, RoleModelAdmin
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
class ComplianceRuleAdmin(KeyedServiceAdmin):
    form = ComplianceRuleForm
    list_display = ["key", "name", "queue", "kind", "phrase", "is_regex", "active"]
    list_filter = ["kind", "active", "queue"]
    search_fields = ["key", "name", "phrase"]

    def service_create(self, *, actor, fields: dict):
        return compliance_rule_create(actor=actor, fields=fields)

    def service_update(self, *, actor, obj, fields: dict):
        return compliance_rule_update(actor=actor, rule=obj, fields=fields)


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
