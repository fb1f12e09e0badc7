"""The one funnel: every channel adapter opens conversations and adds messages through here.

Ingest is idempotent on ``(channel, external_id)`` for conversations and for messages: the
same webhook delivered a hundred times makes one row. When a conversation ends it is recorded
in records as an Interaction with its transcript and a snapshot of its context.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation

from cea.accounts.models import Team, User
from cea.accounts.types import Actor, AnyUser
from cea.common.channels import Channel, Direction
from cea.common.errors import Conflict, ValidationFailed
from cea.common.live import push_on_commit, supervision_hint_on_commit
from cea.common.pii import redact_text
from cea.common.queries import one_or_none
from cea.common.redact import redact_cards_value
from engagement.context.models import ContextScope
from engagement.context.services import context_read, context_write_on_commit
from engagement.conversations.models import (
    LEVEL_ORDER,
    AuthorKind,
    Conversation,
    ConversationStatus,
    Message,
    SentimentStatus,
    VerificationLevel,
)
from engagement.conversations.selectors import identify_contact
from engagement.hooks import (
    MessageScore,
    conversation_closed_notify,
    customer_message_added_on_commit,
    interaction_recorded_on_commit,
    message_score,
)
from records.audit.context import audited
from records.customers.models import Customer
from records.interactions.models import Interaction
from records.interactions.services import interaction_record
from records.journey.services import journey_record


def conversation_group(*, conversation_id: int) -> str:
    """The Channels group of everyone following a conversation (the visitor's widget, the agent)."""
    return f"conversation.{conversation_id}"


@transaction.atomic
def conversation_start(
    *,
    channel: str,
    external_id: str = "",
    direction: str = Direction.INBOUND,
    contact_kind: str = "",
    contact_value: str = "",
    customer: Customer | None = None,
    visitor: str = "",
    queue: str = "",
    team: Team | None = None,
    subject: str = "",
    source: str = "engagement",
    context: dict[str, Any] | None = None,
    visible_to: AnyUser | None = None,
) -> tuple[Conversation, bool]:
    """Open a conversation, or return the one already open for ``(channel, external_id)``.

    The contact is identified through records when its identifier belongs to one customer
    (level ``identified``) — with ``visible_to`` (a user opening it, such as branch staff),
    only a customer that user may see. ``context`` seeds the conversation's context. Returns
    ``(conversation, created)``.
    """
    if channel not in Channel.values:
        raise ValidationFailed(f"Unknown channel {channel!r}.", fields={"channel": "Unknown channel."})
    subject = redact_text(subject)  # the customer's words (an email's subject, a visit's reason)
    if external_id:
        existing = one_or_none(Conversation.objects.filter(channel=channel, external_id=external_id))
        if existing is not None:
            return existing, False
    customer = customer or identify_contact(kind=contact_kind, value=contact_value, visible_to=visible_to)
    conversation = Conversation(
        channel=channel,
        external_id=external_id,
        direction=direction,
        contact_kind=contact_kind,
        contact_value=contact_value[:255],
        customer=customer,
        visitor=visitor,
        queue=queue,
        team=team or (customer.team if customer else None),
        subject=subject[:300],
        verification_level=VerificationLevel.IDENTIFIED if customer else VerificationLevel.ANONYMOUS,
    )
    try:
        with transaction.atomic(), audited(None, source=source):
            conversation.save()
    except IntegrityError:
        # The same thread arrived twice at once: the other request made it.
        return Conversation.objects.get(channel=channel, external_id=external_id), False
    if customer is not None:
        with translation.override(None):  # a stored summary: in the default language, whoever started it
            summary = f"{Channel(channel).label} conversation started" + (f": {subject}" if subject else "")
        journey_record(
            customer=customer,
            kind="conversation.started",
            source_system="engagement",
            channel=channel,
            summary=summary,
            payload={"conversation_id": conversation.pk, "direction": direction},
        )
    seed = {
        "channel": channel,
        "direction": direction,
        "verification_level": conversation.verification_level,
        **({"contact": {"kind": contact_kind, "value": contact_value}} if contact_kind else {}),
        **({"customer_id": customer.pk} if customer else {}),
        **(context or {}),
    }
    context_write_on_commit(
        actor=None,
        scope=ContextScope.CONVERSATION,
        context_id=conversation.pk,
        values=seed,
        customer_id=customer.pk if customer else None,
        source=source,
    )
    return conversation, True


def message_add(
    *,
    conversation: Conversation,
    direction: str,
    author_kind: str,
    body: str = "",
    external_id: str = "",
    sent_at: datetime | None = None,
    author: User | None = None,
    author_name: str = "",
    payload: dict[str, Any] | None = None,
    internal: bool = False,
) -> tuple[Message, bool]:
    """Add a message or event; returns ``(message, created)``.

    An ``internal`` message (a supervisor's whisper) is for the agents and supervisors following
    the conversation: the customer's channel never gets it.

    The same ``(channel, external_id)`` twice returns the first message, ``created=False``.
    The body and the author's name are redacted (``cea.common.pii``, the configured policy), and
    card data in the payload masked (``cea.common.redact``), before anything is kept or pushed:
    every channel's messages come through here, so a card number typed in a chat, an email or
    an SMS is never stored nor sent to a browser in clear. The payload keeps the rest as it came:
    it is the channel's addressing (the email's ``Message-ID`` and ``References``, the number an
    SMS goes ``to``), which replies and deliveries read back.
    Messages of one conversation are added one at a time (the conversation row is locked until
    commit), so their ids grow in commit order: a client that reconnects and asks for the
    messages after the last id it saw cannot miss one committed late with a smaller id.
    """
    if author_kind not in AuthorKind.values:
        raise ValidationFailed(f"Unknown author kind {author_kind!r}.", fields={"author_kind": "Unknown."})
    message = Message(
        conversation=conversation,
        channel=conversation.channel,
        external_id=external_id,
        direction=direction,
        author_kind=author_kind,
        author=author if getattr(author, "pk", None) else None,
        author_name=redact_text(author_name)[:200],
        body=redact_text(body),
        payload=redact_cards_value(payload or {}),
        internal=internal,
        sent_at=sent_at or timezone.now(),
    )
    customer_turn = author_kind == AuthorKind.CUSTOMER and not internal
    if customer_turn:
        # Scored inline, before the save, so the row and the pushed JSON carry it (the scorer is cheap).
        _apply_score(message, message_score(conversation=conversation, body=body))
    try:
        with transaction.atomic():
            return _message_store(conversation, message, customer_turn=customer_turn)
    except IntegrityError:
        # The one race the lock leaves: the same external id stored at this moment in another
        # conversation of the channel. That message stands; this one rolled back whole.
        existing = (
            one_or_none(Message.objects.filter(channel=conversation.channel, external_id=external_id))
            if external_id
            else None
        )
        if existing is None:
            raise
        return existing, False


def _message_store(conversation: Conversation, message: Message, *, customer_turn: bool) -> tuple[Message, bool]:
    # One statement locks the conversation and looks for a message with the same external id, so a
    # message is stored in four round trips (BEGIN, this, INSERT, COMMIT). Under the lock, a
    # resent message of this conversation cannot be inserted twice. It also reads the id of the
    # conversation's latest message, which the push names (``previous``): a desk that does not show
    # it missed a push, and fetches what it missed at once.
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_AND_LOOK_SQL, [message.external_id, conversation.channel, conversation.pk])
        row = cursor.fetchone()
    if row is None:
        raise Conversation.DoesNotExist(f"Conversation {conversation.pk} does not exist.")
    status, existing, previous = row
    if existing is not None:
        return Message.objects.get(pk=existing), False
    if status == ConversationStatus.ENDED:
        raise Conflict(f"Conversation {conversation.pk} has ended.", code="conversation_ended")
    message.save(force_insert=True)
    # The push first: the agent's desk shows the message without waiting for the hooks (sentiment).
    # The external id travels beside the message, not in it: the web chat's consumer tells the
    # visitor's own messages by it (their client id), and no browser gets it.
    push_on_commit(
        conversation_group(conversation_id=conversation.pk),
        {
            "type": "conversation.message",
            "message": message_json(message=message),
            "external_id": message.external_id,
            "previous": previous,
        },
    )
    if customer_turn:
        customer_message_added_on_commit(message_id=message.pk)
    return message, True


