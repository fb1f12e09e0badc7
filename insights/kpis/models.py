"""Rollup tables of the KPIs: additive facts per 15-minute interval and dimensions, and watermarks.

Every column of ``ContactRollup`` is a count or a sum of seconds, so any KPI at any coarser
interval (hour, day, week, month in the deployment's time zone) and any grouping is a SUM over
rows followed by a ratio (``insights.kpis.definitions``). ``interval_start`` is the start of a
15-minute interval in UTC: a 15-minute grain is the same in every time zone, so local buckets
(with their DST days of 23 or 25 hours) are made at query time.
"""

from __future__ import annotations

from django.db import models


class ContactCounts(models.Model):
    """The additive counts and sums of contacts that every contact KPI is a ratio of."""

    contacts = models.IntegerField(default=0)
    inbound = models.IntegerField(default=0)
    queued = models.IntegerField(default=0)
    answered = models.IntegerField(default=0)
    handled = models.IntegerField(default=0)
    abandoned = models.IntegerField(default=0)
    short_abandoned = models.IntegerField(default=0)
    callbacks = models.IntegerField(default=0)
    answered_within = models.IntegerField(default=0)
    abandoned_within = models.IntegerField(default=0)
    callbacks_within = models.IntegerField(default=0)
    flowed_out = models.IntegerField(default=0)
    sl_numerator = models.IntegerField(default=0)
    sl_denominator = models.IntegerField(default=0)
    transferred = models.IntegerField(default=0)
    contained = models.IntegerField(default=0)
    fcr_eligible = models.IntegerField(default=0)
    fcr_resolved = models.IntegerField(default=0)
    answer_wait_seconds = models.FloatField(default=0)
    abandon_wait_seconds = models.FloatField(default=0)
    talk_seconds = models.FloatField(default=0)
    hold_seconds = models.FloatField(default=0)
    acw_seconds = models.FloatField(default=0)
    csat_responses = models.IntegerField(default=0)
    csat_satisfied = models.IntegerField(default=0)

    class Meta:
        abstract = True


class ContactRollup(ContactCounts):
    """The contacts of one 15-minute interval for one combination of dimensions.

    A contact counts in the interval it was first queued (its start, when it never queued); its
    queue, team, agent and wrap-up code are those recorded when it ended. ``agent_id`` and
    ``team_id`` are plain ids, not foreign keys: the rollup keeps its rows if a user or a team is
    deleted, and the insert stays set-wise.
    """

    interval_start = models.DateTimeField()
    queue = models.CharField(max_length=100, blank=True)
    channel = models.CharField(max_length=20)
    team_id = models.BigIntegerField(null=True)
    agent_id = models.BigIntegerField(null=True)
    wrap_up_code = models.CharField(max_length=50, blank=True)
    customer_tier = models.CharField(max_length=20, blank=True)
    sl_variant = models.CharField(max_length=80, help_text="The queue's service-level formula (definitions.py)")

    class Meta:
        indexes = [
            models.Index(fields=["interval_start", "queue"], name="contactrollup_interval"),
            models.Index(fields=["team_id", "interval_start"], name="contactrollup_team"),
            models.Index(fields=["agent_id", "interval_start"], name="contactrollup_agent"),
        ]

    def __str__(self) -> str:
        return f"{self.interval_start:%Y-%m-%d %H:%M} {self.queue or '-'} {self.channel}: {self.contacts}"


class QueueRollup(ContactCounts):
    """``ContactRollup`` summed per interval, queue, channel and formula: what a report by queue and
    channel alone reads (a small fraction of the rows when there are many agents and wrap-up codes).

    It has no team: only users who see every team read it (``insights.kpis.selectors``).
    """

    interval_start = models.DateTimeField()
    queue = models.CharField(max_length=100, blank=True)
    channel = models.CharField(max_length=20)
    sl_variant = models.CharField(max_length=80)

    class Meta:
        indexes = [models.Index(fields=["interval_start", "queue"], name="queuerollup_interval")]

    def __str__(self) -> str:
        return f"{self.interval_start:%Y-%m-%d %H:%M} {self.queue or '-'} {self.channel}: {self.contacts}"


