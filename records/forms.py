"""Forms of the browser pages; they check types, the services check meaning."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from cea.accounts.models import Team
from records.cases.models import CaseCategory, CasePriority, NoteVisibility
from records.identities.models import IdentityKind


class CaseForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    category = forms.ChoiceField(label=_("Category"), choices=CaseCategory.choices)
    priority = forms.ChoiceField(label=_("Priority"), choices=CasePriority.choices, initial=CasePriority.NORMAL)


class CaseEditForm(CaseForm):
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.all(), required=False)
    assignee = forms.ModelChoiceField(
        label=_("Assignee"), queryset=get_user_model().objects.filter(is_active=True), required=False
    )


class NoteForm(forms.Form):
    body = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}))
    visibility = forms.ChoiceField(
        label=_("Visibility"), choices=NoteVisibility.choices, initial=NoteVisibility.INTERNAL
    )


class IdentityForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=IdentityKind.choices)
    value = forms.CharField(label=_("Value"), max_length=255)
