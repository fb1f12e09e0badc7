"""Reads of the agent desktop: the agent's work and offers, the choices its forms offer, the 360 panel.

Every customer, case and conversation shown comes through the access helpers
(``engagement.access``, ``records.access``); the functions here take objects already checked,
or filter by what the user may see.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext

from cea.accounts.models import User
from cea.accounts.types import AnyUser
from cea.common.channels import Channel
from cea.common.errors import PermissionDenied
from engagement.backoffice.selectors import backoffice_panel
from engagement.context.models import ContextScope
from engagement.context.services import context_read
from engagement.conversations.models import Conversation, ConversationStatus, Message
from engagement.conversations.receipts import chat_read_marks
from engagement.conversations.replies import SPOKEN_CHANNELS, reply_media_rules
from engagement.desktop.context_display import context_readable
from engagement.outbound.services import outbound_options, outreach_sources
from engagement.recommendations.selectors import recommendations_open_for
from engagement.routing.live import offer_json
from engagement.routing.models import (
    OPEN_WORK,
    AgentProfile,
    Offer,
    OfferStatus,
    Presence,
    Queue,
    ReasonCode,
    WorkItem,
    WorkStatus,
    WrapUpCode,
)
from engagement.routing.presence import presence_json
from engagement.routing.selectors import transfer_target_agents
from records.access import access_customer, cases_visible_to
from records.cases.models import Case, CaseStatus, transitions_from
from records.customers.models import Customer
from records.customers.selectors import customer_360
from records.journey.apis import encode_cursor
from records.journey.selectors import journey_timeline

MESSAGE_PAGE = 200
TIMELINE_PAGE = 20
MAX_TRANSFER_AGENTS = 500
CARD_ACTIONS = 5  # the Next best action card shows the best few
OPEN_CASE_STATUSES = (CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.PENDING)


# --- The agent's work ---------------------------------------------------------------------------


def desk_conversations(*, user: AnyUser) -> list[Conversation]:
    """The conversations on the agent's desk, oldest first: active with them, or theirs to wrap up."""
    in_wrap_up = WorkItem.objects.filter(status=WorkStatus.WRAP_UP, agent__user_id=user.pk).values("conversation_id")
    return list(
        Conversation.objects.filter(Q(status=ConversationStatus.ACTIVE, agent_id=user.pk) | Q(pk__in=in_wrap_up))
        .select_related("customer", "team", "agent")
        .order_by(F("answered_at").asc(nulls_last=True), "created_at", "id")
    )


def open_work(*, conversation_id: int) -> WorkItem | None:
    """The conversation's open work item (waiting, offered, with an agent or in wrap-up), if any."""
    return (
        WorkItem.objects.filter(conversation_id=conversation_id, status__in=OPEN_WORK)
        .select_related("queue", "transferred_from__agent__user")
        .first()
    )


def desk_offers(*, user: AnyUser, now: datetime | None = None) -> list[dict[str, Any]]:
    """The agent's pending offers, oldest first, as the websocket sends them plus ``remaining`` seconds."""
    now = now or timezone.now()
    offers = (
        Offer.objects.filter(agent__user_id=user.pk, status=OfferStatus.PENDING)
        .select_related("work_item__queue", "work_item__conversation__customer")
        .order_by("offered_at", "id")
    )
    return [
        {**offer_json(offer), "remaining": max(0, math.ceil((offer.expires_at - now).total_seconds()))}
        for offer in offers
    ]


def presence_value(*, profile: AgentProfile) -> str:
    """The presence as the desk's select names it: ``available``, ``away:break`` …"""
    if profile.presence == Presence.AWAY and profile.reason_id:
        return f"{Presence.AWAY}:{profile.reason.code}"
    return profile.presence


