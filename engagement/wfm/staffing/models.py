"""The agents each interval needs: the staffing model's answer for the planned volume and handle time."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class StaffingRequirement(models.Model):
    """Required agents for one interval of one planning queue, with what they are expected to achieve.

    ``agents`` are the agents on contacts (the staffing model's answer); ``agents_with_shrinkage``
    the agents to schedule once shrinkage is allowed for.
    """

    planning_queue = models.ForeignKey(
        "engagement.PlanningQueue", on_delete=models.CASCADE, related_name="requirements"
    )
    interval_start = models.DateTimeField()
    volume = models.FloatField()
    aht_seconds = models.FloatField()
    agents = models.PositiveIntegerField()
    agents_with_shrinkage = models.FloatField()
    service_level = models.FloatField(null=True, help_text="Expected share answered within the target, 0–1")
    asa_seconds = models.FloatField(null=True)
    occupancy = models.FloatField(null=True, help_text="0–1")
    abandon_rate = models.FloatField(null=True, blank=True, help_text="Erlang A: expected share abandoning, 0–1")
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["planning_queue", "interval_start"]
        constraints = [
            models.UniqueConstraint(fields=["planning_queue", "interval_start"], name="staffingrequirement_unique")
        ]

    def __str__(self) -> str:
        return f"{self.planning_queue_id} {self.interval_start:%Y-%m-%d %H:%M}: {self.agents}"
