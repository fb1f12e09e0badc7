"""Base models shared by every app."""

from django.db import models
from django.utils import timezone


class TimeStampedModel(models.Model):
    # default=, not auto_now_add: a service that computes times from "now" (SLA due times) can
    # pass the same instant it used, and imports can keep the original creation time.
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
