from __future__ import annotations

import pghistory
from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from cea.common.channels import Channel
from cea.common.models import TimeStampedModel


class ValueTier(models.TextChoices):
    STANDARD = "standard", _("Standard")
    SILVER = "silver", _("Silver")
    GOLD = "gold", _("Gold")
    PLATINUM = "platinum", _("Platinum")


class CustomerStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    MERGED = "merged", _("Merged (tombstone)")
    ERASED = "erased", _("Erased (personal data anonymised)")


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Customer(TimeStampedModel):
    """A person or organisation the contact centre serves: the centre of the 360° view.

    A customer merged into another stays as a tombstone (``status=merged``) whose
    ``merged_into`` points to the survivor, so old references still resolve.
    """

    given_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    # Lower-cased "given family", kept by the services; trigram-indexed for similar-name search.
    search_name = models.CharField(max_length=201, blank=True, editable=False)
    date_of_birth = models.DateField(null=True, blank=True)

    email = models.EmailField(blank=True, help_text="Preferred contact email (normalised).")
    phone = models.CharField(max_length=20, blank=True, help_text="Preferred contact phone in E.164.")
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")

    language = models.CharField(max_length=16, default="en", help_text="BCP 47 language tag, e.g. en, fr-CA")
    preferred_channel = models.CharField(max_length=20, choices=Channel.choices, blank=True)
    preferences = models.JSONField(default=dict, blank=True)

    segment = models.CharField(max_length=50, blank=True, db_index=True)
    persona = models.CharField(max_length=50, blank=True)
    # Why insights placed the customer in ``persona`` (the rules met, in words), and when.
    persona_reasons = models.JSONField(default=list, blank=True)
    persona_assigned_at = models.DateTimeField(null=True, blank=True)
    # The customer's journey stage (awareness … advocacy, lapsed), kept by insights from the
    # journey events, and since when they are in it.
    journey_stage = models.CharField(max_length=30, blank=True, db_index=True)
    journey_stage_since = models.DateTimeField(null=True, blank=True)
    value_tier = models.CharField(max_length=20, choices=ValueTier.choices, default=ValueTier.STANDARD, db_index=True)
    custom_attributes = models.JSONField(default=dict, blank=True)
    # Written back by insights (sentiment trend, churn risk, next-best-action …).
    scores = models.JSONField(default=dict, blank=True)
    scores_updated_at = models.DateTimeField(null=True, blank=True)

    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customers",
        help_text="The servicing team: its agents and supervisors see this customer.",
    )
    status = models.CharField(max_length=10, choices=CustomerStatus.choices, default=CustomerStatus.ACTIVE)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_customers"
    )
    merged_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        indexes = [
            GinIndex(OpClass("search_name", name="gin_trgm_ops"), name="customer_search_name_trgm"),
            models.Index(Lower("email"), name="customer_email_lower"),
            models.Index(fields=["phone"], name="customer_phone"),
            models.Index(fields=["team", "status"], name="customer_team_status"),
        ]

    def __str__(self) -> str:
        return self.full_name or f"Customer {self.pk}"

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.given_name, self.family_name) if part)


class ConsentPurpose(models.TextChoices):
    SERVICE = "service", _("Service messages")
    MARKETING = "marketing", _("Marketing")
    RESEARCH = "research", _("Surveys and research")
    PROFILING = "profiling", _("Profiling and analytics")


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Consent(models.Model):
    """Whether a customer agreed to be contacted on a channel for a purpose, and when they said so."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    purpose = models.CharField(max_length=20, choices=ConsentPurpose.choices)
    granted = models.BooleanField()
    given_at = models.DateTimeField(help_text="When the customer granted or withdrew this consent.")
    source = models.CharField(max_length=100, blank=True, help_text="Where it was captured (web form, agent, import).")

    class Meta:
        ordering = ["channel", "purpose"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "channel", "purpose"], name="consent_one_per_channel_purpose")
        ]

    def __str__(self) -> str:
        return f"{self.channel}/{self.purpose}: {'granted' if self.granted else 'withdrawn'}"
