"""Forms of the browser pages; they check types, the services check meaning."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from cea.accounts.models import Team
from records.cases.models import CaseCategory, CasePriority, NoteVisibility
from records.identities.models import IdentityKind


class CaseForm(forms.Form):
    subject = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    category = forms.ChoiceField(choices=CaseCategory.choices)
    priority = forms.ChoiceField(choices=CasePriority.choices, initial=CasePriority.NORMAL)


class CaseEditForm(CaseForm):
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False)
    assignee = forms.ModelChoiceField(queryset=get_user_model().objects.filter(is_active=True), required=False)


class NoteForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    visibility = forms.ChoiceField(choices=NoteVisibility.choices, initial=NoteVisibility.INTERNAL)


class IdentityForm(forms.Form):
    kind = forms.ChoiceField(choices=IdentityKind.choices)
    value = forms.CharField(max_length=255)