def presence_choices(*, profile: AgentProfile) -> list[dict[str, Any]]:
    """What the agent may choose, in order; the current state is included (disabled) when it is not a choice.

    Away takes a reason: one choice per active reason code agents may pick (not the system's, such
    as a missed offer, which CEA sets).
    """
    labels = {value: str(label) for value, label in Presence.choices}
    choices = [
        {"value": Presence.AVAILABLE.value, "label": labels[Presence.AVAILABLE], "disabled": False},
        {"value": Presence.BUSY.value, "label": labels[Presence.BUSY], "disabled": False},
        {"value": Presence.AFTER_CONTACT.value, "label": labels[Presence.AFTER_CONTACT], "disabled": False},
        *(
            {
                "value": f"{Presence.AWAY}:{reason.code}",
                "label": gettext("Away · %(reason)s") % {"reason": reason.label},
                "disabled": False,
            }
            for reason in ReasonCode.objects.filter(system=False, is_active=True)
        ),
        {"value": Presence.OFFLINE.value, "label": labels[Presence.OFFLINE], "disabled": False},
    ]
    current = presence_value(profile=profile)
    if all(choice["value"] != current for choice in choices):
        label = (
            gettext("Away · %(reason)s") % {"reason": profile.reason.label}
            if profile.reason_id
            else profile.get_presence_display()
        )
        choices.insert(-1, {"value": current, "label": label, "disabled": True})
    return choices


def desk_presence(*, profile: AgentProfile) -> dict[str, Any]:
    """``presence_json`` plus the desk's select value."""
    return {**presence_json(profile), "value": presence_value(profile=profile)}


def desk_state(*, user: AnyUser) -> dict[str, Any]:
    """What a (re)connected desk starts from: presence, pending offers, the conversations on the desk.

    ``server_time`` lets the page count down offers and after-contact work by the server's clock.
    """
    profile = AgentProfile.objects.select_related("reason").get(user_id=user.pk)
    return {
        "server_time": timezone.now().isoformat(),
        "presence": desk_presence(profile=profile),
        "offers": desk_offers(user=user),
        "conversations": [conversation.pk for conversation in desk_conversations(user=user)],
    }


# --- Choices of the forms -----------------------------------------------------------------------


def wrap_up_codes() -> list[WrapUpCode]:
    return list(WrapUpCode.objects.filter(is_active=True))


def transfer_queues() -> list[Queue]:
    return list(Queue.objects.filter(is_active=True))


def transfer_agents(*, user: AnyUser) -> list[User]:
    """Active agents and supervisors other than ``user``, whom a conversation may be transferred to."""
    return list(
        transfer_target_agents()
        .exclude(pk=user.pk)
        .select_related("routing_profile")
        .order_by("first_name", "last_name", "username")[:MAX_TRANSFER_AGENTS]
    )


# --- A conversation and its customer ------------------------------------------------------------


LINK_KEYS = ("recording_url", "transcript_url")


def conversation_messages(*, conversation: Conversation) -> list[Message]:
    """The conversation's latest messages (at most 200), oldest first.

    Each carries ``links``: the web links of its payload (a call's recording and transcript),
    only ``http(s)`` ones, so that a channel's payload can never put a ``javascript:`` link on the page.
    """
    latest = list(conversation.messages.order_by("-id")[:MESSAGE_PAGE])
    latest.reverse()
    for message in latest:
        message.links = [
            (key.removesuffix("_url"), url)
            for key in LINK_KEYS
            if isinstance(url := message.payload.get(key), str) and url.startswith(("https://", "http://"))
        ]
    return latest


