"""Routing rules: validation of a queue's bullseye steps, and how they widen as an item ages."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from cea.common.errors import ValidationFailed
from engagement.conversations.services import conversation_start
from engagement.orchestration import conversation_escalate
from engagement.routing import engine, tasks, work
from engagement.routing.models import FlowOutReason, OfferStatus, QueueFlowOut, WorkItem, WorkStatus
from engagement.routing.rules import ANY_AGENT, Step, queue_steps, step_at, step_start, steps_validate
from engagement.routing.sweep import routing_sweep
from tests.engagement.factories import QueueFactory, RoutableAgentFactory, RoutingStepFactory, SkillFactory
from tests.engagement.routing_support import age, fresh, pending_offer, waiting

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routing_env")]


def step(position=0, until=None, skill=None, proficiency=1, overflow=None) -> Step:
    return Step(
        position=position, until_seconds=until, skill_id=skill, min_proficiency=proficiency, overflow_to_id=overflow
    )


# --- Validation -------------------------------------------------------------------------------


def test_the_issue_s_bullseye_is_valid():
    """Skill 4+ for 20 s, then 2+ until 60 s, then overflow to another (active) queue."""
    # Given
    other = QueueFactory(name="overflow")
    billing = SkillFactory(name="billing")
    steps = [step(0, 20, billing.pk, 4), step(1, 60, billing.pk, 2), step(2, overflow=other.pk)]
    # When / Then: no error
    assert steps_validate(steps, queue_id=other.pk + 1) is None


def test_no_steps_and_one_open_ended_step_are_valid():
    """A queue without rules routes to any agent; a single step without a limit holds for ever."""
    # Given / When / Then
    assert steps_validate([]) is None
    assert steps_validate([step(0, None, 7, 3)]) is None
    assert steps_validate([step(0, 30, 7, 3)]) is None


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([step(0, None, 1, 4), step(1, 60, 1, 2)], "Step 1 has no time limit"),
        ([step(0, 20, 1, 4), step(1, 20, 1, 2)], "Step 2 ends at 20 s, which is not after the step before it (20 s)"),
        ([step(0, 30, 1, 4), step(1, 10, 1, 2)], "Step 2 ends at 10 s"),
        ([step(0, 0, 1, 4)], "Step 1 ends at 0 s"),
        ([step(0, 20, 1, 0)], "Step 1: proficiency is from 1 to 5"),
        ([step(0, 20, 1, 6)], "Step 1: proficiency is from 1 to 5"),
    ],
)
def test_steps_that_break_a_rule_are_refused_naming_the_step(steps, message):
    """Limits must grow step by step, only the last step may be open-ended, proficiency is 1 to 5."""
    # Given: the steps
    # When / Then
    with pytest.raises(ValidationFailed) as refused:
        steps_validate(steps)
    assert message in refused.value.message


def test_an_overflow_step_must_be_last_to_another_active_queue_without_a_skill():
    """Each broken overflow rule is named: not last, own queue, with a skill, closed or unknown target."""
    # Given
    queue, other = QueueFactory(name="main"), QueueFactory(name="other")
    closed = QueueFactory(name="closed", is_active=False)
    cases = [
        ([step(0, overflow=other.pk), step(1, 20, 1, 2)], "Step 1 overflows to another queue: it must be the last"),
        ([step(0, 20, 1, 2), step(1, overflow=queue.pk)], "Step 2 overflows to its own queue"),
        ([step(0, 20, 1, 2), step(1, skill=1, overflow=other.pk)], "Step 2 overflows: it cannot also ask for a skill"),
        ([step(0, 20, 1, 2), step(1, overflow=closed.pk)], "Step 2 overflows to a queue that does not exist or is"),
        ([step(0, 20, 1, 2), step(1, overflow=other.pk + 1000)], "does not exist or is closed"),
    ]
    for steps, message in cases:
        # When / Then
        with pytest.raises(ValidationFailed) as refused:
            steps_validate(steps, queue_id=queue.pk)
        assert message in refused.value.message, steps


def test_the_database_refuses_a_proficiency_outside_1_to_5():
    """The console's validators aside, a check constraint keeps proficiency in range."""
    # Given
    queue = QueueFactory(name="billing")
    # When / Then
    with pytest.raises(IntegrityError), transaction.atomic():
        RoutingStepFactory(queue=queue, position=0, min_proficiency=9)


# --- Which step holds at an age ---------------------------------------------------------------

BULLSEYE = [step(0, 20, 1, 4), step(1, 60, 1, 2), step(2, overflow=99)]


