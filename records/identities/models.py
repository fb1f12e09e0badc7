from __future__ import annotations

import pghistory
from django.db import models
from django.utils.translation import gettext_lazy as _

from cea.common.models import TimeStampedModel


class IdentityKind(models.TextChoices):
    PHONE = "phone", _("Phone (E.164)")
    EMAIL = "email", _("Email")
    SOCIAL = "social", _("Social handle")
    DEVICE = "device", _("Device id")
    ACCOUNT = "account", _("Account number")
    NATIONAL_ID = "national_id", _("National id (hashed)")


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Identity(TimeStampedModel):
    """One channel identifier of a customer; an identifier belongs to one customer only.

    ``value`` is the normalised identifier (E.164 phone, lower-cased email,
    ``platform:handle``); for national ids it is an HMAC digest and ``label``
    shows only the last characters.
    """

    customer = models.ForeignKey("records.Customer", on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=20, choices=IdentityKind.choices)
    value = models.CharField(max_length=255)
    label = models.CharField(max_length=255, help_text="What may be shown on screen.")
    is_primary = models.BooleanField(default=False)
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "label"]
        verbose_name_plural = "identities"
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="identity_unique_per_kind")]
        indexes = [models.Index(fields=["customer", "kind"], name="identity_customer_kind")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.label}"