# ``_message_store``'s statement (parameters: the external id, the channel, the conversation), written
# out rather than built with the ORM: building and compiling its two subqueries took about 1.7 ms of
# CPU a message, more than storing the message did (docs/performance.md, "The chat message's lock
# statement"). An empty external id looks for nothing (the unique constraint leaves those out too).
_LOCK_AND_LOOK_SQL = """
SELECT c.status,
       (SELECT m.id FROM engagement_message m
        WHERE m.external_id <> '' AND m.external_id = %s AND m.channel = %s LIMIT 1),
       (SELECT m.id FROM engagement_message m WHERE m.conversation_id = c.id ORDER BY m.id DESC LIMIT 1)
FROM engagement_conversation c
WHERE c.id = %s
FOR UPDATE OF c
"""


def _apply_score(message: Message, score: MessageScore | None) -> None:
    if score is None:
        return
    if score.scored and score.score is not None and -1.0 <= score.score <= 1.0:
        message.sentiment = round(score.score, 4)
        message.sentiment_status = SentimentStatus.SCORED
        message.sentiment_note = ""
    else:
        message.sentiment = None
        message.sentiment_status = SentimentStatus.NOT_SCORED
        message.sentiment_note = score.reason[:100]
    message.sentiment_language = score.language[:16]


