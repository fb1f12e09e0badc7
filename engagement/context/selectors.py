"""Reads of the context store across contexts: a customer's live context and their conversations'."""

from __future__ import annotations

from engagement.context.models import ContextScope
from engagement.context.services import context_read
from engagement.context.store import Context
from engagement.conversations.models import Conversation, ConversationStatus

MAX_OPEN_CONVERSATIONS = 50


def customer_live_contexts(*, customer_id: int) -> tuple[Context, list[Context]]:
    """The customer's context and the contexts of their open conversations, newest first (at most 50)."""
    conversation_ids = list(
        Conversation.objects.filter(customer_id=customer_id)
        .exclude(status=ConversationStatus.ENDED)
        .order_by("-created_at", "-id")
        .values_list("id", flat=True)[:MAX_OPEN_CONVERSATIONS]
    )
    customer = context_read(scope=ContextScope.CUSTOMER, context_id=customer_id)
    return customer, [context_read(scope=ContextScope.CONVERSATION, context_id=pk) for pk in conversation_ids]