class QueueHourRollup(ContactCounts):
    """``QueueRollup`` summed per UTC hour: what a report by queue and channel by hour, day, week or
    month reads when each of its local hours is a whole UTC hour (``insights.kpis.selectors``).

    ``interval_start`` is the start of the hour in UTC. A time zone whose offset is not a whole
    number of hours (India, Newfoundland, Nepal) has local hours that cut UTC hours in two: reports
    there read ``QueueRollup``. Like ``QueueRollup`` it has no team.
    """

    interval_start = models.DateTimeField()
    queue = models.CharField(max_length=100, blank=True)
    channel = models.CharField(max_length=20)
    sl_variant = models.CharField(max_length=80)

    class Meta:
        indexes = [models.Index(fields=["interval_start", "queue"], name="queuehourrollup_interval")]

    def __str__(self) -> str:
        return f"{self.interval_start:%Y-%m-%d %H:00} {self.queue or '-'} {self.channel}: {self.contacts}"


class RollupWatermark(models.Model):
    """How far a rollup has read its sources: rows changed up to ``changed_until`` are rolled up."""

    name = models.CharField(max_length=40, unique=True)
    changed_until = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_intervals = models.IntegerField(default=0, help_text="Intervals re-computed by the last run")

    def __str__(self) -> str:
        return f"{self.name} until {self.changed_until}"


class AgentRollup(models.Model):
    """One agent's time in one 15-minute interval: logged in, available, idle, on contacts, after-contact.

    ``on_contact_seconds`` is wall-clock time with at least one contact (from its answer to its
    wrap-up): two chats at once count once, so occupancy never passes 100 %.
    ``logged_in_contact_seconds`` is the part of it while the agent was logged in (occupancy and
    utilisation count only that: without presence recorded they have no figure, not 100 %).
    ``idle_seconds`` is available time with no contact. ``handled`` counts the contacts the agent answered in the
    interval. ``team_id`` is the agent's first team (the lowest id) when the row was written.
    """

    interval_start = models.DateTimeField()
    agent_id = models.BigIntegerField()
    team_id = models.BigIntegerField(null=True)
    logged_in_seconds = models.FloatField(default=0)
    available_seconds = models.FloatField(default=0)
    idle_seconds = models.FloatField(default=0)
    on_contact_seconds = models.FloatField(default=0)
    logged_in_contact_seconds = models.FloatField(default=0)
    after_contact_seconds = models.FloatField(default=0)
    away_seconds = models.FloatField(default=0)
    handled = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["interval_start", "agent_id"], name="agentrollup_once")]
        indexes = [models.Index(fields=["team_id", "interval_start"], name="agentrollup_team")]

    def __str__(self) -> str:
        return f"{self.interval_start:%Y-%m-%d %H:%M} agent {self.agent_id}"


class CaseRollup(models.Model):
    """Cases of one 15-minute interval, team and assignee.

    ``opened`` counts in the interval a case was created, ``resolved`` in the interval it was
    resolved (or closed without a resolution); SLA compliance counts in the interval the case was
    created, once the target is decided (met, or breached). ``team_id``/``agent_id``: the case's
    team and assignee when the row was written.
    """

    interval_start = models.DateTimeField()
    team_id = models.BigIntegerField(null=True)
    agent_id = models.BigIntegerField(null=True)
    opened = models.IntegerField(default=0)
    resolved = models.IntegerField(default=0)
    first_response_decided = models.IntegerField(default=0)
    first_response_met = models.IntegerField(default=0)
    resolution_decided = models.IntegerField(default=0)
    resolution_met = models.IntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["interval_start"], name="caserollup_interval"),
            models.Index(fields=["team_id", "interval_start"], name="caserollup_team"),
        ]

    def __str__(self) -> str:
        return f"{self.interval_start:%Y-%m-%d %H:%M} cases of team {self.team_id}"
