"""Persona rules: each feature kind, first match in order, reasons in words, validation of rules."""

from __future__ import annotations

import pytest
from django.utils import timezone

from insights.personas.assignment import RuledPersona, personas_place
from insights.personas.features import behaviour_frame
from insights.personas.rules import CATCH_ALL_REASON, Condition, rules_problems
from tests.insights.personas_support import customer_with

pytestmark = pytest.mark.django_db


def placed(customers, *personas):
    frame = behaviour_frame(now=timezone.now(), customer_ids=[customer.pk for customer in customers])
    ruled = [RuledPersona(key=key, conditions=tuple(Condition.of(rule) for rule in rules)) for key, rules in personas]
    return personas_place(personas=ruled, frame=frame)


@pytest.mark.parametrize(
    ("rule", "matching", "other", "reason"),
    [
        ({"feature": "segment", "op": "eq", "value": "smb"}, {"segment": "smb"}, {"segment": "retail"}, "segment smb"),
        (
            {"feature": "value_tier", "op": "in", "value": ["gold", "platinum"]},
            {"value_tier": "gold"},
            {"value_tier": "silver"},
            "value tier gold",
        ),
        ({"feature": "language", "op": "ne", "value": "en"}, {"language": "fr"}, {"language": "en"}, "language fr"),
        ({"feature": "country", "op": "eq", "value": "GB"}, {"country": "GB"}, {"country": "FR"}, "country GB"),
        (
            {"feature": "attribute", "key": "plan", "op": "eq", "value": "premium"},
            {"custom_attributes": {"plan": "premium"}},
            {"custom_attributes": {"plan": "basic"}},
            "plan premium",
        ),
        (
            {"feature": "attribute", "key": "loyalty_id", "op": "exists"},
            {"custom_attributes": {"loyalty_id": "L1"}},
            {"custom_attributes": {}},
            "loyalty id L1",
        ),
        (
            {"feature": "holdings", "kind": "account", "op": "gte", "value": 2},
            {"holdings": {"account": 2}},
            {"holdings": {"account": 1, "order": 3}},
            "2 account holdings",
        ),
        (
            {"feature": "holdings", "kind": "any", "op": "eq", "value": 0},
            {},
            {"holdings": {"order": 1}},
            "0 holdings",
        ),
        (
            {"feature": "holdings_balance", "op": "gt", "value": 1000},
            {"holdings": {"account": 2}, "amount": "750.00"},
            {"holdings": {"account": 1}, "amount": "750.00"},
            "holdings balance 1,500.00",
        ),
        (
            {"feature": "channel_share", "channel": "chat", "op": "gte", "value": 0.6},
            {"contacts": {"chat": 5, "voice": 3}},
            {"contacts": {"chat": 2, "voice": 3}},
            "62% of contacts on chat",
        ),
        (
            {"feature": "contacts_90d", "op": "gte", "value": 3},
            {"contacts": {"voice": 3}, "days_ago": 30},
            {"contacts": {"voice": 3}, "days_ago": 120},
            "3 contacts in the last 90 days",
        ),
        (
            {"feature": "tenure_days", "op": "lt", "value": 30},
            {"age_days": 12},
            {"age_days": 400},
            "customer for 12 days",
        ),
        (
            {"feature": "sentiment", "op": "lte", "value": -0.3},
            {"sentiment": -0.55},
            {"sentiment": 0.2},
            "sentiment -0.55",
        ),
    ],
)
def test_each_feature_kind_places_the_customers_it_describes_and_says_why(rule, matching, other, reason):
    # Given a customer the rule describes and one it does not
    inside = customer_with(**matching)
    outside = customer_with(**other)
    # When the persona's rules are tried on both
    result = placed([inside, outside], ("p", [rule]))
    # Then only the first is placed, with the reason in words
    assert result[inside.pk] == ("p", (reason,))
    assert result[outside.pk] == ("", ())


def test_a_customer_without_sentiment_or_contacts_never_matches_a_number_on_them():
    # Given a customer with no sentiment score and no contacts
    customer = customer_with()
    # When rules test sentiment and a channel's share (below a line)
    result = placed(
        [customer],
        ("low-sentiment", [{"feature": "sentiment", "op": "lte", "value": 1}]),
        ("no-chat", [{"feature": "channel_share", "channel": "chat", "op": "lte", "value": 0.5}]),
    )
    # Then neither holds: an unknown value is not a small one
    assert result[customer.pk] == ("", ())


