"""A starter set of personas for a new deployment (and the demo): added by ``personas_assign --starter``
where no definition of the same key exists, then edited in the console like any other."""

from __future__ import annotations

from typing import Any

STARTER_PERSONAS: tuple[dict[str, Any], ...] = (
    {
        "key": "premium-digital",
        "name": "Premium digital",
        "order": 10,
        "description": "High-value customers who prefer to write rather than call.",
        "needs": "Fast, competent answers without having to call.",
        "preferences": "Chat and messaging; proactive notifications.",
        "behaviours": "Gold or platinum; most contacts on chat.",
        "rules": [
            {"feature": "value_tier", "op": "in", "value": ["gold", "platinum"]},
            {"feature": "channel_share", "channel": "chat", "op": "gte", "value": 0.5},
        ],
    },
    {
        "key": "loyal-traditionalist",
        "name": "Loyal traditionalist",
        "order": 20,
        "description": "Long-standing customers who call.",
        "needs": "A person who knows their history.",
        "preferences": "The phone; letters and email for records.",
        "behaviours": "Customers for three years or more; most contacts by voice.",
        "rules": [
            {"feature": "tenure_days", "op": "gte", "value": 1095},
            {"feature": "channel_share", "channel": "voice", "op": "gte", "value": 0.5},
        ],
    },
    {
        "key": "at-risk-frequent",
        "name": "Frequent and unhappy",
        "order": 30,
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
        "key": "digital-native",
        "name": "Digital native",
        "order": 40,
        "description": "Customers who mostly use chat.",
        "needs": "Self-service and quick chats.",
        "preferences": "Chat, the app, the web.",
        "behaviours": "Half or more of their contacts on chat.",
        "rules": [{"feature": "channel_share", "channel": "chat", "op": "gte", "value": 0.5}],
    },
    {
        "key": "everyday",
        "name": "Everyday customer",
        "order": 1000,
        "description": "Everyone no other persona describes.",
        "rules": [],
    },
)
