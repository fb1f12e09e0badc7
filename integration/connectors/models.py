"""A connector: how the CEA reaches one legacy system, configured in the console.

Secrets are never stored here: ``credential_env`` names an environment variable and
``credential_file`` a file holding the secret (an API key, an OAuth2 client secret, a database
password); the connector reads it when it connects. ``settings`` holds the kind's options (base
URL, WSDL, connection URL without password, drop folder and layout, page size …) and
``mappings`` how the system's fields become records' fields.
"""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models

from cea.common.models import TimeStampedModel


class ConnectorKind(models.TextChoices):
    REST = "rest", "REST/JSON over HTTP"
    SOAP = "soap", "SOAP/XML (WSDL)"
    SQL = "sql", "SQL database"
    FLATFILE = "flatfile", "Flat files (CSV, fixed-width)"


class Connector(TimeStampedModel):
    name = models.SlugField(max_length=60, unique=True)
    label = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=20, choices=ConnectorKind.choices)
    system = models.SlugField(
        max_length=60, help_text="The legacy system's name in records (SourceRecord.system, Holding.system)"
    )
    is_active = models.BooleanField(default=True)
    settings = models.JSONField(default=dict, blank=True)
    mappings = models.JSONField(default=dict, blank=True)
    credential_env = models.CharField(
        max_length=100, blank=True, help_text="Environment variable holding the secret (never the secret itself)"
    )
    credential_file = models.CharField(max_length=500, blank=True, help_text="File holding the secret")
    timeout_seconds = models.FloatField(default=3.0, validators=[MinValueValidator(0.1)])
    cache_seconds = models.PositiveIntegerField(default=60, help_text="How long aggregated answers are cached")
    # Incremental sync: where the last successful run stopped (a timestamp, a page cursor …).
    watermark = models.CharField(max_length=200, blank=True)
    watermark_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.label or self.name
