"""What a customer holds in the organisation's legacy systems, as the CEA last saw it.

The legacy systems stay the owners (integration/ reads and writes them); records keeps a copy
so the 360 view, search and analytics do not depend on every back-end being up. A ``Holding``
is one account, product, order, balance, invoice or payment arrangement; ``SourceRecord`` ties a
customer to their record in a source system (a customer number in the customer master), so a
sync run finds the same customer again instead of making a second one.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cea.common.models import TimeStampedModel


class HoldingKind(models.TextChoices):
    ACCOUNT = "account", _("Account")
    PRODUCT = "product", _("Product")
    ORDER = "order", _("Order")
    BALANCE = "balance", _("Balance")
    INVOICE = "invoice", _("Invoice")
    PAYMENT_ARRANGEMENT = "payment_arrangement", _("Payment arrangement")
    SHIPMENT = "shipment", _("Shipment")


class SourceRecord(TimeStampedModel):
    """A customer's record in a source system: ``(system, external_id)`` names one customer only.

    ``checksum`` is a digest of the fields last loaded from it: a sync that reads the same record
    again can say "unchanged" without writing.
    """

    customer = models.ForeignKey("records.Customer", on_delete=models.CASCADE, related_name="source_records")
    system = models.SlugField(max_length=60)
    external_id = models.CharField(max_length=120)
    checksum = models.CharField(max_length=64, blank=True)
    seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["system", "external_id"]
        constraints = [
            models.UniqueConstraint(fields=["system", "external_id"], name="sourcerecord_once"),
        ]
        indexes = [models.Index(fields=["customer", "system"], name="sourcerecord_customer")]

    def __str__(self) -> str:
        return f"{self.system}:{self.external_id}"


class Holding(TimeStampedModel):
    """One thing a customer holds in a source system; ``(system, kind, external_id)`` is unique."""

    customer = models.ForeignKey("records.Customer", on_delete=models.CASCADE, related_name="holdings")
    system = models.SlugField(max_length=60)
    kind = models.CharField(max_length=30, choices=HoldingKind.choices)
    external_id = models.CharField(max_length=120)
    name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=40, blank=True)
    amount = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    data = models.JSONField(default=dict, blank=True)
    checksum = models.CharField(max_length=64, blank=True)
    as_of = models.DateTimeField(null=True, blank=True, help_text="When the source system last said so")

    class Meta:
        ordering = ["customer", "kind", "external_id"]
        constraints = [
            models.UniqueConstraint(fields=["system", "kind", "external_id"], name="holding_once"),
        ]
        indexes = [models.Index(fields=["customer", "kind"], name="holding_customer_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.external_id} ({self.system})"