@pytest.mark.parametrize(
    ("age_seconds", "index"),
    [(0, 0), (19.99, 0), (20, 1), (59.99, 1), (60, 2), (3600, 2)],
)
def test_the_step_holding_is_chosen_by_the_item_s_age(age_seconds, index):
    """Step 1 holds for [0, 20) s, step 2 for [20, 60) s, the overflow from 60 s on."""
    # Given: the bullseye
    # When
    held = step_at(BULLSEYE, age_seconds)
    # Then
    assert held == (index, BULLSEYE[index])


def test_past_the_last_limit_the_last_step_keeps_holding_and_no_steps_means_any_agent():
    """A queue whose rules all end still routes, to the last step's agents; no rules: anyone."""
    # Given
    steps = [step(0, 20, 1, 4), step(1, 60, 1, 2)]
    # When / Then
    assert step_at(steps, 61) == (1, steps[1])
    assert step_at([], 5) == (0, ANY_AGENT)
    assert [step_start(BULLSEYE, index) for index in range(3)] == [0, 20, 60]


def test_queue_steps_come_in_position_order():
    """Steps are read in ``position`` order, whatever order they were made in."""
    # Given
    queue = QueueFactory(name="billing")
    skill = SkillFactory(name="billing")
    RoutingStepFactory(queue=queue, position=1, until_seconds=60, skill=skill, min_proficiency=2)
    RoutingStepFactory(queue=queue, position=0, until_seconds=20, skill=skill, min_proficiency=4)
    # When
    steps = queue_steps(queue)
    # Then
    assert [(s.position, s.until_seconds, s.min_proficiency) for s in steps] == [(0, 20, 4), (1, 60, 2)]


# --- Widening, measured against the item's age ------------------------------------------------


@pytest.fixture
def bullseye(team_a, team_b):
    """The issue's queue: billing 4+ for 20 s, billing 2+ until 60 s, then overflow to team B's queue."""
    billing = SkillFactory(name="billing")
    overflow = QueueFactory(name="overflow", team=team_b)
    queue = QueueFactory(
        name="billing",
        steps=[
            {"until_seconds": 20, "skill": billing, "min_proficiency": 4},
            {"until_seconds": 60, "skill": billing, "min_proficiency": 2},
            {"overflow_to": overflow},
        ],
    )
    return queue, overflow, billing


def test_a_new_item_is_offered_only_to_an_expert(bullseye, team_a):
    """Step 1: only billing 4+ agents; the proficient-enough-later agent is passed over."""
    # Given
    queue, _, billing = bullseye
    junior = RoutableAgentFactory(username="junior", teams=[team_a], skills={billing: 3}, idle_minutes=60)
    expert = RoutableAgentFactory(username="expert", teams=[team_a], skills={billing: 4}, idle_minutes=1)
    item = waiting(queue, age_seconds=5)
    # When
    offers = engine.dispatch_queue(queue.pk)
    # Then
    offer = pending_offer(item)
    assert (offers, offer.agent, offer.step) == (1, expert, 0)
    assert fresh(junior).load_units == 0


def test_the_rules_widen_to_proficiency_2_at_20_seconds(bullseye, team_a):
    """With only a billing-3 agent free, a 19 s old item waits; at 21 s step 2 lets them in."""
    # Given
    queue, _, billing = bullseye
    junior = RoutableAgentFactory(username="junior", teams=[team_a], skills={billing: 3})
    RoutableAgentFactory(username="novice", teams=[team_a], skills={billing: 1})
    item = waiting(queue, age_seconds=19)
    # When
    too_early = engine.dispatch_queue(queue.pk)
    # Then
    assert (too_early, fresh(item).status) == (0, WorkStatus.WAITING)
    # When: two more seconds
    age(item, 2)
    offers = engine.dispatch_queue(queue.pk)
    # Then
    offer = pending_offer(item)
    assert (offers, offer.agent, offer.step) == (1, junior, 1)


