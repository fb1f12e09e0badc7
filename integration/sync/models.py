"""Sync runs, the items that failed (a dead-letter list an admin can replay), and files loaded once."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Succeeded with failed items"
    FAILED = "failed", "Failed"


class RunTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    ON_DEMAND = "on_demand", "On demand"
    REPLAY = "replay", "Replay of failed items"


class SyncRun(models.Model):
    """One sync of one connector, with its counts, watermarks and errors."""

    connector = models.ForeignKey("integration.Connector", on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.RUNNING)
    trigger = models.CharField(max_length=20, choices=RunTrigger.choices, default=RunTrigger.SCHEDULE)
    task_id = models.CharField(max_length=100, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    watermark_from = models.CharField(max_length=200, blank=True)
    watermark_to = models.CharField(max_length=200, blank=True)
    read = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["connector", "-started_at"], name="syncrun_connector_recent")]

    def __str__(self) -> str:
        return f"{self.connector} run {self.pk} ({self.status})"

    @property
    def duration_seconds(self) -> float | None:
        return (self.finished_at - self.started_at).total_seconds() if self.finished_at else None


class SyncFailure(models.Model):
    """An item a sync could not load: the dead-letter list. Replaying it loads it again."""

    connector = models.ForeignKey("integration.Connector", on_delete=models.CASCADE, related_name="failures")
    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="failures")
    record_key = models.CharField(max_length=200, blank=True, help_text="The item's id in the source, or a line")
    payload = models.JSONField(default=dict, blank=True)
    reason = models.TextField()
    permanent = models.BooleanField(default=True)
    attempts = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by_run = models.ForeignKey(
        SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="resolved_failures"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["connector", "created_at"], name="syncfailure_open", condition=models.Q(resolved_at=None)
            )
        ]

    def __str__(self) -> str:
        return f"{self.connector}: {self.record_key} ({self.reason[:40]})"


class ProcessedFile(models.Model):
    """A file from a drop folder, by checksum: the same file dropped twice is loaded once."""

    connector = models.ForeignKey("integration.Connector", on_delete=models.CASCADE, related_name="files")
    filename = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField(default=0)
    lines = models.PositiveIntegerField(default=0)
    loaded = models.PositiveIntegerField(default=0)
    bad_lines = models.PositiveIntegerField(default=0)
    run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="files")
    completed_at = models.DateTimeField(null=True, blank=True, help_text="Empty while the file is being loaded")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["connector", "sha256"], name="processedfile_once")]

    def __str__(self) -> str:
        return self.filename