def test_the_first_matching_persona_in_order_wins_and_all_conditions_must_hold():
    # Given a gold chat customer, a gold voice customer and a standard one
    gold_chat = customer_with(value_tier="gold", contacts={"chat": 4})
    gold_voice = customer_with(value_tier="gold", contacts={"voice": 4})
    standard = customer_with(value_tier="standard", contacts={"chat": 1})
    gold = {"feature": "value_tier", "op": "in", "value": ["gold", "platinum"]}
    chat = {"feature": "channel_share", "channel": "chat", "op": "gte", "value": 0.5}
    # When three personas are tried in order: gold and chat, gold, everyone
    result = placed([gold_chat, gold_voice, standard], ("digital-vip", [gold, chat]), ("vip", [gold]), ("everyone", []))
    # Then each gets the first whose conditions all hold, with every condition's reason
    assert result[gold_chat.pk] == ("digital-vip", ("value tier gold", "100% of contacts on chat"))
    assert result[gold_voice.pk] == ("vip", ("value tier gold",))
    assert result[standard.pk] == ("everyone", (CATCH_ALL_REASON,))


def test_valid_rules_have_no_problems():
    assert (
        rules_problems(
            [
                {"feature": "value_tier", "op": "in", "value": ["gold"]},
                {"feature": "channel_share", "channel": "chat", "op": "gte", "value": 0.5},
                {"feature": "holdings", "kind": "any", "op": "gte", "value": 1},
                {"feature": "attribute", "key": "plan", "op": "exists"},
            ]
        )
        == []
    )


@pytest.mark.parametrize(
    ("rules", "problem"),
    [
        ({"feature": "segment"}, "Rules are a list of conditions."),
        (["segment"], "Condition 1 is not an object with feature, op and value."),
        (
            [{"feature": "colour", "op": "eq", "value": "red"}],
            "Condition 1 has an unknown feature 'colour'; choose one of segment, value_tier",
        ),
        (
            [{"feature": "tenure_days", "op": "in", "value": [3]}],
            "Condition 1 (tenure_days) has the operator 'in'; tenure_days takes one of eq, gt, gte, lt, lte.",
        ),
        (
            [{"feature": "value_tier", "op": "eq", "value": "diamond"}],
            "Condition 1 (value_tier) takes one of standard, silver, gold, platinum: 'diamond'.",
        ),
        (
            [{"feature": "channel_share", "op": "gte", "value": 0.5}],
            "Condition 1 (channel_share) needs a channel.",
        ),
        (
            [{"feature": "channel_share", "channel": "pigeon", "op": "gte", "value": 0.5}],
            "Condition 1 (channel_share) has the channel 'pigeon'; choose one of voice",
        ),
        (
            [{"feature": "channel_share", "channel": "chat", "op": "gte", "value": 62}],
            "Condition 1 (channel_share) takes a number of at most 1: 62.",
        ),
        (
            [{"feature": "contacts_90d", "op": "gte", "value": "3"}],
            "Condition 1 (contacts_90d) takes a number: '3'.",
        ),
        (
            [{"feature": "contacts_90d", "op": "gte", "value": 2.5}],
            "Condition 1 (contacts_90d) takes a whole number: 2.5.",
        ),
        (
            [{"feature": "segment", "op": "in", "value": []}],
            "Condition 1 (segment) 'in' takes a non-empty list of texts: [].",
        ),
        (
            [{"feature": "segment", "op": "eq", "value": "smb", "colour": "red"}],
            "Condition 1 (segment) has unknown fields: colour.",
        ),
        (
            [{"feature": "segment", "op": "eq", "value": "smb"}, {"feature": "sentiment", "op": "gte"}],
            "Condition 2 (sentiment) needs a value.",
        ),
    ],
)
def test_invalid_rules_are_explained(rules, problem):
    problems = rules_problems(rules)
    assert len(problems) == 1
    assert problems[0].startswith(problem)
