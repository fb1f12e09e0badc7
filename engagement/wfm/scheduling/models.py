"""Agents' contracts and time off, shift templates, weekly schedules with their shifts and activities,
coverage per interval, and the swaps agents ask for."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cea.common.models import TimeStampedModel


class AgentContract(TimeStampedModel):
    """What an agent may be scheduled for: hours a week, days, and the window of their working day
    (local time). ``weekdays``: 0 Monday … 6 Sunday."""

    agent = models.OneToOneField("engagement.AgentProfile", on_delete=models.CASCADE, related_name="contract")
    min_hours_week = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(80)])
    max_hours_week = models.PositiveSmallIntegerField(
        default=40, validators=[MinValueValidator(1), MaxValueValidator(80)]
    )
    max_days_week = models.PositiveSmallIntegerField(default=5, validators=[MinValueValidator(1), MaxValueValidator(7)])
    weekdays = ArrayField(models.PositiveSmallIntegerField(), default=list, blank=True, help_text="Empty: any day")
    earliest_start = models.TimeField(default=dt.time(7))
    latest_end = models.TimeField(default=dt.time(22))
    min_rest_hours = models.PositiveSmallIntegerField(default=11, validators=[MaxValueValidator(24)])

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_hours_week__lte=models.F("max_hours_week")), name="agentcontract_hours_order"
            )
        ]

    def __str__(self) -> str:
        return f"contract of {self.agent_id}: {self.min_hours_week}–{self.max_hours_week} h"


class ShiftTemplate(TimeStampedModel):
    """A shift shape: its paid length, the window its start may fall in, and its breaks.

    ``breaks``: ``[{"kind": "break"|"lunch", "minutes": 15, "after_minutes": 120, "spread_minutes": 30}]``,
    each placed ``after_minutes`` from the shift's start, give or take ``spread_minutes``.
    """

    name = models.SlugField(max_length=60, unique=True)
    label = models.CharField(max_length=200, blank=True)
    length_minutes = models.PositiveIntegerField(validators=[MinValueValidator(60), MaxValueValidator(720)])
    earliest_start = models.TimeField(default=dt.time(7))
    latest_start = models.TimeField(default=dt.time(14))
    start_step_minutes = models.PositiveSmallIntegerField(default=30, choices=[(15, "15"), (30, "30"), (60, "60")])
    breaks = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.label or self.name


class RequestStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    ACCEPTED = "accepted", _("Accepted by the other agent")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


class TimeOffKind(models.TextChoices):
    HOLIDAY = "holiday", _("Holiday")
    SICK = "sick", _("Sickness")
    TRAINING = "training", _("Training")
    OTHER = "other", _("Other")


class TimeOff(models.Model):
    """Time an agent is not to be scheduled: asked for by the agent (approved by a supervisor) or
    entered by a supervisor (approved at once). Only approved time off blocks the schedule."""

    agent = models.ForeignKey("engagement.AgentProfile", on_delete=models.CASCADE, related_name="time_off")
    kind = models.CharField(max_length=20, choices=TimeOffKind.choices, default=TimeOffKind.HOLIDAY)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=RequestStatus.choices, default=RequestStatus.REQUESTED)
    note = models.CharField(max_length=300, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="timeoff_order")
        ]
        indexes = [models.Index(fields=["agent", "starts_at"], name="timeoff_agent_start")]

    def __str__(self) -> str:
        return f"{self.kind} of {self.agent_id} {self.starts_at:%Y-%m-%d} ({self.status})"


class ScheduleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    SUPERSEDED = "superseded", _("Superseded")


class Schedule(TimeStampedModel):
    """One team's schedule for one week (Monday, local), as the solver made it and supervisors edited
    it. One published schedule per team and week; publishing another supersedes it."""

    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="schedules")
    week_start = models.DateField(help_text="The Monday the week starts on (local)")
    status = models.CharField(max_length=20, choices=ScheduleStatus.choices, default=ScheduleStatus.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    solver_status = models.CharField(max_length=30, blank=True, help_text="optimal, feasible, time limit …")
    solve_seconds = models.FloatField(null=True, blank=True)
    time_limit_seconds = models.PositiveIntegerField(default=60)
    under_minutes = models.FloatField(default=0, help_text="Agent-minutes of requirement not covered")
    over_minutes = models.FloatField(default=0, help_text="Agent-minutes scheduled above the requirement")
    notes = models.JSONField(default=list, blank=True, help_text="What the solver could not do, in words")

    class Meta:
        ordering = ["-week_start", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "week_start"],
                condition=models.Q(status="published"),
                name="schedule_one_published_per_team_week",
            )
        ]

    def __str__(self) -> str:
        return f"schedule {self.pk} week {self.week_start} ({self.status})"


class Shift(models.Model):
    """One agent's shift in a schedule."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="shifts")
    agent = models.ForeignKey("engagement.AgentProfile", on_delete=models.CASCADE, related_name="shifts")
    template = models.ForeignKey(ShiftTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "agent"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="shift_order")
        ]
        indexes = [models.Index(fields=["agent", "starts_at"], name="shift_agent_start")]

    def __str__(self) -> str:
        return f"shift of {self.agent_id} {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%H:%M}"


class ActivityKind(models.TextChoices):
    WORK = "work", _("Contacts")
    BREAK = "break", _("Break")
    LUNCH = "lunch", _("Lunch")
    TRAINING = "training", _("Training")
    MEETING = "meeting", _("Meeting")
    COACHING = "coaching", _("Coaching")


class ShiftActivity(models.Model):
    """What the agent should be doing within a shift: contacts (on a planning queue, or any of theirs),
    a break, lunch, training … Activities tile the shift."""

    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=20, choices=ActivityKind.choices, default=ActivityKind.WORK)
    planning_queue = models.ForeignKey(
        "engagement.PlanningQueue", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="shiftactivity_order")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"


class ScheduleCoverage(models.Model):
    """Per interval and planning queue: agents required (with shrinkage) against agents scheduled."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="coverage")
    planning_queue = models.ForeignKey("engagement.PlanningQueue", on_delete=models.CASCADE, related_name="+")
    interval_start = models.DateTimeField()
    required = models.FloatField()
    scheduled = models.FloatField()

    class Meta:
        ordering = ["interval_start", "planning_queue"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "planning_queue", "interval_start"], name="schedulecoverage_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.interval_start:%Y-%m-%d %H:%M}: {self.scheduled}/{self.required}"

    @property
    def unmet(self) -> float:
        return max(self.required - self.scheduled, 0.0)


class SwapRequest(models.Model):
    """An agent asks to swap a shift with a colleague (or give it away: no shift in return). The
    colleague accepts, then a supervisor approves; approval moves the shifts."""

    requester = models.ForeignKey("engagement.AgentProfile", on_delete=models.CASCADE, related_name="+")
    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="swap_requests")
    counterpart = models.ForeignKey("engagement.AgentProfile", on_delete=models.CASCADE, related_name="+")
    counterpart_shift = models.ForeignKey(Shift, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=20, choices=RequestStatus.choices, default=RequestStatus.REQUESTED)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"swap {self.pk} ({self.status})"
