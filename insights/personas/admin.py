"""The console for personas: definitions (global configuration: administrators edit, supervisors read)
and the discovery runs with their clusters (read-only; adopt or dismiss on /insights/personas/)."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from cea.common.admin import ADMINS, ParentRoleInline, RoleModelAdmin
from insights.personas.models import DiscoveredCluster, DiscoveryRun, PersonaDefinition
from insights.personas.rules import FEATURES
from insights.personas.services import persona_definition_problems

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
