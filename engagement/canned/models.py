"""Canned responses and macros: text an agent inserts into a reply, with variables filled in.

A row is either shared (``team`` set: managed in the console by the team's supervisors and by
administrators, used by the team's agents) or personal (``owner`` set: an agent's own, managed
on the desk and through the API). A macro is a canned response that also does something modest
and visible when applied: it adds an internal note to the conversation and/or preselects a
wrap-up code in the desk's wrap-up form (the agent still finishes the wrap-up).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cea.common.models import TimeStampedModel

SHORTCUT_HELP = _("Letters, digits, - and _; typed as /shortcut in the desk's reply box")


class CannedResponse(TimeStampedModel):
    title = models.CharField(max_length=120)
    shortcut = models.SlugField(max_length=40, help_text=SHORTCUT_HELP)
    body = models.TextField(
        max_length=5000,
        help_text="The reply's text; variables such as {{customer.first_name}}, {{agent.first_name}}, "
        "{{conversation.id}} or {{context.<key>}} are filled in when it is used",
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="canned_responses"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="canned_responses"
    )
    # What a macro does besides inserting its text (both optional).
    note = models.TextField(
        max_length=2000, blank=True, help_text="An internal note added to the conversation (variables allowed)"
    )
    wrap_up_code = models.ForeignKey(
        "engagement.WrapUpCode",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Preselected in the wrap-up form",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["shortcut", "id"]
        constraints = [
            models.CheckConstraint(
                name="canned_shared_xor_personal",
                condition=models.Q(team__isnull=False, owner__isnull=True)
                | models.Q(team__isnull=True, owner__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["team", "shortcut"], condition=models.Q(team__isnull=False), name="canned_team_shortcut"
            ),
            models.UniqueConstraint(
                fields=["owner", "shortcut"], condition=models.Q(owner__isnull=False), name="canned_owner_shortcut"
            ),
        ]

    def __str__(self) -> str:
        return f"/{self.shortcut} · {self.title}"

    @property
    def is_macro(self) -> bool:
        return bool(self.note) or self.wrap_up_code_id is not None

    @property
    def is_personal(self) -> bool:
        return self.owner_id is not None
