"""The console for personas: definitions (global configuration: administrators edit, supervisors read)
and the discovery runs with their clusters (read-only; adopt or dismiss on /insights/personas/)."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from cea.common.admin import ADMINS, ParentRoleInline, RoleModelAdmin
from cea.common.errors import ApplicationError
from insights.personas.models import DiscoveredCluster, DiscoveryRun, PersonaDefinition
from insights.personas.rules import FEATURES
from insights.personas.services import (
    persona_definition_create,
    persona_definition_delete,
    persona_definition_problems,
    persona_definition_update,
)

RULES_HELP = (
    'A JSON list of conditions that must all hold, e.g. [{"feature": "value_tier", "op": "in", "value": '
    '["gold", "platinum"]}, {"feature": "channel_share", "channel": "chat", "op": "gte", "value": 0.5}]. '
    "Features: "
    + "; ".join(
        f"{feature.name}{f' (with {feature.parameter})' if feature.parameter else ''}: {feature.help}, "
        f"ops {', '.join(feature.ops)}"
        for feature in FEATURES.values()
    )
    + ". No conditions: everyone (a catch-all, put it last)."
)


class PersonaDefinitionForm(forms.ModelForm):
    class Meta:
        model = PersonaDefinition
        fields = ["key", "name", "description", "needs", "preferences", "behaviours", "order", "rules", "is_active"]
        help_texts = {"rules": RULES_HELP}

    def clean_rules(self):
        rules = self.cleaned_data.get("rules")
        problems = persona_definition_problems(fields={"rules": rules}).get("rules")
        if problems:
            raise forms.ValidationError(problems)
        return rules


@admin.register(PersonaDefinition)
class PersonaDefinitionAdmin(RoleModelAdmin):
    """Personas in the order they are tried (the first whose rules all hold wins)."""

    form = PersonaDefinitionForm
    list_display = ["order", "key", "name", "is_active", "updated_at"]
    list_display_links = ["key", "name"]
    list_filter = ["is_active"]
    search_fields = ["key", "name"]
    ordering = ["order", "key"]
    delete_roles = ADMINS

    def save_model(self, request, obj, form, change):
        # Through the services, as the API writes (who may, the checks, one place for both).
        fields = {name: form.cleaned_data[name] for name in (form.changed_data if change else form.cleaned_data)}
        try:
            if change:
                saved = persona_definition_update(actor=request.user, definition=obj, fields=fields)
            else:
                saved = persona_definition_create(actor=request.user, fields=fields)
        except ApplicationError as error:  # checked in the form already; a race is the only way here
            raise forms.ValidationError(error.message) from error
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        persona_definition_delete(actor=request.user, definition=obj)


class DiscoveredClusterInline(ParentRoleInline):
    model = DiscoveredCluster
    fields = ("number", "size", "summary", "status", "persona", "decided_by", "decided_at")
    readonly_fields = fields
    can_delete = False


@admin.register(DiscoveryRun)
class DiscoveryRunAdmin(RoleModelAdmin):
    """Discovery runs: what was clustered, the k chosen and each cluster; written by the discovery task only."""

    inlines = [DiscoveredClusterInline]
    list_display = ["created_at", "customers", "k", "silhouette", "random_state"]
    readonly_fields = ("customers", "features", "k", "silhouette", "silhouettes", "random_state", "population_mean")
    fields = readonly_fields
    add_roles = ()
    change_roles = ()