@transaction.atomic
def message_set_sentiment(*, message: Message, score: MessageScore) -> Message:
    """Write a customer message's sentiment (insights' backfill of messages added before scoring).

    Only customer messages carry one (``ValidationFailed`` otherwise); a score is -1 … 1.
    """
    if message.author_kind != AuthorKind.CUSTOMER:
        raise ValidationFailed("Only customer messages are scored.", fields={"message": "Not a customer message."})
    if score.scored and (score.score is None or not -1.0 <= score.score <= 1.0):
        raise ValidationFailed("Sentiment is between -1 and 1.", fields={"sentiment": "Out of range."})
    _apply_score(message, score)
    message.save(update_fields=["sentiment", "sentiment_status", "sentiment_language", "sentiment_note"])
    return message


def message_json(*, message: Message) -> dict[str, Any]:
    """How a message travels to browsers (the widget, the desktop).

    A customer message carries its sentiment (``sentiment``: -1 … 1 or null; ``sentiment_status``:
    "scored" / "not_scored"; ``sentiment_note``: why not scored): the widget ignores them, the desk shows them.
    """
    return {
        "id": message.pk,
        "conversation": message.conversation_id,
        "direction": message.direction,
        "author_kind": message.author_kind,
        "author_name": message.author_name,
        "body": message.body,
        "payload": message.payload,
        "internal": message.internal,
        "sent_at": message.sent_at.isoformat(),
        "sentiment": message.sentiment,
        "sentiment_status": message.sentiment_status,
        "sentiment_note": message.sentiment_note,
    }


@transaction.atomic
def conversation_set_verification(
    *, conversation: Conversation, customer: Customer, level: str, method: str = "", actor: Actor = None
) -> Conversation:
    """Record who the customer is and how far they proved it; the level never goes down.

    ``actor`` (the agent or client who identified or verified, ``None`` for the system) is the
    user the audit trail names.
    """
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if conversation.customer_id not in (None, customer.pk):
        raise Conflict("This conversation is already with another customer.", code="customer_mismatch")
    current = LEVEL_ORDER.index(VerificationLevel(conversation.verification_level))
    wanted = LEVEL_ORDER.index(VerificationLevel(level))
    with audited(actor, source="idv", method=method):
        conversation.customer = customer
        conversation.team = conversation.team or customer.team
        if wanted > current:
            conversation.verification_level = level
            if level == VerificationLevel.VERIFIED:
                conversation.verified_at = timezone.now()
        conversation.save()
    with translation.override(None):  # a stored summary: in the default language, whoever verified
        summary = f"{VerificationLevel(conversation.verification_level).label} on {conversation.get_channel_display()}"
    journey_record(
        customer=customer,
        kind=f"idv.{conversation.verification_level}",
        source_system="engagement",
        channel=conversation.channel,
        summary=summary + (f" by {method}" if method else ""),
        payload={"conversation_id": conversation.pk, "method": method},
    )
    context_write_on_commit(
        actor=None,
        scope=ContextScope.CONVERSATION,
        context_id=conversation.pk,
        customer_id=customer.pk,
        source="idv",
        values={"customer_id": customer.pk, "verification_level": conversation.verification_level},
    )
    return conversation


