from __future__ import annotations

import secrets

from django.contrib.postgres.fields import ArrayField
from django.db import models

from cea.common.models import TimeStampedModel


def new_site_key() -> str:
    return f"site_{secrets.token_urlsafe(16)}"


class SiteKey(TimeStampedModel):
    """A website allowed to embed the chat widget: the key in its script tag and the origins it may use."""

    name = models.CharField(max_length=100)
    key = models.CharField(max_length=40, unique=True, default=new_site_key)
    allowed_origins = ArrayField(
        models.CharField(max_length=200), default=list, help_text="e.g. https://www.example.com (scheme and host)"
    )
    queue = models.CharField(max_length=100, blank=True, help_text="Where chats from this site go")
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    greeting = models.CharField(max_length=300, default="Hello! How can we help today?")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
