"""Forms of the people side of schedules (issue 15, part D): what agents ask and what planners enter.
Choices are limited to what the user may pick; the services check the rest."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from engagement.routing.models import AgentProfile
from engagement.wfm.planning.models import PlanningQueue
from engagement.wfm.scheduling.editing import ActivityPlan, activities_with_breaks
from engagement.wfm.scheduling.models import ActivityKind, Shift, TimeOffKind

LOCAL_MINUTE = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
NOTE = forms.CharField(max_length=300, required=False, label=_("Note"))


def _offer(form: forms.Form, name: str, queryset) -> None:
    """Limit the choices of ``form``'s model choice field ``name`` to ``queryset`` (what the user may pick)."""
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = queryset


class TimeOffRequestForm(forms.Form):
    kind = forms.ChoiceField(choices=TimeOffKind.choices, initial=TimeOffKind.HOLIDAY, label=_("Kind"))
    starts_at = forms.DateTimeField(label=_("From"), widget=LOCAL_MINUTE)
    ends_at = forms.DateTimeField(label=_("Until"), widget=LOCAL_MINUTE)
    note = NOTE


class TimeOffEnterForm(TimeOffRequestForm):
    agent = forms.ModelChoiceField(queryset=AgentProfile.objects.none(), label=_("Agent"))

    def __init__(self, *args, agents=None, **kwargs):
        super().__init__(*args, **kwargs)
        _offer(self, "agent", agents)


class DecideForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))])
    override_contract = forms.BooleanField(required=False, label=_("Approve despite the contract"))


class RespondForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", _("Accept")), ("decline", _("Decline"))])


class _ShiftChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        start, end = timezone.localtime(obj.starts_at), timezone.localtime(obj.ends_at)
        who = f"{obj.agent.user} · " if self.show_agent else ""
        return f"{who}{start:%a %d %b %H:%M}–{end:%H:%M}"

    def __init__(self, *args, show_agent: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.show_agent = show_agent


class SwapRequestForm(forms.Form):
    shift = _ShiftChoice(queryset=Shift.objects.none(), label=_("My shift"))
    counterpart = forms.ModelChoiceField(queryset=AgentProfile.objects.none(), label=_("Colleague"))
    counterpart_shift = _ShiftChoice(
        queryset=Shift.objects.none(),
        required=False,
        label=_("Their shift in return (none: give mine away)"),
        show_agent=True,
    )
    note = NOTE

    def __init__(self, *args, shifts=None, colleagues=None, colleagues_shifts=None, **kwargs):
        super().__init__(*args, **kwargs)
        _offer(self, "shift", shifts)
        _offer(self, "counterpart", colleagues)
        _offer(self, "counterpart_shift", colleagues_shifts)

    def clean(self):
        cleaned = super().clean() or {}
        theirs, colleague = cleaned.get("counterpart_shift"), cleaned.get("counterpart")
        if theirs is not None and colleague is not None and theirs.agent_id != colleague.pk:
            self.add_error("counterpart_shift", _("Pick a shift of the colleague you ask."))
        return cleaned


class ShiftForm(forms.Form):
    """A shift as a planner types it: a day, start and end (an end before the start is the next day),
    contacts on a queue, a break and a lunch."""

    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label=_("Day"))
    start = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}), label=_("Start"))
    end = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}), label=_("End"))
    planning_queue = forms.ModelChoiceField(
        queryset=PlanningQueue.objects.none(),
        required=False,
        empty_label=_("Any of the agent's queues"),
        label=_("Planning queue"),
    )
    break_at = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}), label=_("Break at"))
    break_minutes = forms.IntegerField(min_value=5, max_value=60, initial=15, required=False, label=_("Break minutes"))
    lunch_at = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}), label=_("Lunch at"))
    lunch_minutes = forms.IntegerField(
        min_value=15, max_value=120, initial=30, required=False, label=_("Lunch minutes")
    )

    def __init__(self, *args, queues=None, **kwargs):
        super().__init__(*args, **kwargs)
        _offer(self, "planning_queue", queues)

    def _moment(self, time: dt.time, *, after: dt.datetime | None = None) -> dt.datetime:
        moment = timezone.make_aware(dt.datetime.combine(self.cleaned_data["day"], time))
        return moment + dt.timedelta(days=1) if after is not None and moment <= after else moment

    def plan(self) -> tuple[dt.datetime, dt.datetime, list[ActivityPlan]]:
        """The shift's start, end and activities (call after ``is_valid``)."""
        data = self.cleaned_data
        starts_at = self._moment(data["start"])
        ends_at = self._moment(data["end"], after=starts_at)
        breaks = [
            (kind, self._moment(data[f"{kind}_at"], after=starts_at - dt.timedelta(seconds=1)), data[f"{kind}_minutes"])
            for kind in (ActivityKind.BREAK, ActivityKind.LUNCH)
            if data.get(f"{kind}_at") is not None
        ]
        breaks = [
            (kind, start, minutes or (15 if kind == ActivityKind.BREAK else 30)) for kind, start, minutes in breaks
        ]
        queue = data.get("planning_queue")
        return starts_at, ends_at, activities_with_breaks(starts_at, ends_at, queue.pk if queue else None, breaks)
