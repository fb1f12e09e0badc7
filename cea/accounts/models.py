from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

from cea.common.models import TimeStampedModel
from cea.common.roles import Role


class Team(TimeStampedModel):
    """A group of agents with a supervisor; customers and cases belong to teams."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person (agent, supervisor, admin) or a system (integration client) using CEA."""

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.AGENT, db_index=True)
    teams = models.ManyToManyField(Team, related_name="members", blank=True)

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class ApiScope(models.TextChoices):
    CUSTOMERS_READ = "customers:read", "Read customers, identities and timelines"
    CUSTOMERS_WRITE = "customers:write", "Create, update and merge customers and identities"
    CASES_READ = "cases:read", "Read cases and notes"
    CASES_WRITE = "cases:write", "Create and update cases, notes and transitions"
    INTERACTIONS_READ = "interactions:read", "Read interactions"
    INTERACTIONS_WRITE = "interactions:write", "Record interactions"
    CONVERSATIONS_READ = "conversations:read", "Read live conversations and their messages"
    CONVERSATIONS_WRITE = "conversations:write", "Send channel traffic in (app, web form, branch, IoT) and reply"
    CONTEXT_READ = "context:read", "Read hot context"
    CONTEXT_WRITE = "context:write", "Write hot context"
    VERIFICATION_WRITE = "verification:write", "Identify and verify customers in conversations (ID&V)"
    WEBHOOKS_READ = "webhooks:read", "Read webhook subscriptions and their deliveries"
    WEBHOOKS_WRITE = "webhooks:write", "Manage webhook subscriptions, redeliver and re-enable"
    INSIGHTS_READ = "insights:read", "Read KPIs, reports and real-time queue figures"


class ApiToken(TimeStampedModel):
    """A bearer token for an integration client: scoped, expiring, revocable.

    Only a SHA-256 digest of the secret is stored; the full token is shown once,
    when it is created. ``prefix`` identifies the token in lists and logs.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    digest = models.CharField(max_length=64)
    scopes = ArrayField(models.CharField(max_length=40, choices=ApiScope.choices), default=list)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()
