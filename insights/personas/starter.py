"""A starter set of personas for a new deployment (and the demo): added by ``personas_assign --starter``
where no definition of the same key exists, then edited in the console like any other.

Five kinds of customer told apart by how they behave — the channels they use, their segment, their
value — tried in this order (the first whose conditions all hold places the customer), then the
frequent-and-unhappy and the catch-all. The demo's customers (records/demo/journeys.py) are of these
five kinds, which the generator never writes on them: the rules find them again from behaviour
alone (tests/insights/test_demo_insights.py measures how well; docs/journeys.md gives the figures).
The most telling channels come first: only tech enthusiasts use connected devices, only busy parents
among families text us, only digital natives among the young use the app, traditionalists call.
"""

from __future__ import annotations

from typing import Any

STARTER_PERSONAS: tuple[dict[str, Any], ...] = (
    {
        "key": "tech-enthusiast",
        "name": "Tech enthusiast",
        "order": 10,
        "description": "Early adopters with connected devices who buy the high-end products.",
        "needs": "Expert answers, early access, things that work together.",
        "preferences": "Chat, social media, the app; their devices report for them.",
        "behaviours": "Young professionals and small businesses; some contacts come from connected (IoT) devices.",
        "rules": [
            {"feature": "segment", "op": "in", "value": ["young professional", "small business"]},
            {"feature": "channel_share", "channel": "iot", "op": "gt", "value": 0},
        ],
    },
    {
        "key": "busy-parent",
        "name": "Busy parent",
        "order": 20,
        "description": "Families short of time who reach us on whatever is at hand.",
        "needs": "Quick answers at odd hours, no waiting on hold.",
        "preferences": "Text messages, the app, chat, a call when it is urgent.",
        "behaviours": "Families; some contacts by SMS.",
        "rules": [
            {"feature": "segment", "op": "eq", "value": "family"},
            {"feature": "channel_share", "channel": "sms", "op": "gt", "value": 0},
        ],
    },
    {
        "key": "loyal-traditionalist",
        "name": "Loyal traditionalist",
        "order": 30,
        "description": "Long-standing, often retired customers who call or come to a branch.",
        "needs": "A person who knows their history.",
        "preferences": "The phone and the branch; letters and email for records.",
        "behaviours": "Retired people and families; 40% or more of their contacts by voice.",
        "rules": [
            {"feature": "segment", "op": "in", "value": ["retired", "family"]},
            {"feature": "channel_share", "channel": "voice", "op": "gte", "value": 0.4},
        ],
    },
    {
        "key": "digital-native",
        "name": "Digital native",
        "order": 40,
        "description": "Young customers who live in the app and chat.",
        "needs": "Self-service and quick chats.",
        "preferences": "Chat, the app, social media.",
        "behaviours": "Young professionals and students; some contacts from the mobile app.",
        "rules": [
            {"feature": "segment", "op": "in", "value": ["young professional", "student"]},
            {"feature": "channel_share", "channel": "mobile_app", "op": "gt", "value": 0},
        ],
    },
    {
        "key": "value-seeker",
        "name": "Value seeker",
        "order": 50,
        "description": "Price-conscious customers who compare, write, and buy little.",
        "needs": "A clear price, a good deal, answers in writing.",
        "preferences": "Email and web forms.",
        "behaviours": (
            "Standard or silver tier; retail, students and families; a fifth or more of their contacts by email."
        ),
        "rules": [
            {"feature": "value_tier", "op": "in", "value": ["standard", "silver"]},
            {"feature": "segment", "op": "in", "value": ["retail", "student", "family"]},
            {"feature": "channel_share", "channel": "email", "op": "gte", "value": 0.2},
        ],
    },
    {
        "key": "at-risk-frequent",
        "name": "Frequent and unhappy",
        "order": 60,
        "description": "Customers who contact us often and are not satisfied.",
        "needs": "Their problem solved once, and someone to own it.",
        "preferences": "A callback rather than a queue.",
        "behaviours": "Three or more contacts in 90 days; negative sentiment.",
        "rules": [
            {"feature": "contacts_90d", "op": "gte", "value": 3},
            {"feature": "sentiment", "op": "lte", "value": -0.2},
        ],
    },
    {
        "key": "everyday",
        "name": "Everyday customer",
        "order": 1000,
        "description": "Everyone no other persona describes.",
        "rules": [],
    },
)
