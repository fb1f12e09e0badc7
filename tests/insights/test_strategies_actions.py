"""Strategy actions: a case through records' service, a priority boost that routing really adds."""

from __future__ import annotations

import pytest

from cea.common.channels import Channel
from engagement.context.models import ContextScope
from engagement.context.services import context_read, context_write
from engagement.conversations.services import conversation_start
from engagement.orchestration import conversation_escalate
from engagement.routing.models import WorkItem
from insights.strategies.actions import ACTIONS
from insights.strategies.evaluation import firings_act
from insights.strategies.models import ActionKind, StrategyFiring
from records.cases.models import Case
from tests.engagement.factories import QueueFactory
from tests.insights.strategy_support import NOON, customer, evaluate, event, strategy

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("wallboard_env", "eager_tasks")]


def test_every_action_kind_has_an_executor():
    assert set(ACTIONS) == set(ActionKind.values)


def test_a_case_action_opens_a_case_for_the_customer_in_their_team(team_a):
    s = strategy(action_kind="case", action_params={"subject": "Check the new account is set up"})
    alice = customer(team_a)
    (firing,) = evaluate(event(alice), now=NOON)
    case = Case.objects.get(customer=alice)
    assert (case.subject, case.team_id) == ("Check the new account is set up", team_a.pk)
    assert firing.outcome == "fired"
    assert StrategyFiring.objects.get(strategy=s).reason == f"case {case.reference}"


def test_a_priority_boost_raises_the_customer_s_next_contact_in_the_queue(team_a):
    # Given a strategy boosting by 20 points for 2 hours, fired for Alice
    QueueFactory(name="general-boost", base_priority=0)
    strategy(action_params={"points": 20, "ttl_hours": 2})
    alice = customer(team_a)
    bob = customer(team_a)
    evaluate(event(alice), now=NOON)
    assert context_read(scope=ContextScope.CUSTOMER, context_id=alice.pk).values["priority_boost"] == 20
    # When both contact the centre and are queued
    items = {}
    for person in (alice, bob):
        conversation, _ = conversation_start(channel=Channel.CHAT, customer=person)
        conversation_escalate(conversation=conversation, queue="general-boost")
        items[person.pk] = WorkItem.objects.get(conversation=conversation)
    # Then Alice's item carries the boost and goes before Bob's
    assert items[alice.pk].priority_reasons.get("boost") == 20
    assert "boost" not in items[bob.pk].priority_reasons
    assert items[alice.pk].priority == items[bob.pk].priority + 20


def test_a_conversation_s_own_boost_wins_over_the_customer_s(team_a):
    QueueFactory(name="general-boost", base_priority=0)
    alice = customer(team_a)
    context_write(actor=None, scope=ContextScope.CUSTOMER, context_id=alice.pk, values={"priority_boost": 30})
    conversation, _ = conversation_start(channel=Channel.CHAT, customer=alice)
    context_write(actor=None, scope=ContextScope.CONVERSATION, context_id=conversation.pk, values={"priority_boost": 5})
    conversation_escalate(conversation=conversation, queue="general-boost")
    assert WorkItem.objects.get(conversation=conversation).priority_reasons.get("boost") == 5


def test_the_action_task_acts_once_per_firing_however_often_it_is_sent(team_a):
    strategy(action_kind="case", action_params={"subject": "Only once"})
    alice = customer(team_a)
    (firing,) = evaluate(event(alice), now=NOON)
    assert firings_act(firing_ids=[firing.pk]) == 0  # the task sent on commit did it already
    assert Case.objects.filter(customer=alice, subject="Only once").count() == 1
