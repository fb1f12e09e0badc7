"""Helpers shared by the self-service tests (not collected as tests)."""

from __future__ import annotations

import json

from cea.common.channels import Channel
from engagement.context.services import context_read
from engagement.conversations.models import Conversation
from engagement.conversations.services import conversation_start, message_add
from engagement.selfservice.services import (
    SelfServiceReply,
    flow_save,
    selfservice_on_customer_message,
    selfservice_on_ivr_input,
)
from integration import lookups
from tests.support import assert_error, make_customer, session_client, token_client


def register_lookup(monkeypatch, name: str, function, **options) -> None:
    """Register a look-up for this test only."""
    monkeypatch.setitem(lookups.REGISTRY, name, lookups.Lookup(name=name, function=function, **options))


def chat(*, customer=None, team=None, visitor: str = "visitor-1") -> Conversation:
    conversation, _ = conversation_start(channel=Channel.CHAT, visitor=visitor, customer=customer, team=team)
    return conversation


def call(call_id: str = "call-1", *, customer=None) -> Conversation:
    conversation, _ = conversation_start(channel=Channel.VOICE, external_id=call_id, customer=customer)
    return conversation


def says(conversation: Conversation, text: str) -> SelfServiceReply:
    """The customer types ``text`` in the chat; self-service answers."""
    message, _ = message_add(conversation=conversation, direction="inbound", author_kind="customer", body=text)
    return selfservice_on_customer_message(conversation=conversation, message=message)


def presses(conversation: Conversation, digits: str = "", *, speech: str = "", input_id: str = "") -> SelfServiceReply:
    """The caller presses ``digits`` or says ``speech`` at the IVR."""
    return selfservice_on_ivr_input(conversation=conversation, digits=digits, speech=speech, input_id=input_id)


def context_of(conversation: Conversation) -> dict:
    return context_read(scope="conversation", context_id=conversation.pk).values


def reloaded(conversation: Conversation) -> Conversation:
    return Conversation.objects.get(pk=conversation.pk)


def order_lookup(customer, inputs: dict) -> dict:
    """A stand-in order back-end: order 123456 is out for delivery, others are unknown."""
    if inputs.get("order") == "123456":
        return {"number": "123456", "status": "out for delivery"}
    raise lookups.LookupFailed("no such order", permanent=True)


def make_flows() -> dict:
    """The flows the tests run; the look-up ``test_order`` must be registered first."""
    order = flow_save(
        name="Order status",
        intent="order_status",
        menu_key="1",
        queue="orders",
        trigger_phrases="where is my order\norder status",
        steps=[
            {
                "key": "ask-order",
                "kind": "ask",
                "prompt": "What is your order number?",
                "options": {"variable": "order_number", "pattern": "^[0-9]{6}$", "error": "Six digits, please."},
                "next_step": "look-up",
            },
            {
                "key": "look-up",
                "kind": "lookup",
                "prompt": "Order {order_number} is {order.status}.",
                "options": {"lookup": "test_order", "inputs": {"order": "order_number"}, "result": "order"},
                "next_step": "done",
            },
            {"key": "done", "kind": "end", "prompt": "Goodbye!"},
        ],
    )
    delivery = flow_save(
        name="Delivery",
        intent="delivery",
        menu_key="2",
        queue="delivery",
        steps=[
            {
                "key": "pick",
                "kind": "menu",
                "prompt": "What do you need?",
                "options": {
                    "variable": "delivery_need",
                    "choices": [
                        {"key": "1", "label": "Track a parcel", "next": "track"},
                        {"key": "2", "label": "Change delivery day", "next": "change"},
                    ],
                },
            },
            {"key": "track", "kind": "say", "prompt": "Tracking is on your orders page.", "next_step": "more"},
            {"key": "more", "kind": "end", "options": {"close": False}},
            {"key": "change", "kind": "handover", "prompt": "An agent will change the day for you."},
        ],
    )
    balance = flow_save(
        name="Balance",
        intent="balance",
        menu_key="3",
        queue="billing",
        steps=[
            {
                "key": "check",
                "kind": "branch",
                "options": {"variable": "verification_level", "cases": {"verified": "tell"}, "default": "to-agent"},
            },
            {"key": "tell", "kind": "say", "prompt": "You are verified, {customer_name}.", "next_step": "done"},
            {"key": "done", "kind": "end", "prompt": "Goodbye!"},
            {
                "key": "to-agent",
                "kind": "handover",
                "prompt": "An agent will verify you.",
                "options": {"reason": "Balance for a customer not verified."},
            },
        ],
    )
    hours = flow_save(
        name="Opening hours",
        intent="opening_hours",
        menu_key="4",
        steps=[
            {"key": "answer", "kind": "knowledge", "options": {"query": "opening hours"}, "next_step": "more"},
            {"key": "more", "kind": "end", "options": {"close": False}},
        ],
    )
    return {"order": order, "delivery": delivery, "balance": balance, "hours": hours}


def make_flows_with_failing_orders(monkeypatch, reason: str, *, permanent: bool = False) -> dict:
    """``make_flows``' flows, with the order back-end (``test_order``) failing every look-up with ``reason``."""

    def failing(customer, inputs: dict) -> dict:
        raise lookups.LookupFailed(reason, permanent=permanent)

    register_lookup(monkeypatch, "test_order", failing)
    return make_flows()


# Shared helpers (tests/support.py), re-exported for the tests that import them from here.
__all__ = [
    "assert_error",
    "call",
    "chat",
    "context_of",
    "flow_post",
    "make_customer",
    "make_flows",
    "make_flows_with_failing_orders",
    "order_lookup",
    "presses",
    "register_lookup",
    "reloaded",
    "says",
    "session_client",
    "token_client",
]


def flow_post(steps: list[dict], **fields) -> dict:
    """The POST of the flow's add form with ``steps`` as inline rows."""
    data = {
        "name": "Order status",
        "intent": "order_status",
        "description": "",
        "trigger_phrases": "where is my order",
        "menu_key": "1",
        "queue": "orders",
        "is_active": "on",
        "steps-TOTAL_FORMS": str(len(steps)),
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
        **fields,
    }
    for index, step in enumerate(steps):
        for name, value in step.items():
            data[f"steps-{index}-{name}"] = json.dumps(value) if name == "options" else value
        data.setdefault(f"steps-{index}-prompt", "")
        data.setdefault(f"steps-{index}-next_step", "")
        data.setdefault(f"steps-{index}-options", "{}")
    return data
