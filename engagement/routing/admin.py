"""The console for routing: queues and their rules, skills, agents' capacity and skills, codes.

Queues, skills, channel loads and codes are global configuration: administrators change them,
supervisors read them. Supervisors set their own teams' agents' channels, capacity and skills.
Work items, offers and presence changes are read-only records (they change only through the
router), scoped to the supervisor's teams.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin

from cea.common.admin import ParentRoleInline, RoleModelAdmin
from cea.common.errors import ValidationFailed
from engagement.routing.hours import ClosedDays, WeeklyRange, closure_problems, range_problems
from engagement.routing.models import (
    AgentProfile,
    AgentSkill,
    BusinessHours,
    ChannelLoad,
    Closure,
    Offer,
    OpeningRange,
    PresenceChange,
    Queue,
    ReasonCode,
    RoutingStep,
    Skill,
    WorkItem,
    WrapUpCode,
)
from engagement.routing.rules import Step, steps_validate


def _live_rows(formset: forms.BaseInlineFormSet) -> list[dict]:
    """The cleaned data of the rows that stay once the formset is saved (not deleted, not empty)."""
    return [
        form.cleaned_data
        for form in formset.forms
        if form.cleaned_data and not (formset.can_delete and formset._should_delete_form(form))
    ]


class RoutingStepFormSet(forms.BaseInlineFormSet):
    """The steps are checked together (rules.steps_validate) when the queue is saved."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        live = _live_rows(self)
        live.sort(key=lambda data: data.get("position") or 0)
        steps = [
            Step(
                position=data.get("position") or 0,
                until_seconds=data.get("until_seconds"),
                skill_id=data["skill"].pk if data.get("skill") else None,
                min_proficiency=data.get("min_proficiency") or 1,
                overflow_to_id=data["overflow_to"].pk if data.get("overflow_to") else None,
            )
            for data in live
        ]
        try:
            steps_validate(steps, queue_id=self.instance.pk)
        except ValidationFailed as problem:
            raise forms.ValidationError(problem.message) from problem


class RoutingStepInline(ParentRoleInline):
    model = RoutingStep
    formset = RoutingStepFormSet
    fk_name = "queue"
    fields = ["position", "until_seconds", "skill", "min_proficiency", "overflow_to"]


class OpeningRangeFormSet(forms.BaseInlineFormSet):
    """A schedule's ranges are checked together (``hours.range_problems``: overlaps, closing before opening)."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        ranges = [
            WeeklyRange(data["weekday"], data["opens"], data["closes"])
            for data in _live_rows(self)
            if data.get("weekday") is not None and data.get("opens") and data.get("closes") is not None
        ]
        problems = range_problems(ranges)
        if problems:
            raise forms.ValidationError(problems)


class ClosureFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        closures = [
            ClosedDays(data.get("name", ""), data["first_day"], data["last_day"])
            for data in _live_rows(self)
            if data.get("first_day") and data.get("last_day")
        ]
        problems = closure_problems(closures)
        if problems:
            raise forms.ValidationError(problems)


class OpeningRangeInline(ParentRoleInline):
    model = OpeningRange
    formset = OpeningRangeFormSet
    fields = ["weekday", "opens", "closes"]


class ClosureInline(ParentRoleInline):
    model = Closure
    formset = ClosureFormSet
    fields = ["name", "first_day", "last_day"]


@admin.register(BusinessHours)
class BusinessHoursAdmin(RoleModelAdmin):
    """Business hours: weekly opening ranges (several a day if need be; a range closing at 00:00 closes
    at midnight) and dated closures (bank holidays), in a time zone. Queues point to them; a queue
    without business hours is always open. Global configuration: administrators edit, supervisors read.
    """

    inlines = [OpeningRangeInline, ClosureInline]
    list_display = ["name", "label", "time_zone"]
    search_fields = ["name", "label"]


@admin.register(Queue)
class QueueAdmin(RoleModelAdmin):
    """Queues with their service-level target, agent selection and bullseye steps.

    Steps hold by the item's age in the queue: each asks for a skill at a proficiency until its
    ``until seconds``; the last may overflow to another queue.
    """

    inlines = [RoutingStepInline]
    list_display = [
        "name",
        "label",
        "channel",
        "team",
        "service_level_percent",
        "service_level_seconds",
        "selection",
        "business_hours",
        "is_active",
    ]
    list_filter = ["is_active", "channel", "selection"]
    search_fields = ["name", "label"]


@admin.register(Skill)
class SkillAdmin(RoleModelAdmin):
    list_display = ["name", "description"]
    search_fields = ["name"]


class AgentSkillInline(ParentRoleInline):
    model = AgentSkill
    fields = ["skill", "proficiency"]


@admin.register(AgentProfile)
class AgentProfileAdmin(RoleModelAdmin):
    """Agents as the router sees them: channels, capacity units and skills; presence is read-only here."""

    inlines = [AgentSkillInline]
    team_paths = ("user__teams",)
    list_display = ["user", "presence", "reason", "load_units", "capacity_units", "presence_since", "connections"]
    list_filter = ["presence"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    # What the router and the desktop keep up to date: shown, never edited here.
    readonly_fields = [
        "presence",
        "reason",
        "presence_since",
        "load_units",
        "idle_since",
        "connections",
        "last_seen_at",
    ]
    fields = ["user", "channels", "capacity_units", *readonly_fields]
    autocomplete_fields = ["user"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "user"] if obj is not None else self.readonly_fields


@admin.register(ChannelLoad)
class ChannelLoadAdmin(RoleModelAdmin):
    list_display = ["channel", "units"]


@admin.register(ReasonCode)
class ReasonCodeAdmin(RoleModelAdmin):
    list_display = ["code", "label", "is_active", "system"]
    readonly_fields = ["system"]


@admin.register(WrapUpCode)
class WrapUpCodeAdmin(RoleModelAdmin):
    list_display = ["code", "label", "is_active"]


class ReadOnlyAdmin(RoleModelAdmin):
    add_roles = ()
    change_roles = ()


@admin.register(WorkItem)
class WorkItemAdmin(ReadOnlyAdmin):
    team_paths = ("queue__team", "conversation__team", "conversation__customer__team")
    list_display = ["pk", "conversation", "queue", "status", "priority", "agent", "enqueued_at", "wait_seconds"]
    list_filter = ["status", "queue", "channel"]
    list_select_related = ["queue", "agent__user", "conversation"]


@admin.register(Offer)
class OfferAdmin(ReadOnlyAdmin):
    team_paths = ("work_item__queue__team", "work_item__conversation__team", "agent__user__teams")
    list_display = ["pk", "work_item", "agent", "status", "offered_at", "ended_at", "reason"]
    list_filter = ["status"]
    list_select_related = ["agent__user", "work_item"]


@admin.register(PresenceChange)
class PresenceChangeAdmin(ReadOnlyAdmin):
    team_paths = ("agent__user__teams",)
    list_display = ["agent", "presence", "reason", "started_at", "ended_at", "cause"]
    list_filter = ["presence", "cause"]
    list_select_related = ["agent__user", "reason"]
