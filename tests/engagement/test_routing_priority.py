"""Priority (who the customer is, how sure we are, how they feel), ageing, and choosing the agent."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from cea.common.channels import Channel
from engagement.context.models import ContextScope
from engagement.context.services import context_write
from engagement.conversations.services import conversation_start
from engagement.orchestration import conversation_escalate
from engagement.routing import engine
from engagement.routing.models import AgentSelection, WorkItem
from engagement.routing.priority import effective_priority, priority_of, rank_of
from records.customers.models import Customer
from tests.engagement.factories import QueueFactory, RoutableAgentFactory, SkillFactory
from tests.engagement.routing_support import pending_offer, waiting
from tests.support import make_customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routing_env")]


def customer(tier="standard", **scores):
    return SimpleNamespace(value_tier=tier, scores=scores)


# --- Points and their reasons -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "points"), [("platinum", 40), ("gold", 25), ("silver", 10), ("standard", 0), ("unknown", 0)]
)
def test_the_value_tier_adds_its_points(tier, points):
    """Platinum 40, gold 25, silver 10; standard and unknown tiers add nothing (and no reason)."""
    # Given / When
    total, reasons = priority_of(base=0, customer=customer(tier), verification_level="anonymous", context={})
    # Then
    assert (total, reasons) == (points, {"value_tier": points} if points else {})


@pytest.mark.parametrize(("level", "points"), [("verified", 10), ("identified", 5), ("anonymous", 0)])
def test_the_verification_level_adds_its_points(level, points):
    """A verified caller goes before an identified one, who goes before an anonymous one."""
    # Given / When
    total, reasons = priority_of(base=0, customer=None, verification_level=level, context={})
    # Then
    assert (total, reasons) == (points, {"verification": points} if points else {})


@pytest.mark.parametrize(
    ("churn_risk", "points"), [(0.5, 15), (1, 30), (2.5, 30), (0.01, 0), (-1, 0), ("high", 0), (True, 0), (None, 0)]
)
def test_churn_risk_from_insights_adds_up_to_30_points(churn_risk, points):
    """``scores.churn_risk`` from 0 to 1 gives 0 to 30 points; out of range is clamped, non-numbers ignored."""
    # Given / When
    total, reasons = priority_of(
        base=0, customer=customer(churn_risk=churn_risk), verification_level="anonymous", context={}
    )
    # Then
    assert (total, reasons.get("churn_risk")) == (points, points or None)


def test_negative_sentiment_adds_points_from_the_customer_s_scores_or_else_the_live_context():
    """Sentiment −1…1: only negative counts (20 × how negative); the customer's score wins over the live one."""
    # Given / When
    scored = priority_of(base=0, customer=customer(sentiment=-0.5), verification_level="", context={"sentiment": -1})
    live = priority_of(base=0, customer=customer(sentiment=0.4), verification_level="", context={"sentiment": -0.75})
    happy = priority_of(base=0, customer=None, verification_level="", context={"sentiment": 0.9})
    furious = priority_of(base=0, customer=None, verification_level="", context={"sentiment": -3})
    # Then
    assert scored == (10, {"sentiment": 10})
    assert live == (15, {"sentiment": 15})
    assert happy == (0, {})
    assert furious == (20, {"sentiment": 20})


@pytest.mark.parametrize(("boost", "points"), [(7, 7), (-12.4, -12), (500, 50), (-500, -50), ("9", 0), (False, 0)])
def test_a_context_priority_boost_is_clamped_to_50_either_way(boost, points):
    """Self-service or an integration may raise or lower priority, by at most 50 points."""
    # Given / When
    total, reasons = priority_of(base=0, customer=None, verification_level="", context={"priority_boost": boost})
    # Then
    assert (total, reasons.get("boost")) == (points, points or None)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf"), 10**400])
def test_numbers_that_are_not_finite_count_for_nothing_and_never_fail(bad):
    """NaN, infinities and integers too big for a float must not stop a contact from queueing."""
    # Given / When
    total, reasons = priority_of(
        base=0,
        customer=customer(churn_risk=bad, sentiment=bad),
        verification_level="",
        context={"priority_boost": bad, "sentiment": bad},
    )
    # Then
    assert (total, reasons) == (0, {})


