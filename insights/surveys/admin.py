"""The console for surveys: administrators configure them per queue and channel, supervisors read;
the surveys sent (or skipped) are read-only, scoped to the supervisor's teams."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from cea.common.admin import DraftCheckedForm, RoleModelAdmin
from cea.common.errors import ApplicationError
from insights.surveys.models import Survey, SurveyConfig
from insights.surveys.services import survey_config_errors, survey_config_save


class SurveyConfigForm(DraftCheckedForm):
    draft_errors = survey_config_errors

    class Meta:
        model = SurveyConfig
        exclude: list[str] = []

    def validate_unique(self):
        # The clash of queue and channel is said in the domain's words by survey_config_errors.
        pass


@admin.register(SurveyConfig)
class SurveyConfigAdmin(RoleModelAdmin):
    form = SurveyConfigForm
    list_display = ["channel", "queue", "kind", "active", "sample_percent", "cap_days", "consent_purpose"]
    list_filter = ["channel", "kind", "active"]
    search_fields = ["queue"]

    def save_model(self, request, obj, form, change):
        try:
            survey_config_save(actor=request.user, config=obj)
        except ApplicationError as error:  # checked in the form already; a race is the only way here
            raise forms.ValidationError(error.message) from error


@admin.register(Survey)
class SurveyAdmin(RoleModelAdmin):
    team_paths = ("team",)
    list_display = ["created_at", "kind", "channel", "status", "skip_reason", "score", "queue", "agent", "team"]
    list_filter = ["status", "kind", "channel", "skip_reason"]
    list_select_related = ["agent", "team"]
    add_roles = ()
    change_roles = ()
    exclude = ["token_hash"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name != "token_hash"]