def test_after_60_seconds_the_item_overflows_to_the_other_queue(bullseye, team_a, team_b):
    """Step 3 moves the item to the overflow queue, where its own rules (any team B agent) apply."""
    # Given: nobody in billing with the skill is free, a team B generalist is
    queue, overflow, billing = bullseye
    RoutableAgentFactory(username="novice", teams=[team_a], skills={billing: 1})
    generalist = RoutableAgentFactory(username="generalist", teams=[team_b])
    item = waiting(queue, age_seconds=61)
    enqueued_at = item.enqueued_at
    # When
    engine.dispatch_queue(queue.pk)
    # Then: it moved, its clock in the new queue restarted, its first wait did not
    item = fresh(item)
    assert (item.queue, item.status, item.enqueued_at) == (overflow, WorkStatus.WAITING, enqueued_at)
    assert item.entered_queue_at > enqueued_at
    # and it flowed out of the first queue, unanswered, when it moved (insights counts it there)
    [flow_out] = QueueFlowOut.objects.filter(work_item=item).values_list(
        "from_queue", "to_queue", "reason", "entered_queue_at", "flowed_out_at"
    )
    assert flow_out == (queue.pk, overflow.pk, FlowOutReason.OVERFLOW, enqueued_at, item.entered_queue_at)
    # When
    offers = engine.dispatch_queue(overflow.pk)
    # Then
    assert (offers, pending_offer(item).agent) == (1, generalist)


def test_an_agent_asking_for_work_gets_an_item_only_once_its_step_lets_them_in(bullseye, team_a):
    """``route_agent`` applies the same rules: a billing-3 agent pulls the item at 25 s, not at 10 s."""
    # Given
    queue, _, billing = bullseye
    junior = RoutableAgentFactory(username="junior", teams=[team_a], skills={billing: 3})
    item = waiting(queue, age_seconds=10)
    # When
    early = engine.route_agent(junior.pk)
    # Then
    assert early is None
    # When
    age(item, 15)
    offer = engine.route_agent(junior.pk)
    # Then
    assert (offer.work_item_id, offer.step, offer.status) == (item.pk, 1, OfferStatus.PENDING)


def test_an_agent_with_too_little_skill_never_pulls_the_item(bullseye, team_a):
    """A billing-1 agent matches no step: at 5 s, 30 s and past the overflow they get nothing."""
    # Given
    queue, _, billing = bullseye
    novice = RoutableAgentFactory(username="novice", teams=[team_a], skills={billing: 1})
    item = waiting(queue, age_seconds=5)
    for seconds in (0, 25, 60):
        # When
        age(item, seconds)
        offer = engine.route_agent(novice.pk)
        # Then
        assert offer is None
    assert fresh(item).status == WorkStatus.WAITING


def test_the_last_step_keeps_holding_after_its_limit(team_a):
    """Without an overflow step, a 10-minute-old item still goes to billing 2+ agents, never to 1."""
    # Given
    billing = SkillFactory(name="billing")
    queue = QueueFactory(
        name="billing",
        steps=[
            {"until_seconds": 20, "skill": billing, "min_proficiency": 4},
            {"until_seconds": 60, "skill": billing, "min_proficiency": 2},
        ],
    )
    novice = RoutableAgentFactory(username="novice", teams=[team_a], skills={billing: 1})
    junior = RoutableAgentFactory(username="junior", teams=[team_a], skills={billing: 2})
    pushed, pulled = waiting(queue, age_seconds=600), waiting(queue, age_seconds=600)
    # When
    assert engine.route_agent(novice.pk) is None
    offers = engine.dispatch_queue(queue.pk)
    # Then: one decision per item, both to the junior (capacity 4)
    assert offers == 2
    assert {pending_offer(pushed).agent, pending_offer(pulled).agent} == {junior}
    assert (pending_offer(pushed).step, fresh(junior).load_units) == (1, 2)


def test_the_sweep_routes_an_item_whose_rules_widened(bullseye, team_a):
    """Widening needs no trigger: the periodic sweep finds the item that has become routable."""
    # Given: an item that only just became routable to the one free agent
    queue, _, billing = bullseye
    junior = RoutableAgentFactory(username="junior", teams=[team_a], skills={billing: 2})
    item = waiting(queue, age_seconds=30)
    # When
    done = routing_sweep()
    # Then
    assert done["offers"] == 1
    assert pending_offer(item).agent == junior


def test_a_team_queue_is_routed_only_to_its_team(team_a, team_b):
    """A queue of team A never offers its work to an agent of team B."""
    # Given
    queue = QueueFactory(name="team-a", team=team_a)
    outsider = RoutableAgentFactory(username="outsider", teams=[team_b], idle_minutes=90)
    insider = RoutableAgentFactory(username="insider", teams=[team_a], idle_minutes=1)
    item = waiting(queue)
    # When
    assert engine.route_agent(outsider.pk) is None
    engine.dispatch_queue(queue.pk)
    # Then
    assert pending_offer(item).agent == insider


