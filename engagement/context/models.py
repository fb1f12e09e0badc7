from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


class ContextScope(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    CONVERSATION = "conversation", _("Conversation")


class ContextChange(models.Model):
    """The durable log of every change to a hot context in Redis.

    Redis holds the live value; this append-only table holds what happened, so that a
    Redis restart loses nothing: a context missing from Redis is rebuilt from here.
    """

    scope = models.CharField(max_length=20, choices=ContextScope.choices)
    context_id = models.CharField(max_length=64)
    customer = models.ForeignKey("records.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    version = models.PositiveIntegerField(help_text="The context's version after this change")
    # {key: {"value": …, "expires_at": iso or null}} for keys set; keys removed have value null and "removed": true
    changes = models.JSONField(encoder=DjangoJSONEncoder)
    source = models.CharField(max_length=50, help_text="Which system or adapter wrote it")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["scope", "context_id", "id"], name="contextchange_context_order")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.context_id} v{self.version}"
