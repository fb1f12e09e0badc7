"""The console for scorecards: global configuration (administrators edit, supervisors read), questions
edited inline with clear errors. Changing the questions of a scorecard that evaluations already used
gives it a new version; those evaluations keep the copy they were scored with (docs/quality.md)."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from cea.common.admin import ADMINS, ParentRoleInline, RoleModelAdmin
from insights.quality.models import Scorecard, ScorecardQuestion
from insights.quality.services import question_problems, scorecard_problems, scorecard_questions_changed

QUESTION_FIELDS = ("section", "order", "text", "weight", "answer_type", "scale_max", "allows_na", "auto_fail")


class QuestionForm(forms.ModelForm):
    class Meta:
        model = ScorecardQuestion
        fields = QUESTION_FIELDS

    def clean(self):
        cleaned = super().clean()
        for field, problems in question_problems(cleaned or {}).items():
            if field in self.fields and field not in self.errors:
                self.add_error(field, problems)
        return cleaned


class QuestionFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        kept = [
            form.cleaned_data for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE", False)
        ]
        problems = scorecard_problems(questions=kept)
        if problems:
            raise forms.ValidationError(problems)


class QuestionInline(ParentRoleInline):
    model = ScorecardQuestion
    form = QuestionForm
    formset = QuestionFormSet
    fields = QUESTION_FIELDS
    extra = 1


@admin.register(Scorecard)
class ScorecardAdmin(RoleModelAdmin):
    change_roles = ADMINS
    add_roles = ADMINS
    delete_roles = ADMINS
    list_display = ["name", "version", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    readonly_fields = ["version"]
    fields = ["name", "description", "is_active", "version"]
    inlines = [QuestionInline]

    def save_related(self, request, form, formsets, change):
        changed = change and any(formset.has_changed() for formset in formsets)
        super().save_related(request, form, formsets, change)
        if changed:
            # New evaluations use a new version; those already made keep their frozen copy.
            scorecard_questions_changed(scorecard=form.instance)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Evaluations keep their scorecard (PROTECT): one that was used is deactivated instead.
        if obj is not None and (obj.evaluations.exists() or obj.calibrations.exists()):
            return False
        return super().has_delete_permission(request, obj)
