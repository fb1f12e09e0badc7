from __future__ import annotations

import pghistory
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cea.common.channels import Channel, Direction
from cea.common.models import TimeStampedModel


class ConversationStatus(models.TextChoices):
    SELF_SERVICE = "self_service", _("In self-service")
    QUEUED = "queued", _("Waiting for an agent")
    ACTIVE = "active", _("With an agent")
    ENDED = "ended", _("Ended")


class VerificationLevel(models.TextChoices):
    ANONYMOUS = "anonymous", _("Anonymous")
    IDENTIFIED = "identified", _("Identified")
    VERIFIED = "verified", _("Verified")


LEVEL_ORDER = [VerificationLevel.ANONYMOUS, VerificationLevel.IDENTIFIED, VerificationLevel.VERIFIED]


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Conversation(TimeStampedModel):
    """A live conversation on one channel, from first contact until it ends.

    When it ends it is recorded in records as an Interaction (``interaction``) with its
    transcript and a snapshot of its context. ``(channel, external_id)`` is the channel's own
    id for the thread (a call id, a chat session, an email thread's first Message-ID …).
    """

    channel = models.CharField(max_length=20, choices=Channel.choices)
    direction = models.CharField(max_length=10, choices=Direction.choices, default=Direction.INBOUND)
    external_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        max_length=20, choices=ConversationStatus.choices, default=ConversationStatus.SELF_SERVICE, db_index=True
    )
    customer = models.ForeignKey(
        "records.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="conversations"
    )
    # The channel identifier the contact came from (caller number, email address, handle, device id).
    contact_kind = models.CharField(max_length=20, blank=True)
    contact_value = models.CharField(max_length=255, blank=True)
    visitor = models.CharField(max_length=64, blank=True, help_text="Anonymous web chat visitor token")
    verification_level = models.CharField(
        max_length=12, choices=VerificationLevel.choices, default=VerificationLevel.ANONYMOUS
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    queue = models.CharField(max_length=100, blank=True)
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    subject = models.CharField(max_length=300, blank=True)
    intent = models.CharField(max_length=100, blank=True)
    contained = models.BooleanField(default=False, help_text="Solved in self-service, without an agent")
    escalated_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    interaction = models.OneToOneField(
        "records.Interaction", null=True, blank=True, on_delete=models.SET_NULL, related_name="conversation"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=~models.Q(external_id=""),
                name="conversation_external_once",
            )
        ]
        indexes = [
            models.Index(fields=["status", "queue"], name="conversation_status_queue"),
            models.Index(fields=["customer", "-created_at"], name="conversation_customer_recent"),
            models.Index(fields=["visitor"], name="conversation_visitor", condition=~models.Q(visitor="")),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} conversation {self.pk}"


class AuthorKind(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    AGENT = "agent", _("Agent")
    BOT = "bot", _("Self-service")
    SYSTEM = "system", _("System")


class SentimentStatus(models.TextChoices):
    """Whether a message was scored for sentiment: only customer messages are, and only in a scored
    language (English: VADER's lexicon is English); "" for messages that are not the customer's or
    came before scoring."""

    NONE = "", _("Not a customer message")
    SCORED = "scored", _("Scored")
    NOT_SCORED = "not_scored", _("Not scored")


class Message(models.Model):
    """One message or event of a conversation, in order of ``id``.

    ``(channel, external_id)`` is unique when given: the same webhook delivered many times
    makes one message. Clients that reconnect ask for the messages after the last id they saw.
    """

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    external_id = models.CharField(max_length=255, blank=True)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    author_kind = models.CharField(max_length=10, choices=AuthorKind.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    author_name = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    # Channel detail: a call event and its links, email headers, a device's fault code …
    payload = models.JSONField(default=dict, blank=True)
    # Seen only by the agents and supervisors (a supervisor's whisper): never sent to the customer.
    internal = models.BooleanField(default=False)
    sent_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    # A customer message's sentiment, written by insights' scorer (engagement.hooks):
    # VADER's compound score -1 … 1 when scored; not scored (a language VADER cannot read) says why.
    sentiment = models.FloatField(null=True, blank=True)
    sentiment_status = models.CharField(max_length=12, choices=SentimentStatus.choices, blank=True, default="")
    sentiment_language = models.CharField(max_length=16, blank=True, default="")
    sentiment_note = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], condition=~models.Q(external_id=""), name="message_external_once"
            )
        ]
        indexes = [
            models.Index(fields=["conversation", "id"], name="message_conversation_order"),
            # insights' hourly backfill looks for customer messages never scored: few, once all are.
            models.Index(
                fields=["id"],
                name="message_customer_unscored",
                condition=models.Q(author_kind="customer", sentiment_status=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.author_kind}: {self.body[:40]}"


class Attachment(models.Model):
    """A file that came with a message (an email attachment, a chat upload, an MMS, an agent's file),
    kept in the media storage.

    An agent's file is uploaded before its reply is sent: until then it is a draft (no ``message``)
    of ``conversation`` by ``uploaded_by``, which the reply binds (``conversation_reply``) and the
    beat removes after a day (``engagement/conversations/files.py``).
    """

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments", null=True, blank=True)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="draft_attachments", null=True, blank=True
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    file = models.FileField(upload_to="attachments/%Y/%m/")

    class Meta:
        constraints = [
            # A file is a message's, or a draft of a conversation's: never neither.
            models.CheckConstraint(
                condition=models.Q(message__isnull=False) | models.Q(conversation__isnull=False),
                name="attachment_of_a_message_or_a_draft",
            ),
        ]
        indexes = [
            # The beat's sweep of day-old drafts reads only drafts, by age.
            models.Index(fields=["created_at"], condition=models.Q(message__isnull=True), name="attachment_draft_age"),
        ]

    def __str__(self) -> str:
        return self.filename


# --- A web chat's read receipts (engagement/conversations/receipts.py) ---------------------------


class ChatReader(models.TextChoices):
    CUSTOMER = "customer", _("The customer")
    AGENT = "agent", _("The agent")


class ChatReadMark(models.Model):
    """How far one side of a chat has read: the last message id they saw, and when (read receipts).

    One row per conversation and side. It only moves forward (``chat_read_mark``): a late or
    repeated receipt for an earlier message changes nothing.
    """

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="read_marks")
    reader = models.CharField(max_length=10, choices=ChatReader.choices)
    up_to = models.BigIntegerField(help_text="The id of the last message this side has read")
    read_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["conversation", "reader"], name="chat_read_mark_once")]

    def __str__(self) -> str:
        return f"{self.reader} read conversation {self.conversation_id} up to {self.up_to}"
