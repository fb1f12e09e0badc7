"""The console for shared canned responses and macros: a team's supervisors manage their team's,
administrators every team's. Personal texts are their owners' own (the desk and the API), not listed here.

Saving goes through the services, so the console refuses what the API refuses (unknown variables,
a shortcut the team already uses), as form errors.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.html import format_html_join

from cea.common.admin import SUPERVISORS_AND_ADMINS, DraftCheckedForm, RoleModelAdmin
from cea.common.errors import ApplicationError
from engagement.canned.models import CannedResponse
from engagement.canned.services import EDITABLE, canned_create, canned_problems, canned_update
from engagement.canned.variables import variable_help
from engagement.routing.models import WrapUpCode


class CannedResponseForm(DraftCheckedForm):
    draft_errors = staticmethod(canned_problems)

    class Meta:
        model = CannedResponse
        fields = ["team", "title", "shortcut", "body", "note", "wrap_up_code", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "team" in self.fields:
            self.fields["team"].required = True
        codes = self.fields.get("wrap_up_code")
        if isinstance(codes, forms.ModelChoiceField):
            codes.queryset = WrapUpCode.objects.filter(is_active=True)


@admin.register(CannedResponse)
class CannedResponseAdmin(RoleModelAdmin):
    form = CannedResponseForm
    team_paths = ("team",)
    list_display = ["shortcut", "title", "team", "wrap_up_code", "is_active", "updated_at"]
    list_filter = ["team", "is_active"]
    search_fields = ["shortcut", "title", "body"]
    delete_roles = SUPERVISORS_AND_ADMINS
    readonly_fields = ["variables"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(team__isnull=False)

    def get_readonly_fields(self, request, obj=None):
        # A shared text stays its team's: moving it would bypass the other team's shortcuts.
        return ["variables", "team"] if obj is not None else ["variables"]

    @admin.display(description="Variables you can use")
    def variables(self, obj=None) -> str:
        return format_html_join("", "<div><code>{}</code> {}</div>", variable_help())

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in EDITABLE if name in form.cleaned_data}
        try:
            if change:
                saved = canned_update(actor=request.user, canned=obj, **fields)
            else:
                saved = canned_create(actor=request.user, team=form.cleaned_data["team"], **fields)
        except ApplicationError as error:
            raise forms.ValidationError(error.message) from error
        obj.pk = saved.pk
