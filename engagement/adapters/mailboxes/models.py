"""IMAP mailboxes CEA reads: where they are, what is done with a message once kept, how far reading got."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from cea.common.models import TimeStampedModel


class Security(models.TextChoices):
    """How the IMAP connection is protected."""

    SSL = "ssl", _("TLS from the start (IMAPS, port 993)")
    STARTTLS = "starttls", _("STARTTLS (port 143)")
    NONE = "none", _("None (a server on this machine only)")


class AfterFetch(models.TextChoices):
    """What happens to a message in the mailbox once CEA has kept it."""

    SEEN = "seen", _("Mark it as read")
    MOVE = "move", _("Move it to another folder")
    DELETE = "delete", _("Delete it")


class Mailbox(TimeStampedModel):
    """An IMAP folder whose new messages become email conversations.

    The password is never stored here: it comes from ``CEA_SOURCE_<NAME>_PASSWORD`` (or
    ``..._PASSWORD_FILE``; ``engagement.adapters.credentials``). ``uid_validity`` and ``last_uid``
    say how far reading got: only UIDs above ``last_uid`` are read while the server's
    UIDVALIDITY stays the same; when it changes, the folder is read again from the start (the
    email adapter keeps a message once per ``Message-ID``, so nothing is kept twice).
    """

    name = models.SlugField(
        max_length=60, unique=True, help_text="Names the password's variable: CEA_SOURCE_<NAME>_PASSWORD"
    )
    host = models.CharField(max_length=255)
    port = models.PositiveIntegerField(default=993)
    security = models.CharField(max_length=10, choices=Security.choices, default=Security.SSL)
    username = models.CharField(max_length=255)
    folder = models.CharField(max_length=200, default="INBOX")
    after_fetch = models.CharField(max_length=10, choices=AfterFetch.choices, default=AfterFetch.SEEN)
    move_to = models.CharField(max_length=200, blank=True, help_text="The folder kept messages move to")
    queue = models.CharField(max_length=100, blank=True, help_text="The agents' queue; empty: the Email queue")
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    is_active = models.BooleanField(default=True)
    # How far reading got, and how the last attempt went (written by engagement.adapters.mailboxes.imap).
    uid_validity = models.BigIntegerField(null=True, blank=True, editable=False)
    last_uid = models.BigIntegerField(default=0, editable=False)
    last_fetch_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    failures = models.PositiveIntegerField(default=0, editable=False, help_text="Failed attempts in a row")
    retry_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "mailboxes"

    def __str__(self) -> str:
        return f"{self.name} ({self.username}@{self.host}/{self.folder})"

    def clean(self) -> None:
        if self.after_fetch == AfterFetch.MOVE and not self.move_to.strip():
            raise ValidationError({"move_to": "Name the folder kept messages move to."})
        if self.after_fetch == AfterFetch.MOVE and self.move_to.strip() == self.folder.strip():
            raise ValidationError({"move_to": "Choose a folder other than the one read."})
