"""Helpers for the pages' Django forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _

from cea.common.errors import ValidationFailed


def cleaned_or_raise(form: forms.Form) -> dict[str, Any]:
    """The form's cleaned data, or ``ValidationFailed`` (400) with each field's errors."""
    if not form.is_valid():
        fields = {name: [str(error) for error in errors] for name, errors in form.errors.items()}
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=fields)
    return form.cleaned_data
