from __future__ import annotations

import pghistory
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from cea.common.channels import Channel, Direction
from cea.common.models import TimeStampedModel


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Interaction(TimeStampedModel):
    """The record of one finished conversation on any channel.

    ``transcript`` is a list of messages ``{"at", "author", "author_name", "body"}``;
    ``context_snapshot`` is the context that enriched the conversation when it ended.
    ``(channel, external_id)`` is unique when an external id is given, so that
    recording the same conversation twice is refused.
    """

    customer = models.ForeignKey(
        "records.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="interactions"
    )
    channel = models.CharField(max_length=20, choices=Channel.choices)
    direction = models.CharField(max_length=10, choices=Direction.choices, default=Direction.INBOUND)
    external_id = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField()
    queue = models.CharField(max_length=100, blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="interactions"
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="interactions"
    )
    transcript = models.JSONField(default=list, blank=True, encoder=DjangoJSONEncoder)
    wrap_up_code = models.CharField(max_length=50, blank=True)
    disposition = models.CharField(max_length=50, blank=True)
    wrap_up_notes = models.TextField(blank=True)
    context_snapshot = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    sentiment = models.FloatField(null=True, blank=True, help_text="-1 (negative) … 1 (positive); set by insights.")
    sentiment_label = models.CharField(max_length=20, blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="CSAT answer, 1 (very dissatisfied) … 5; set by insights."
    )
    case = models.ForeignKey(
        "records.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="interactions"
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], condition=~models.Q(external_id=""), name="interaction_external_once"
            ),
            models.CheckConstraint(
                condition=models.Q(ended_at__gte=models.F("started_at")), name="interaction_ends_after_start"
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-started_at"], name="interaction_customer_recent"),
            models.Index(fields=["agent", "-started_at"], name="interaction_agent_recent"),
            models.Index(fields=["-started_at"], name="interaction_recent"),
            # Insights' rollups read what changed since their watermark.
            models.Index(fields=["updated_at"], name="interaction_changed"),
            # Insights' incremental agents' time reads the contacts that ended in its window.
            models.Index(fields=["ended_at"], name="interaction_ended"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def handle_seconds(self) -> float | None:
        if self.answered_at is None:
            return None
        return (self.ended_at - self.answered_at).total_seconds()