def test_an_item_that_overflows_while_an_agent_looks_at_it_is_not_offered_to_them(bullseye, team_a, monkeypatch):
    """``route_agent`` looks, then locks: an item moved to a queue the agent does not serve in between
    (another worker overflowed it) is not offered to them."""
    # Given: a billing-5 agent of team A, an item they match; the overflow queue is team B's
    queue, overflow, billing = bullseye
    expert = RoutableAgentFactory(username="expert", teams=[team_a], skills={billing: 5})
    item = waiting(queue, age_seconds=5)
    look = engine._best_item_for

    def look_then_overflow(agent, now, **kwargs):
        seen = look(agent, now, **kwargs)
        WorkItem.objects.filter(pk=item.pk).update(queue=overflow, entered_queue_at=now)
        return seen

    monkeypatch.setattr(engine, "_best_item_for", look_then_overflow)
    # When
    offer = engine.route_agent(expert.pk)
    # Then
    assert offer is None
    assert (fresh(item).status, fresh(expert).load_units) == (WorkStatus.WAITING, 0)


def test_queues_that_overflow_at_once_into_one_another_are_refused():
    """A → B at age 0 and B → C → A at age 0 would move work round for ever; later overflows are fine."""
    # Given: B overflows at once to C, C at once to A
    a, b, c = QueueFactory(name="a"), QueueFactory(name="b"), QueueFactory(name="c")
    RoutingStepFactory(queue=b, position=0, overflow_to=c)
    RoutingStepFactory(queue=c, position=0, overflow_to=a)
    # When / Then: A overflowing at once to B closes the loop
    with pytest.raises(ValidationFailed) as refused:
        steps_validate([step(0, overflow=b.pk)], queue_id=a.pk)
    assert "go round for ever" in refused.value.message
    # but A overflowing after 30 s of waiting for its own agents does not
    assert steps_validate([step(0, 30, None, 1), step(1, overflow=b.pk)], queue_id=a.pk) is None
    # and neither does an immediate overflow to a queue that keeps its work
    assert steps_validate([step(0, overflow=QueueFactory(name="d").pk)], queue_id=a.pk) is None


@pytest.mark.parametrize("name", ["no-such-queue", "closed", ""])
def test_work_for_an_unknown_or_closed_queue_goes_to_the_general_queue(name):
    """A contact is never dropped for a typo or a queue closed meanwhile: it waits in ``general``."""
    # Given
    QueueFactory(name="closed", is_active=False)
    conversation, _ = conversation_start(channel="chat", visitor="typo")
    # When
    conversation_escalate(conversation=conversation, queue=name)
    item = conversation.work_items.get()
    # Then
    assert (item.queue.name, item.status) == ("general", WorkStatus.WAITING)


def test_routing_tasks_are_idempotent(team_a):
    """Running a routing task twice makes no second offer (Celery may deliver a task twice)."""
    # Given
    queue = QueueFactory(name="support")
    agent = RoutableAgentFactory(username="solo", teams=[team_a])
    item = waiting(queue)
    # When
    results = [tasks.route_queue(queue.pk), tasks.route_queue(queue.pk), tasks.route_agent(agent.pk)]
    # Then
    assert results == [1, 0, False]
    assert item.offers.count() == 1
    assert fresh(agent).load_units == 1


def test_kick_on_commit_sends_the_registered_routing_tasks_after_commit(
    monkeypatch, django_capture_on_commit_callbacks
):
    """``kick_on_commit`` names the tasks rather than importing them: the names are the tasks'."""
    # Given: the routing tasks' sends recorded
    sent: list[tuple[str, tuple]] = []
    for task in (tasks.route_queue, tasks.route_agent):
        monkeypatch.setattr(
            task, "apply_async", lambda args, kwargs=None, name=task.name, **options: sent.append((name, args))
        )
    # When: queues 3, 1, 3 and agent 7 are kicked
    with django_capture_on_commit_callbacks(execute=True):
        work.kick_on_commit(queue_ids=[3, 1, 3], agent_ids=[7])
        assert sent == []  # nothing before the commit
    # Then: each queue once, in order, then the agent
    assert sent == [(tasks.ROUTE_QUEUE_TASK, (1,)), (tasks.ROUTE_QUEUE_TASK, (3,)), (tasks.ROUTE_AGENT_TASK, (7,))]
    assert (tasks.route_queue.name, tasks.route_agent.name) == (work.ROUTE_QUEUE_TASK, work.ROUTE_AGENT_TASK)
