"""The demo's self-service: four flows and a few knowledge articles, loaded once.

- Order status (1): asks the order number, looks it up in order management (``order_status``,
  through the integration layer; when it cannot answer, the assistant apologises and offers an
  agent).
- Opening hours (2): answered from the knowledge base.
- Balance (3): only for a verified customer (``balance`` look-up, from billing);
  anyone else is handed to an agent, who verifies them.
- Case status (4): a verified customer hears their open cases (``case_status`` answers from
  records); anyone else is handed to an agent.

Loading is idempotent and never overwrites: a flow (by intent) or an article (by title) that
exists, perhaps edited by a supervisor, is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from engagement.selfservice.models import Flow, KnowledgeArticle
from engagement.selfservice.services import flow_save, knowledge_article_save

VERIFIED_ONLY = {"variable": "verification_level", "cases": {"verified": "look-up"}, "default": "to-agent"}

DEMO_FLOWS: list[dict] = [
    {
        "name": "Order status",
        "intent": "order_status",
        "menu_key": "1",
        "description": "Where is my order? Asks the order number and looks it up in order management.",
        "trigger_phrases": "order status\nwhere is my order\ntrack my order\ntrack an order\nmy delivery",
        "steps": [
            {
                "key": "ask-order",
                "kind": "ask",
                "prompt": "What is your order number? It has six digits.",
                "options": {
                    "variable": "order_number",
                    "pattern": "^[0-9]{6}$",
                    "error": "An order number has six digits, like 123456.",
                },
                "next_step": "look-up",
            },
            {
                "key": "look-up",
                "kind": "lookup",
                "prompt": "Order {order_number} is {order.status}.",
                "options": {"lookup": "order_status", "inputs": {"order_number": "order_number"}, "result": "order"},
                "next_step": "done",
            },
            {"key": "done", "kind": "end", "prompt": "Thank you for checking with us. Goodbye!"},
        ],
    },
    {
        "name": "Opening hours",
        "intent": "opening_hours",
        "menu_key": "2",
        "description": "When are you open? Answered from the knowledge base.",
        "trigger_phrases": "opening hours\nopening times\nwhen are you open\nare you open",
        "steps": [
            {
                "key": "answer",
                "kind": "knowledge",
                "options": {"query": "opening hours"},
                "next_step": "more",
            },
            {"key": "more", "kind": "end", "options": {"close": False}},
        ],
    },
    {
        "name": "Balance",
        "intent": "balance",
        "menu_key": "3",
        "description": "What do I owe? For verified customers only; anyone else goes to an agent.",
        "trigger_phrases": "balance\nhow much do i owe\nmy bill\nwhat do i owe",
        "steps": [
            {"key": "check", "kind": "branch", "options": VERIFIED_ONLY},
            {
                "key": "look-up",
                "kind": "lookup",
                "prompt": "Your balance is {balance.amount} {balance.currency}.",
                "options": {"lookup": "balance", "result": "balance"},
                "next_step": "done",
            },
            {
                "key": "to-agent",
                "kind": "handover",
                "prompt": "For your security, an agent will confirm who you are and tell you your balance.",
                "options": {"reason": "Balance asked by a customer who is not verified."},
            },
            {"key": "done", "kind": "end", "prompt": "Thank you. Goodbye!"},
        ],
    },
    {
        "name": "Case status",
        "intent": "case_status",
        "menu_key": "4",
        "description": "How is my request going? A verified customer hears their open cases.",
        "trigger_phrases": "case status\nmy case\nmy complaint\nmy request",
        "steps": [
            {"key": "check", "kind": "branch", "options": VERIFIED_ONLY},
            {
                "key": "look-up",
                "kind": "lookup",
                "prompt": "{cases.summary}",
                "options": {"lookup": "case_status", "result": "cases"},
                "next_step": "done",
            },
            {
                "key": "to-agent",
                "kind": "handover",
                "prompt": "For your security, an agent will confirm who you are and go through your requests.",
                "options": {"reason": "Case status asked by a customer who is not verified."},
            },
            {"key": "done", "kind": "end", "prompt": "Thank you. Goodbye!"},
        ],
    },
]

DEMO_ARTICLES: list[dict] = [
    {
        "title": "When are you open?",
        "keywords": "opening times, hours, weekend, bank holiday",
        "body": (
            "Our contact centre is open Monday to Friday 8am to 8pm and Saturday 9am to 5pm. "
            "Our branches keep shop hours, Monday to Saturday 9am to 5:30pm. Web chat and self-service "
            "answer around the clock."
        ),
    },
    {
        "title": "Returning an item",
        "keywords": "refund, return, exchange, faulty",
        "body": (
            "You can return an item within 30 days of delivery for a full refund. Start a return from "
            "your orders page or at any branch; we email you a free returns label. Refunds reach your "
            "account within 5 working days of the item arriving back with us."
        ),
    },
    {
        "title": "Changing your address",
        "keywords": "move house, address change, postcode",
        "body": (
            "Sign in and open Your details to change your address, or tell an agent. For your security "
            "we send a confirmation to your registered email when the address changes."
        ),
    },
    {
        "title": "Resetting your password",
        "keywords": "password, sign in, locked out, login",
        "body": (
            "Choose 'Forgotten your password?' on the sign-in page and we email you a link that works "
            "for 30 minutes. After five wrong attempts the account locks for 15 minutes."
        ),
    },
    {
        "title": "Delivery times and costs",
        "keywords": "shipping, delivery, postage, courier",
        "body": (
            "Standard delivery takes 3 to 5 working days and is free over £40. Next-day delivery costs "
            "£4.99 when you order before 8pm. You can track every parcel from your orders page."
        ),
    },
]


@dataclass
class DemoLoaded:
    flows_created: int
    flows_kept: int
    articles_created: int
    articles_kept: int


@transaction.atomic
def selfservice_demo_load() -> DemoLoaded:
    """Create the demo flows and articles that do not exist yet; leave existing ones untouched."""
    flows_created = articles_created = 0
    for definition in DEMO_FLOWS:
        if Flow.objects.filter(intent=definition["intent"]).exists():
            continue
        # A supervisor may have given the demo's menu key to a flow of their own: then no key.
        menu_key = definition["menu_key"]
        if Flow.objects.filter(is_active=True, menu_key=menu_key).exists():
            menu_key = ""
        flow_save(**{**definition, "menu_key": menu_key})
        flows_created += 1
    for article in DEMO_ARTICLES:
        if KnowledgeArticle.objects.filter(title=article["title"]).exists():
            continue
        knowledge_article_save(**article)
        articles_created += 1
    return DemoLoaded(
        flows_created=flows_created,
        flows_kept=len(DEMO_FLOWS) - flows_created,
        articles_created=articles_created,
        articles_kept=len(DEMO_ARTICLES) - articles_created,
    )