def test_every_reason_adds_up_with_the_queue_s_base():
    """The priority is the sum of its reasons, each kept so a supervisor sees why."""
    # Given / When
    total, reasons = priority_of(
        base=5,
        customer=customer("gold", churn_risk=0.2, sentiment=-0.25),
        verification_level="verified",
        context={"priority_boost": 3},
    )
    # Then
    assert reasons == {"queue": 5, "value_tier": 25, "churn_risk": 6, "sentiment": 5, "verification": 10, "boost": 3}
    assert total == 54


def test_work_enqueue_reads_the_customer_the_verification_and_the_live_context(team_a):
    """An escalated conversation's item carries the priority of its customer, level and context."""
    # Given: a gold customer at churn risk, identified by the channel, with a boost in the live context
    queue = QueueFactory(name="vip", base_priority=3)
    gold = make_customer(team_a, value_tier="gold")
    Customer.objects.filter(pk=gold.pk).update(scores={"churn_risk": 0.5, "sentiment": 0.3})
    gold.refresh_from_db()
    conversation, _ = conversation_start(channel=Channel.CHAT, customer=gold)
    context_write(actor=None, scope=ContextScope.CONVERSATION, context_id=conversation.pk, values={"priority_boost": 7})
    # When
    conversation_escalate(conversation=conversation, queue="vip")
    # Then
    item = WorkItem.objects.get(conversation=conversation)
    assert item.queue == queue
    assert item.priority_reasons == {"queue": 3, "value_tier": 25, "churn_risk": 15, "verification": 5, "boost": 7}
    assert item.priority == 55
    assert item.rank == pytest.approx(rank_of(priority=55, ageing_per_minute=1.0, enqueued_at=item.enqueued_at))


# --- Ageing -----------------------------------------------------------------------------------


def test_the_rank_orders_items_as_priority_plus_ageing_does_at_any_moment():
    """``effective_priority(rank)`` is the priority plus ``rate`` points per minute waited."""
    # Given
    now = timezone.now()
    rank = rank_of(priority=10, ageing_per_minute=2.0, enqueued_at=now - timedelta(minutes=15))
    # When / Then
    assert effective_priority(rank=rank, ageing_per_minute=2.0, now=now) == pytest.approx(40.0)


def _enqueue_at(queue, *, minutes_ago: float, tier: str = "standard"):
    """An item of a customer of ``tier`` that joined ``queue`` ``minutes_ago``."""
    who = make_customer(value_tier=tier, given_name=f"{tier}-{minutes_ago}")
    conversation, _ = conversation_start(channel=Channel.CHAT, customer=who)
    return engine.work_enqueue(
        conversation=conversation, queue=queue, now=timezone.now() - timedelta(minutes=minutes_ago)
    )


def test_an_old_low_priority_item_eventually_goes_before_a_new_high_priority_one(team_a):
    """At 1 point a minute, a standard item waiting 50 min beats a platinum one (40 points) that just came."""
    # Given: one agent with room for one chat
    queue = QueueFactory(name="sales", ageing_per_minute=1.0)
    only = RoutableAgentFactory(username="only", teams=[team_a], capacity_units=1)
    platinum = _enqueue_at(queue, minutes_ago=0, tier="platinum")
    patient = _enqueue_at(queue, minutes_ago=50)
    # When
    engine.dispatch_queue(queue.pk)
    # Then
    assert platinum.priority - patient.priority == 40
    assert pending_offer(patient).agent == only
    assert WorkItem.objects.get(pk=platinum.pk).status == "waiting"


def test_a_new_high_priority_item_goes_before_one_that_has_not_waited_long_enough(team_a):
    """The same two items, but the standard one has waited 30 min: platinum still goes first."""
    # Given
    queue = QueueFactory(name="sales", ageing_per_minute=1.0)
    RoutableAgentFactory(username="only", teams=[team_a], capacity_units=1)
    patient = _enqueue_at(queue, minutes_ago=30)
    platinum = _enqueue_at(queue, minutes_ago=0, tier="platinum")
    # When
    engine.dispatch_queue(queue.pk)
    # Then
    assert pending_offer(platinum).work_item_id == platinum.pk
    assert list(WorkItem.objects.filter(queue=queue).values_list("pk", flat=True)) == [platinum.pk, patient.pk]


