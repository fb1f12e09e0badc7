"""What workforce management plans: a planning queue is one queue on one channel of the interaction
history, with the service target and the staffing model its requirement is computed with."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from cea.common.channels import Channel
from cea.common.models import TimeStampedModel


class TargetKind(models.TextChoices):
    SERVICE_LEVEL = "service_level", _("Service level (percent answered within seconds)")
    ASA = "asa", _("Average speed of answer")


class StaffingModel(models.TextChoices):
    ERLANG_C = "erlang_c", _("Erlang C (callers wait, none abandon)")
    ERLANG_A = "erlang_a", _("Erlang A (callers abandon after an average patience)")
    CHAT = "chat", _("Chat (Erlang C with several contacts per agent)")
    BACKLOG = "backlog", _("Backlog (e-mail and other deferred work: workload over the interval)")


class IntervalMinutes(models.IntegerChoices):
    FIFTEEN = 15, _("15 minutes")
    THIRTY = 30, _("30 minutes")


class PlanningQueue(TimeStampedModel):
    """One queue on one channel, as contacts carry them in the interaction history
    (``records.Interaction.queue`` and ``.channel``), and how it is to be staffed.

    ``team``: whose supervisors plan it and whose agents staff it (no team: users who see every
    team). ``skill``: an agent of the team needs it to be scheduled on this queue (none: any agent).
    """

    queue = models.CharField(max_length=100, help_text="The queue's name in the interaction history")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    label = models.CharField(max_length=200, blank=True)
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="planning_queues"
    )
    skill = models.ForeignKey(
        "engagement.Skill", null=True, blank=True, on_delete=models.SET_NULL, related_name="planning_queues"
    )
    interval_minutes = models.PositiveSmallIntegerField(
        choices=IntervalMinutes.choices, default=IntervalMinutes.FIFTEEN
    )
    target_kind = models.CharField(max_length=20, choices=TargetKind.choices, default=TargetKind.SERVICE_LEVEL)
    service_level_percent = models.PositiveSmallIntegerField(
        default=80, validators=[MinValueValidator(1), MaxValueValidator(99)]
    )
    service_level_seconds = models.PositiveIntegerField(default=20, validators=[MinValueValidator(1)])
    asa_seconds = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)], help_text="The ASA target (target kind ASA)"
    )
    model = models.CharField(max_length=20, choices=StaffingModel.choices, default=StaffingModel.ERLANG_C)
    patience_seconds = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)], help_text="Average patience (Erlang A)"
    )
    concurrency = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="Contacts an agent handles at once",
    )
    max_occupancy_percent = models.PositiveSmallIntegerField(
        default=85, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    shrinkage_percent = models.PositiveSmallIntegerField(
        default=30,
        validators=[MaxValueValidator(95)],
        help_text=(
            "Paid time off contacts that schedules do not show (absence, sickness, unplanned meetings);"
            " breaks and lunch are in the shifts"
        ),
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["queue", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["queue", "channel"], name="planningqueue_unique"),
            models.CheckConstraint(
                condition=~models.Q(target_kind="asa") | models.Q(asa_seconds__isnull=False),
                name="planningqueue_asa_has_target",
            ),
            models.CheckConstraint(
                condition=~models.Q(model="erlang_a") | models.Q(patience_seconds__isnull=False),
                name="planningqueue_erlang_a_has_patience",
            ),
        ]

    def __str__(self) -> str:
        return self.label or f"{self.queue} ({self.get_channel_display()})"
