"""Who read which customer: the access log (append-only, written by ``records.audit.access``)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessSurface(models.TextChoices):
    CUSTOMER_360_PAGE = "customer_360_page", _("Customer 360 page")
    CUSTOMER_API = "customer_api", _("Customer API")
    DESK_PANEL = "desk_panel", _("Desk customer panel")
    IDENTIFY = "identify", _("Identify")
    LOOKUP = "lookup", _("Look-up")
    AGGREGATE = "aggregate", _("Back-end aggregation")
    EXPORT = "export", _("Export")
    ERASURE = "erasure", _("Erasure")
    ACCESS_EXPORT = "access_export", _("Right-of-access export")


class CustomerAccess(models.Model):
    """One read of one customer by one user (or integration client) on one surface.

    Append-only and compact: no foreign-key constraints (a row must outlive the user and the
    customer it names, and inserts must not lock them), ids and short text only. Indexed for
    the two questions asked of it — who read this customer, what did this user read — both by
    time; ``at`` leads no index of its own, so the table can later be range-partitioned on it.
    """

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(db_default=models.functions.Now())
    user_id = models.IntegerField(null=True, help_text="Who read; null for the system")
    username = models.CharField(max_length=150, blank=True)
    customer_id = models.BigIntegerField()
    customer_team_id = models.IntegerField(null=True, help_text="The customer's team when it was read")
    outside_teams = models.BooleanField(default=False, help_text="The customer was not in any of the reader's teams")
    surface = models.CharField(max_length=30)
    detail = models.CharField(max_length=200, blank=True)
    url = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["customer_id", "-at"], name="customer_access_by_customer"),
            models.Index(fields=["user_id", "-at"], name="customer_access_by_user"),
        ]

    def __str__(self) -> str:
        return f"{self.username or 'system'} read customer {self.customer_id} ({self.surface})"
