"""The console for self-service: flows and knowledge articles (global configuration: administrators edit)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count, JSONField, TextField

from cea.common.admin import ADMINS, ParentRoleInline, RoleModelAdmin
from cea.common.errors import ApplicationError
from engagement.selfservice.definition import StepDef, flow_fields_problems
from engagement.selfservice.models import Flow, FlowStep, KnowledgeArticle
from engagement.selfservice.selectors import knowledge_search
from engagement.selfservice.services import knowledge_article_check, knowledge_article_save
from engagement.selfservice.steps import flow_steps_problems


class FlowForm(forms.ModelForm):
    class Meta:
        model = Flow
        fields = ["name", "intent", "description", "trigger_phrases", "menu_key", "queue", "is_active"]

    def clean(self):
        cleaned = super().clean()
        others = Flow.objects.filter(is_active=True).exclude(menu_key="")
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        problems = flow_fields_problems(
            menu_key=cleaned.get("menu_key", "") if cleaned.get("is_active") else "",
            trigger_phrases=cleaned.get("trigger_phrases", ""),
            other_menu_keys=others.values_list("menu_key", flat=True),
        )
        for name, messages in problems.items():
            self.add_error(name, messages)
        return cleaned


class FlowStepFormSet(forms.BaseInlineFormSet):
    """Checks the steps together: unique keys, targets that exist, options per kind, all reachable.

    The step with the lowest position is where the flow starts. Each problem is shown on the
    step (and field) it concerns.
    """

    def clean(self):
        # Not super().clean(): its generic "duplicate data" check is replaced by the checks below,
        # which name the step and the key (all of a flow's steps are in this formset).
        if any(self.errors):
            return  # each step's own fields first
        live = [
            form
            for form in self.forms
            if form.cleaned_data and not (self.can_delete and self._should_delete_form(form))
        ]
        # The lowest position first; equal positions in the order shown.
        order = sorted(range(len(live)), key=lambda i: (live[i].cleaned_data.get("position") or 0, i))
        ordered = [live[i] for i in order]
        steps = [
            StepDef(
                key=form.cleaned_data.get("key", ""),
                kind=form.cleaned_data.get("kind", ""),
                prompt=form.cleaned_data.get("prompt", ""),
                options=form.cleaned_data.get("options") if form.cleaned_data.get("options") is not None else {},
                next_step=form.cleaned_data.get("next_step", ""),
                position=form.cleaned_data.get("position") or 0,
            )
            for form in ordered
        ]
        problems = flow_steps_problems(steps)
        for index, fields in problems.by_step.items():
            for name, messages in fields.items():
                ordered[index].add_error(name, messages)
        if problems.general:
            raise forms.ValidationError(problems.general)


class FlowStepInline(ParentRoleInline):
    model = FlowStep
    formset = FlowStepFormSet
    min_num = 0
    fields = ["position", "key", "kind", "prompt", "options", "next_step"]
    formfield_overrides = {
        TextField: {"widget": forms.Textarea(attrs={"rows": 3, "cols": 40})},
        JSONField: {"widget": forms.Textarea(attrs={"rows": 3, "cols": 48})},
    }


@admin.register(Flow)
class FlowAdmin(RoleModelAdmin):
    """Self-service flows with their steps: global, so administrators configure them and supervisors read them.

    The options of a step depend on its kind (see FlowStep): a menu's choices, an ask's
    variable and pattern, a look-up's name and inputs, a branch's variable and cases.
    """

    form = FlowForm
    inlines = [FlowStepInline]
    list_display = ["name", "intent", "menu_key", "queue", "is_active", "step_count", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "intent", "trigger_phrases"]
    delete_roles = ADMINS

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(step_total=Count("steps"))

    @admin.display(description="Steps", ordering="step_total")
    def step_count(self, flow: Flow) -> int:
        return flow.step_total


class KnowledgeArticleForm(forms.ModelForm):
    class Meta:
        model = KnowledgeArticle
        fields = ["title", "keywords", "body", "language", "is_published"]

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            try:
                knowledge_article_check(
                    title=cleaned.get("title", ""),
                    body=cleaned.get("body", ""),
                    keywords=cleaned.get("keywords", ""),
                    language=cleaned.get("language", ""),
                )
            except ApplicationError as error:
                for name, messages in error.fields.items():
                    self.add_error(name if name in self.fields else None, messages)
        return cleaned


@admin.register(KnowledgeArticle)
class KnowledgeArticleAdmin(RoleModelAdmin):
    """Answers for self-service and agents (global: administrators edit, supervisors read); saved through
    the service that keeps the search vector."""

    form = KnowledgeArticleForm
    list_display = ["title", "keywords", "language", "is_published", "updated_at"]
    list_filter = ["is_published", "language"]
    search_fields = ["title", "keywords"]
    delete_roles = ADMINS

    def get_search_results(self, request, queryset, search_term):
        # The console finds articles the way self-service does (full-text, stemmed), and by title.
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip():
            found = [a.pk for a in knowledge_search(text=search_term, limit=200, published_only=False)]
            results = results | queryset.filter(pk__in=found)
        return results, may_have_duplicates

    def save_model(self, request, obj, form, change):
        knowledge_article_save(
            article=obj,
            title=form.cleaned_data["title"],
            body=form.cleaned_data["body"],
            keywords=form.cleaned_data.get("keywords", ""),
            language=form.cleaned_data["language"],
            is_published=form.cleaned_data.get("is_published", False),
        )
