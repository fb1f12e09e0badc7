"""Persona definitions (edited in the console) and the discovery runs that suggest new ones."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from cea.common.models import TimeStampedModel

PERSONA_KEY = RegexValidator(
    r"^[a-z0-9]+(-[a-z0-9]+)*$", "Use lower-case letters, digits and dashes, e.g. digital-native."
)


class PersonaDefinition(TimeStampedModel):
    """A persona and the rules that place a customer in it.

    ``rules`` is a list of conditions that must all hold (``insights.personas.rules``); the active
    definitions are tried in ``order`` (then key) and the first whose rules hold wins. A definition
    without conditions places every customer it is tried on: put it last, as a catch-all.
    """

    key = models.SlugField(max_length=50, unique=True, validators=[PERSONA_KEY], help_text="Written on customers.")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    needs = models.TextField(blank=True, help_text="What customers of this persona need from us.")
    preferences = models.TextField(blank=True, help_text="Channels, times and tone they prefer.")
    behaviours = models.TextField(blank=True, help_text="How they behave: contacts, holdings, moments.")
    order = models.PositiveIntegerField(default=100, help_text="Tried in this order; the first match wins.")
    rules = models.JSONField(
        default=list, blank=True, help_text="Conditions that must all hold (see docs/journeys.md)."
    )
    is_active = models.BooleanField(default=True)
    adopted_from = models.ForeignKey(
        "insights.DiscoveredCluster", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["order", "key"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"


class DiscoveryRun(models.Model):
    """One clustering of the customers' behavioural features: how, on what, with which result."""

    created_at = models.DateTimeField(auto_now_add=True)
    customers = models.PositiveIntegerField()
    features = models.JSONField(help_text="The feature names, in the centroids' order.")
    population_mean = models.JSONField()
    population_std = models.JSONField()
    k = models.PositiveSmallIntegerField()
    silhouette = models.FloatField(help_text="Mean silhouette of the chosen k (sampled when large).")
    silhouettes = models.JSONField(help_text="{k: silhouette} for each k tried.")
    random_state = models.IntegerField()

    class Meta:
        ordering = ["-created_at", "-id"]
        get_latest_by = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Discovery {self.created_at:%Y-%m-%d %H:%M} (k={self.k})"


class ClusterStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ADOPTED = "adopted", _("Adopted")
    DISMISSED = "dismissed", _("Dismissed")


class DiscoveredCluster(models.Model):
    """A cluster of a run: its size, centroid and what sets it apart (features in std units from the mean)."""

    run = models.ForeignKey(DiscoveryRun, on_delete=models.CASCADE, related_name="clusters")
    number = models.PositiveSmallIntegerField()
    size = models.PositiveIntegerField()
    centroid = models.JSONField(help_text="{feature: mean value of the cluster}")
    distinguishing = models.JSONField(help_text="[{feature, z, cluster_mean, population_mean}], furthest first.")
    summary = models.TextField(help_text="What sets it apart, in words.")
    status = models.CharField(max_length=10, choices=ClusterStatus.choices, default=ClusterStatus.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    persona = models.ForeignKey(PersonaDefinition, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["run", "-size", "number"]
        constraints = [models.UniqueConstraint(fields=["run", "number"], name="cluster_number_once_per_run")]

    def __str__(self) -> str:
        return f"Cluster {self.number} of {self.run_id} ({self.size} customers)"
