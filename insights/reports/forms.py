"""The report selection: a GET form, so that the page's URL is the selection's permalink."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from cea.common.days import local_midnight, local_today
from insights.kpis.definitions import KPIS
from insights.kpis.selectors import DIMENSIONS, Interval

DEFAULT_KPIS = ["handled", "aht", "service_level"]
GROUP_LABELS = {
    "queue": _("Queue"),
    "channel": _("Channel"),
    "team": _("Team"),
    "agent": _("Agent"),
    "wrap_up_code": _("Wrap-up code"),
    "customer_tier": _("Customer tier"),
}
INTERVAL_LABELS = {
    "15min": _("15 minutes"),
    "hour": _("Hour"),
    "day": _("Day"),
    "week": _("Week"),
    "month": _("Month"),
}
# A longer range belongs to the API or an export with a coarse interval.
MAX_DAYS = 400
TEXT_FILTERS = ("queue", "channel", "wrap_up_code", "customer_tier")


class ReportForm(forms.Form):
    """KPIs, a range of local days (both included), an interval, one grouping and filters."""

    kpis = forms.MultipleChoiceField(
        choices=[(kpi.name, kpi.label) for kpi in KPIS.values()], widget=forms.CheckboxSelectMultiple
    )
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), help_text=_("Included."))
    interval = forms.ChoiceField(choices=[(interval.value, INTERVAL_LABELS[interval.value]) for interval in Interval])
    group_by = forms.ChoiceField(
        choices=[("", _("Nothing"))] + [(name, GROUP_LABELS[name]) for name in DIMENSIONS], required=False
    )
    queue = forms.CharField(required=False, max_length=100)
    channel = forms.CharField(required=False, max_length=20)
    wrap_up_code = forms.CharField(required=False, max_length=50)
    customer_tier = forms.CharField(required=False, max_length=20)
    # Plain ids (shown as the user's teams and agents): another team's id is refused as forbidden (403),
    # not as an invalid choice.
    team = forms.IntegerField(required=False, min_value=1, widget=forms.Select)
    agent = forms.IntegerField(required=False, min_value=1, widget=forms.Select)
    compare = forms.BooleanField(required=False, label=_("Compare with the previous period"))
    business_hours = forms.BooleanField(
        required=False,
        label=_("Business hours only"),
        help_text=_(
            "Only the 15-minute intervals that start while the queue (without one: the team's queues) is open."
        ),
    )

    def offer_choices(self, *, teams: list[tuple[int, str]], agents: list[tuple[int, str]]) -> None:
        """Show the teams and agents the user may filter by."""
        self.fields["team"].widget.choices = [("", _("Every team")), *teams]
        self.fields["agent"].widget.choices = [("", _("Every agent")), *agents]

    @classmethod
    def initial_data(cls) -> dict[str, object]:
        today = local_today()
        return {
            "kpis": DEFAULT_KPIS,
            "start": (today - dt.timedelta(days=6)).isoformat(),
            "end": today.isoformat(),
            "interval": Interval.DAY.value,
            "group_by": "",
        }

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                self.add_error("end", _("The last day must not be before the first."))
            elif (end - start).days >= MAX_DAYS:
                self.add_error("end", _("Choose at most %(days)d days.") % {"days": MAX_DAYS})
        return cleaned

    @property
    def range_start(self) -> dt.datetime:
        return local_midnight(self.cleaned_data["start"])

    @property
    def range_end(self) -> dt.datetime:
        """Midnight after the last day (exclusive)."""
        return local_midnight(self.cleaned_data["end"] + dt.timedelta(days=1))

    @property
    def filters(self) -> dict[str, list[str | int]]:
        return {
            name: [self.cleaned_data[name]]
            for name in (*TEXT_FILTERS, "team", "agent")
            if self.cleaned_data.get(name) not in (None, "")
        }

    @property
    def group_by_list(self) -> list[str]:
        return [self.cleaned_data["group_by"]] if self.cleaned_data.get("group_by") else []


class TimelineForm(forms.Form):
    """Agents' state timelines: a range of local days (both included), a team or an agent."""

    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text=_("Included."))
    team = forms.IntegerField(required=False, min_value=1, label=_("Team id"))
    agent = forms.IntegerField(required=False, min_value=1, label=_("Agent id"))

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        today = local_today()
        cleaned["start"] = cleaned.get("start") or today
        cleaned["end"] = cleaned.get("end") or cleaned["start"]
        if cleaned["end"] < cleaned["start"]:
            self.add_error("end", _("The last day must not be before the first."))
        elif (cleaned["end"] - cleaned["start"]).days >= 31:
            self.add_error("end", _("Choose at most %(days)d days.") % {"days": 31})
        return cleaned
