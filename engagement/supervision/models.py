from __future__ import annotations

import pghistory
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SupervisionKind(models.TextChoices):
    MONITOR = "monitor", _("Monitored silently")
    WHISPER = "whisper", _("Whispered to the agent")
    BARGE_IN = "barge_in", _("Barged in")
    PRESENCE = "presence", _("Changed an agent's presence")
    MOVE = "move", _("Moved waiting work to another queue")
    REQUEUE = "requeue", _("Put work back to waiting")


@pghistory.track(pghistory.InsertEvent())
class SupervisorAction(models.Model):
    """One thing a supervisor did to live work: the audit of the supervisor's real-time tools.

    Written in the same transaction as the change it records, inside ``audited(supervisor)`` (so the
    rows it changes carry the supervisor too). A monitor changes nothing else: this row is its only
    trace. A barge-in makes the supervisor a participant of the conversation (they may then write to
    the customer) until it ends.
    """

    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="supervisor_actions"
    )
    kind = models.CharField(max_length=20, choices=SupervisionKind.choices)
    conversation = models.ForeignKey(
        "engagement.Conversation", null=True, blank=True, on_delete=models.SET_NULL, related_name="supervisor_actions"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    work_item = models.ForeignKey(
        "engagement.WorkItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.ForeignKey(
        "engagement.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What was changed: a presence and its reason, the queues of a move, the supervisor's note …
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["conversation", "kind"], name="supervisoraction_conversation"),
            models.Index(fields=["supervisor", "-at"], name="supervisoraction_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.supervisor} {self.kind} at {self.at:%H:%M:%S}"
