"""Conversation search for the desk and the API: by customer, message text, channel, agent and date.

Everything is searched within ``conversations_visible_to(user)`` (``engagement.access``): an agent
finds their teams' conversations (and those routed to them), never another team's; a customer is
matched only among the customers the user may see (``records.access``). Integration clients never
match on internal messages (a whisper, an agent's note), as they never read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Greatest, Lower, StrIndex, Substr

from cea.accounts.types import AnyUser
from cea.common.errors import ValidationFailed
from cea.common.roles import Role, role_of
from engagement.access import conversations_visible_to
from engagement.conversations.models import Conversation, Message
from records.access import customers_visible_to
from records.customers.selectors import customer_search

MAX_TEXT = 200
EXCERPT_CHARS = 160
CONTEXT_BEFORE = 40


@dataclass(frozen=True)
class ConversationQuery:
    text: str = ""
    customer: str = ""
    channel: str = ""
    agent: int | None = None
    date_from: date | None = None
    date_to: date | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.text or self.customer or self.channel or self.agent or self.date_from or self.date_to)


def _clean(value: str, name: str) -> str:
    value = " ".join((value or "").split())
    if "\x00" in value:
        raise ValidationFailed("The search has a null character.", fields={name: "Null characters are not allowed."})
    if len(value) > MAX_TEXT:
        raise ValidationFailed(f"At most {MAX_TEXT} characters.", fields={name: "Too long."})
    return value


def conversation_search(*, user: AnyUser, query: ConversationQuery) -> QuerySet[Conversation]:
    """The conversations ``user`` may see that match every part of ``query``, newest first, each
    with ``excerpt``: the start of the first message whose text matched (``None`` without text).

    Text matches any part of a message's text (case-insensitive), the subject or the contact
    address; the customer part matches a customer's id, name, email, phone or identifier.
    ``ValidationFailed`` when ``date_to`` is before ``date_from``.
    """
    conversations = conversations_visible_to(user)
    if query.date_from and query.date_to and query.date_to < query.date_from:
        raise ValidationFailed("The end date is before the start date.", fields={"date_to": "Before date_from."})
    text = _clean(query.text, "q")
    customer = _clean(query.customer, "customer")
    if customer:
        customers = customer_search(customers=customers_visible_to(user), text=customer)
        conversations = conversations.filter(customer__in=customers.values("pk"))
    if query.channel:
        conversations = conversations.filter(channel=query.channel)
    if query.agent is not None:
        conversations = conversations.filter(agent_id=query.agent)
    if query.date_from:
        conversations = conversations.filter(created_at__date__gte=query.date_from)
    if query.date_to:
        conversations = conversations.filter(created_at__date__lte=query.date_to)
    if text:
        messages = Message.objects.filter(conversation=OuterRef("pk"), body__icontains=text)
        if role_of(user) == Role.INTEGRATION:
            messages = messages.exclude(internal=True)
        conversations = conversations.filter(
            Exists(messages) | Q(subject__icontains=text) | Q(contact_value__icontains=text)
        ).annotate(
            excerpt=Subquery(messages.order_by("sent_at", "id").annotate(around=_around(text)).values("around")[:1])
        )
    return conversations.select_related("customer", "team", "agent").order_by("-created_at", "-id")


def _around(text: str) -> Substr:
    """Up to ``EXCERPT_CHARS`` of a message's text, starting a little before ``text``'s first occurrence."""
    at = StrIndex(Lower("body"), Lower(Value(text)))
    return Substr("body", Greatest(at - CONTEXT_BEFORE, Value(1)), EXCERPT_CHARS)