def context_display(*, value: Any) -> str:
    """A context value as text: strings as they are, anything else as JSON (the desk's script does the same)."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def live_context(*, scope: str, context_id: int) -> dict[str, Any]:
    """A context as the desk shows it: ``items`` are ``(key, text)`` pairs, sorted by key."""
    context = context_read(scope=scope, context_id=context_id)
    return {
        "scope": scope,
        "id": str(context_id),
        "version": context.version,
        "items": [(key, context_display(value=value)) for key, value in sorted(context.values.items())],
        # The same, for a person: labels, times, lists, the raw JSON in a <details> (context_display.py).
        "shown": [(key, context_readable(value=value)) for key, value in sorted(context.values.items())],
    }


def conversation_sentiment(*, values: dict[str, Any]) -> dict[str, Any]:
    """The running sentiment insights writes into a conversation's context (``sentiment`` -1 … 1,
    ``sentiment_label``, ``sentiment_alert``), as the desk shows it beside the conversation."""
    score = values.get("sentiment")
    if isinstance(score, bool) or not isinstance(score, int | float) or not -1 <= score <= 1:
        score = None
    label, alert = values.get("sentiment_label"), values.get("sentiment_alert")
    return {
        "score": score,
        "label": label if isinstance(label, str) else "",
        "alert": alert if isinstance(alert, str) else "",
    }


def open_cases(*, user: AnyUser, customer: Customer) -> list[Case]:
    """The customer's open cases that ``user`` may see, most urgent SLA first."""
    cases = list(
        cases_visible_to(user)
        .filter(customer=customer, status__in=OPEN_CASE_STATUSES)
        .select_related("assignee", "team")
        .order_by(F("resolution_due_at").asc(nulls_last=True), "id")
    )
    for case in cases:
        case.transitions = transitions_from(case.status)
    return cases


def timeline_page(*, customer_id: int) -> dict[str, Any]:
    """The first page of the customer's journey, as ``records/partials/timeline_events.html`` reads it."""
    events = journey_timeline(customer_id=customer_id, limit=TIMELINE_PAGE + 1)
    page = events[:TIMELINE_PAGE]
    more = len(events) > TIMELINE_PAGE
    return {"timeline": page, "next_cursor": encode_cursor(page[-1]) if more else None, "customer_id": customer_id}


def customer_panel(*, user: AnyUser, customer_id: int | None) -> dict[str, Any]:
    """The 360 panel's data for a customer ``user`` may see; ``hidden`` when they may not.

    A merged customer is shown as the customer they were merged into.
    """
    if customer_id is None:
        return {"customer": None, "hidden": False}
    try:
        customer = access_customer(user, customer_id)
        if customer.merged_into_id:
            customer = access_customer(user, customer.merged_into_id)
    except PermissionDenied:
        return {"customer": None, "hidden": True}
    return {
        "customer": customer_360(customer_id=customer.pk),
        "hidden": False,
        "cases": open_cases(user=user, customer=customer),
        "customer_context": live_context(scope=ContextScope.CUSTOMER, context_id=customer.pk),
        "recommendations": recommendations_open_for(customer_id=customer.pk, limit=CARD_ACTIONS),
        "outbound_options": outbound_options(customer=customer),
        "sms_sources": outreach_sources(customer=customer, channel="sms"),
        "callback_queues": transfer_queues(),
        **timeline_page(customer_id=customer.pk),
    }


def conversation_panel(*, user: AnyUser, conversation: Conversation) -> dict[str, Any]:
    """Everything a conversation's tab and panel show; ``conversation`` was fetched through ``access_conversation``."""
    work = open_work(conversation_id=conversation.pk)
    ended = conversation.status == ConversationStatus.ENDED
    messages = conversation_messages(conversation=conversation)
    return {
        "conversation": conversation,
        "work": work,
        "ended": ended,
        "in_wrap_up": ended or (work is not None and work.status == WorkStatus.WRAP_UP),
        "spoken": conversation.channel in SPOKEN_CHANNELS,
        "sms_max_segments": settings.CEA_SMS_MAX_SEGMENTS,  # the reply box's SMS counter (desk_sms.js)
        "media": reply_media_rules(conversation),  # whether the reply box offers files, how many, how big
        "messages": messages,
        "last_message_id": messages[-1].pk if messages else 0,
        "conversation_context": live_context(scope=ContextScope.CONVERSATION, context_id=conversation.pk),
        "sentiment": conversation_sentiment(
            values=context_read(scope=ContextScope.CONVERSATION, context_id=conversation.pk).values
        ),
        "backoffice": backoffice_panel(conversation=conversation),  # a case, task or callback beside it
        # A web chat's read receipts (engagement/conversations/receipts.py), by reader.
        "read_marks": chat_read_marks(conversation_id=conversation.pk) if conversation.channel == Channel.CHAT else {},
        **customer_panel(user=user, customer_id=conversation.customer_id),
    }
