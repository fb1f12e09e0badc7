from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils.translation import gettext_lazy as _

from cea.common.models import TimeStampedModel


class Flow(TimeStampedModel):
    """A self-service flow configured by a supervisor: an intent and the steps that serve it.

    The same flow runs on web chat (text) and on the voice IVR (DTMF digits or speech text).
    """

    name = models.CharField(max_length=100, unique=True)
    intent = models.SlugField(max_length=60, unique=True, help_text="e.g. order_status, balance, opening_hours")
    description = models.TextField(blank=True)
    trigger_phrases = models.TextField(
        blank=True, help_text="One phrase per line; a customer's message containing one starts this flow"
    )
    menu_key = models.CharField(max_length=2, blank=True, help_text="The key that picks this flow in the main menu")
    is_active = models.BooleanField(default=True)
    queue = models.CharField(max_length=100, blank=True, help_text="Where a hand-over goes")

    class Meta:
        ordering = ["menu_key", "name"]

    def __str__(self) -> str:
        return self.name


class StepKind(models.TextChoices):
    SAY = "say", _("Say")
    ASK = "ask", _("Ask and remember the answer")
    MENU = "menu", _("Menu (branch on the answer)")
    LOOKUP = "lookup", _("Look up in a back-end")
    KNOWLEDGE = "knowledge", _("Answer from the knowledge base")
    BRANCH = "branch", _("Branch on a remembered value")
    HANDOVER = "handover", _("Hand over to an agent")
    END = "end", _("End (solved)")


class FlowStep(models.Model):
    """One step of a flow. ``next_step`` is taken after it unless the step branches.

    ``options`` depends on the kind: for a menu, ``{"choices": [{"key": "1", "label": "…",
    "next": "step-key"}]}``; for a branch, ``{"variable": "…", "cases": {"value": "step-key"},
    "default": "step-key"}``; for a look-up, ``{"lookup": "order_status", "inputs": {"order":
    "order_number"}}``; for ask, ``{"variable": "order_number", "pattern": "^[0-9]{6}$"}``.
    """

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="steps")
    key = models.SlugField(max_length=60)
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=12, choices=StepKind.choices)
    prompt = models.TextField(blank=True, help_text="What is said; {variables} are filled in")
    options = models.JSONField(default=dict, blank=True)
    next_step = models.SlugField(max_length=60, blank=True)

    class Meta:
        ordering = ["flow", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["flow", "key"], name="flowstep_key_once_per_flow")]

    def __str__(self) -> str:
        return f"{self.flow.name}: {self.key} ({self.kind})"


class KnowledgeArticle(TimeStampedModel):
    """An answer self-service and agents can give, found by PostgreSQL full-text search."""

    title = models.CharField(max_length=200)
    body = models.TextField()
    keywords = models.CharField(max_length=300, blank=True)
    language = models.CharField(max_length=20, default="english", help_text="PostgreSQL text search configuration")
    is_published = models.BooleanField(default=True)
    # Kept by the service that saves an article (title weighted above keywords above body).
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["title"]
        indexes = [GinIndex(fields=["search_vector"], name="knowledge_search")]

    def __str__(self) -> str:
        return self.title
