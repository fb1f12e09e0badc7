"""The console: administrators edit what a strongly negative turn does; supervisors read it and the turns."""

from __future__ import annotations

from django.contrib import admin

from cea.common.admin import RoleModelAdmin
from insights.sentiment.models import NegativeTurn, SentimentSettings


@admin.register(SentimentSettings)
class SentimentSettingsAdmin(RoleModelAdmin):
    list_display = ["__str__", "raise_priority", "priority_points", "alert_supervisor", "updated_at"]
    delete_roles = ()

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not SentimentSettings.objects.exists()

    def save_model(self, request, obj, form, change):
        obj.pk = 1  # the one row (a constraint holds it to id 1; the id sequence may be past it)
        super().save_model(request, obj, form, change)


@admin.register(NegativeTurn)
class NegativeTurnAdmin(RoleModelAdmin):
    team_paths = ("team",)
    list_display = [
        "at",
        "conversation_id",
        "queue",
        "team",
        "agent",
        "score",
        "priority_raised_by",
        "supervisor_alerted",
    ]
    list_filter = ["supervisor_alerted"]
    add_roles = ()
    change_roles = ()

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]
