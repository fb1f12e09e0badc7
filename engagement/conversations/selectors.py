"""Reads of conversations: who a channel identifier belongs to, the conversation of a telephony call, who is
in a conversation now."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Max

from cea.accounts.types import AnyUser
from cea.common.channels import Channel
from cea.common.errors import ValidationFailed
from cea.common.queries import one_or_none
from engagement.context.models import ContextScope
from engagement.context.services import context_resolve
from engagement.conversations.models import AuthorKind, Conversation, ConversationStatus, Message, SentimentStatus
from records.access import customer_visible
from records.customers.models import Customer
from records.identities.selectors import customer_lookup


def identify_contact(*, kind: str, value: str, visible_to: AnyUser | None = None) -> Customer | None:
    """The customer a channel identifier belongs to, or ``None`` (malformed identifiers included).

    With ``visible_to`` (the user who gave the identifier), a customer that user may not see is
    ``None`` too, as if not on file; without it (a channel, the system) every customer counts.
    """
    if not kind or not value:
        return None
    try:
        customer = customer_lookup(kind=kind, value=value)
    except ValidationFailed:
        return None
    if customer is not None and visible_to is not None and not customer_visible(visible_to, customer):
        return None
    return customer


def conversation_of_call(*, call_id: str) -> Conversation | None:
    """The voice conversation of a telephony platform's call id, or ``None``.

    Found through the context alias ``call:<call id>`` that the voice adapter (and
    ``selfservice_ivr_call``) set, else a voice conversation whose external id is the call id.
    """
    voice = Conversation.objects.select_related("customer").filter(channel=Channel.VOICE)
    resolved = context_resolve(alias=f"call:{call_id}")
    if resolved is not None and resolved[0] == ContextScope.CONVERSATION and resolved[1].isdigit():
        conversation = voice.filter(pk=int(resolved[1])).first()
        if conversation is not None:
            return conversation
    return voice.filter(external_id=call_id).first()


def customers_in_conversation(*, customer_ids: Iterable[int]) -> set[int]:
    """Which of these customers are in a conversation that has not ended (self-service, queued or with an
    agent): one query (insights' arbitration weighs such an occasion as "live")."""
    ids = sorted(set(customer_ids))
    if not ids:
        return set()
    rows = Conversation.objects.filter(customer_id__in=ids).exclude(status=ConversationStatus.ENDED)
    return set(rows.values_list("customer_id", flat=True).distinct())


# --- Sentiment (read by insights' scorer, engagement.hooks) ---------------------------


def conversations_latest_message_ids(*, conversation_ids: Iterable[int]) -> dict[int, int]:
    """The id of each conversation's latest message (conversations without one left out), in one
    statement: what a live socket compares with the last message it has, to catch a push it missed."""
    rows = (
        Message.objects.filter(conversation_id__in=set(conversation_ids))
        .values("conversation_id")
        .annotate(latest=Max("id"))
        .order_by()
    )
    return {row["conversation_id"]: row["latest"] for row in rows}


def message_with_conversation(*, message_id: int) -> Message | None:
    """A message with its conversation and the conversation's customer, or ``None``."""
    return one_or_none(Message.objects.select_related("conversation", "conversation__customer").filter(pk=message_id))


def customer_turn_scores(*, conversation_id: int, up_to_message_id: int | None = None) -> list[tuple[int, float]]:
    """``(message id, sentiment)`` of the conversation's scored customer messages, in order (up to and
    including ``up_to_message_id`` when given)."""
    rows = Message.objects.filter(
        conversation_id=conversation_id,
        author_kind=AuthorKind.CUSTOMER,
        sentiment_status=SentimentStatus.SCORED,
        sentiment__isnull=False,
    )
    if up_to_message_id is not None:
        rows = rows.filter(pk__lte=up_to_message_id)
    return [(pk, score) for pk, score in rows.order_by("id").values_list("id", "sentiment") if score is not None]


def customer_messages_unscored(*, after_id: int = 0, limit: int = 500) -> list[Message]:
    """Customer messages never scored (added before scoring), by id after ``after_id`` (a backfill's page)."""
    return list(
        Message.objects.select_related("conversation", "conversation__customer")
        .filter(author_kind=AuthorKind.CUSTOMER, internal=False, sentiment_status="", pk__gt=after_id)
        .order_by("id")[:limit]
    )