def test_without_ageing_priority_is_strict_and_equal_priorities_go_first_come_first_served(team_a):
    """Ageing 0: a silver item beats older standard ones; among equals the one that came first goes."""
    # Given
    queue = QueueFactory(name="strict", ageing_per_minute=0)
    RoutableAgentFactory(username="only", teams=[team_a], capacity_units=2)
    first = _enqueue_at(queue, minutes_ago=90)
    second = _enqueue_at(queue, minutes_ago=80)
    silver = _enqueue_at(queue, minutes_ago=0, tier="silver")
    # When
    engine.dispatch_queue(queue.pk)
    # Then
    offered = set(WorkItem.objects.filter(status="offered").values_list("pk", flat=True))
    assert offered == {silver.pk, first.pk}
    assert WorkItem.objects.get(pk=second.pk).status == "waiting"


def test_an_agent_asking_for_work_gets_the_best_item_across_their_queues(team_a):
    """``route_agent`` compares queues by priority plus ageing now, each queue at its own rate."""
    # Given: a 20-minute-old standard item in a fast-ageing queue (effective 60) and a platinum
    # one just queued in a slow one (effective 40)
    fast = QueueFactory(name="fast", ageing_per_minute=3.0)
    slow = QueueFactory(name="slow", ageing_per_minute=0.1)
    agent = RoutableAgentFactory(username="both", teams=[team_a])
    old = _enqueue_at(fast, minutes_ago=20)
    _enqueue_at(slow, minutes_ago=0, tier="platinum")
    # When
    offer = engine.route_agent(agent.pk)
    # Then
    assert offer.work_item_id == old.pk


# --- Choosing the agent -----------------------------------------------------------------------


@pytest.fixture
def billing():
    return SkillFactory(name="billing")


def _three_agents(team, skill):
    return {
        "expert_busy_recently": RoutableAgentFactory(username="e1", teams=[team], skills={skill: 5}, idle_minutes=1),
        "expert_idle_long": RoutableAgentFactory(username="e2", teams=[team], skills={skill: 5}, idle_minutes=20),
        "good_idle_longest": RoutableAgentFactory(username="g1", teams=[team], skills={skill: 3}, idle_minutes=60),
    }


def test_longest_idle_picks_the_agent_idle_longest_whatever_their_proficiency(team_a, billing):
    """Selection ``longest_idle``: among matching agents the one idle 60 min goes first."""
    # Given
    queue = QueueFactory(name="billing", selection=AgentSelection.LONGEST_IDLE, steps=[{"skill": billing}])
    agents = _three_agents(team_a, billing)
    item = waiting(queue)
    # When
    engine.dispatch_queue(queue.pk)
    # Then
    assert pending_offer(item).agent == agents["good_idle_longest"]


def test_best_proficiency_picks_the_most_skilled_then_the_longest_idle_of_them(team_a, billing):
    """Selection ``best_proficiency``: the two 5s beat the 3; of the 5s the one idle 20 min goes first."""
    # Given
    queue = QueueFactory(name="billing", selection=AgentSelection.BEST_PROFICIENCY, steps=[{"skill": billing}])
    agents = _three_agents(team_a, billing)
    first, second, third = waiting(queue, age_seconds=3), waiting(queue, age_seconds=2), waiting(queue, age_seconds=1)
    # When: each offer makes its agent the most recently busy
    engine.dispatch_queue(queue.pk)
    # Then
    assert pending_offer(first).agent == agents["expert_idle_long"]
    assert pending_offer(second).agent == agents["expert_busy_recently"]
    assert pending_offer(third).agent == agents["expert_idle_long"]


def test_best_proficiency_without_a_skill_falls_back_to_longest_idle(team_a, billing):
    """A step that asks for no skill has no proficiency to compare: longest idle decides."""
    # Given
    queue = QueueFactory(name="any", selection=AgentSelection.BEST_PROFICIENCY)
    agents = _three_agents(team_a, billing)
    item = waiting(queue)
    # When
    engine.dispatch_queue(queue.pk)
    # Then
    assert pending_offer(item).agent == agents["good_idle_longest"]