def conversation_status_push(*, conversation: Conversation) -> None:
    """After commit, tell everyone following the conversation its status (queued, active, ended), and the
    supervisors' pages that live work changed."""
    push_on_commit(
        conversation_group(conversation_id=conversation.pk),
        {"type": "conversation.status", "conversation": conversation.pk, "status": conversation.status},
    )
    supervision_hint_on_commit(what="conversations")


def conversation_announce(
    *, conversation: Conversation, body: str, payload: dict[str, Any], context: dict[str, Any]
) -> None:
    """Tell everyone following a conversation that it moved (an agent joined, a transfer).

    Its new status goes to the conversation's group, a system message to the customer, and
    ``context`` into the conversation's context (after commit).
    """
    conversation_status_push(conversation=conversation)
    message_add(
        conversation=conversation,
        direction=Direction.OUTBOUND,
        author_kind=AuthorKind.SYSTEM,
        body=body,
        payload=payload,
    )
    context_write_on_commit(
        actor=None,
        scope=ContextScope.CONVERSATION,
        context_id=conversation.pk,
        customer_id=conversation.customer_id,
        source="routing",
        values=context,
    )


@transaction.atomic
def conversation_close(
    *,
    actor: Actor,
    conversation: Conversation,
    ended_at: datetime,
    wrap_up_code: str = "",
    disposition: str = "",
    notes: str = "",
    abandoned: bool = False,
) -> Interaction:
    """Record an open conversation in records as an Interaction and mark it ended; returns the Interaction.

    The caller (``engagement.orchestration.conversation_end``) holds the conversation's lock, has
    checked who may end it and has settled its work with the router; ``abandoned`` says the
    customer left before an agent answered.
    """
    transcript = [
        {
            "at": m.sent_at.isoformat(),
            "author": m.author_kind,
            "author_name": m.author_name,
            "body": m.body,
            **({"event": m.payload["event"]} if "event" in m.payload else {}),
            **({"internal": True} if m.internal else {}),
        }
        for m in conversation.messages.order_by("id")
    ]
    snapshot = context_read(scope=ContextScope.CONVERSATION, context_id=conversation.pk).values
    conversation.contained = conversation.agent_id is None and conversation.escalated_at is None
    interaction = interaction_record(
        actor=actor,
        channel=conversation.channel,
        direction=conversation.direction,
        customer=conversation.customer,
        started_at=conversation.created_at,
        answered_at=conversation.answered_at,
        ended_at=max(ended_at, conversation.created_at),
        queue=conversation.queue,
        agent=conversation.agent,
        team=conversation.team,
        transcript=transcript,
        wrap_up_code=wrap_up_code,
        disposition=disposition or ("contained" if conversation.contained else ""),
        wrap_up_notes=notes,
        context_snapshot={
            **snapshot,
            "verification_level": conversation.verification_level,
            "contained": conversation.contained,
            **({"abandoned": True} if abandoned else {}),
        },
        external_id=f"conversation-{conversation.pk}",
        source_system="engagement",
    )
    with audited(actor):
        conversation.status = ConversationStatus.ENDED
        conversation.ended_at = ended_at
        conversation.interaction = interaction
        conversation.save()
    conversation_status_push(conversation=conversation)
    interaction_recorded_on_commit(interaction_id=interaction.pk)
    # The apps above (insights' surveys) schedule what follows an ended conversation.
    conversation_closed_notify(
        conversation_id=conversation.pk, interaction_id=interaction.pk, channel=conversation.channel
    )
    return interaction
