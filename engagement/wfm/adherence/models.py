"""Adherence: when an agent's presence differs from what their schedule says, and each day's figures.

Adherence is the share of scheduled time the agent spent in the scheduled activity; conformance the
time they worked (logged in, not on an unscheduled absence) over the time they were scheduled to work.
"""

from __future__ import annotations

from django.db import models

from engagement.wfm.adherence.engine import share


class AdherenceException(models.Model):
    """An agent out of adherence for longer than the threshold: what they should have been doing,
    what they were, from when to when (open while it lasts)."""

    agent = models.ForeignKey("engagement.AgentProfile", on_delete=models.CASCADE, related_name="adherence_exceptions")
    shift = models.ForeignKey("engagement.Shift", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    scheduled = models.CharField(max_length=20, help_text="The activity kind scheduled, or 'off'")
    actual = models.CharField(max_length=60, help_text="The presence (and reason) the agent was in")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["agent", "-started_at"], name="adherenceexception_agent")]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.actual} for {self.scheduled} from {self.started_at:%H:%M}"


class AdherenceDay(models.Model):
    """One agent's adherence and conformance for one local day (seconds; rebuilt by the day's job).

    ``team_id`` is the agent's team then, a plain id like the KPI rollups'."""

    agent = models.ForeignKey("engagement.AgentProfile", on_delete=models.CASCADE, related_name="adherence_days")
    day = models.DateField()
    team_id = models.BigIntegerField(null=True)
    scheduled_seconds = models.FloatField(default=0)
    in_adherence_seconds = models.FloatField(default=0)
    scheduled_work_seconds = models.FloatField(default=0)
    worked_seconds = models.FloatField(default=0)
    exceptions = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day", "agent"]
        constraints = [models.UniqueConstraint(fields=["agent", "day"], name="adherenceday_unique")]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.day}"

    @property
    def adherence(self) -> float | None:
        return share(self.in_adherence_seconds, self.scheduled_seconds)

    @property
    def conformance(self) -> float | None:
        return share(self.worked_seconds, self.scheduled_work_seconds)
