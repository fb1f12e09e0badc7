"""The period of the sentiment and compliance reports (pages and APIs): days from ``start`` to ``end``
included, in the operation's time zone; the last 30 days when not given."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from cea.common.days import local_midnight, local_today

MAX_DAYS = 366
DEFAULT_DAYS = 30


class PeriodForm(forms.Form):
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        end = cleaned.get("end") or local_today()
        start = cleaned.get("start") or end - dt.timedelta(days=DEFAULT_DAYS - 1)
        if end < start:
            self.add_error("end", _("The last day must not be before the first."))
        elif (end - start).days >= MAX_DAYS:
            self.add_error("end", _("Choose at most %(days)d days.") % {"days": MAX_DAYS})
        cleaned["start"], cleaned["end"] = start, end
        return cleaned

    @property
    def range_start(self) -> dt.datetime:
        return local_midnight(self.cleaned_data["start"])

    @property
    def range_end(self) -> dt.datetime:
        return local_midnight(self.cleaned_data["end"] + dt.timedelta(days=1))


class SentimentQueryForm(PeriodForm):
    group_by = forms.ChoiceField(
        required=False,
        choices=[(name, name) for name in ("queue", "agent", "team", "channel", "day")],
        initial="queue",
    )
