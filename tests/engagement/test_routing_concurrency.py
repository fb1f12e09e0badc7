"""Many workers routing at once against real PostgreSQL: one agent per item, nobody over capacity, nothing stranded.

Threads (each with its own database connection) dispatch queues, pull work for agents, answer
offers, time them out, wrap up, transfer and flip presence all at the same time, with no sleeps and
no timing assertions. Processes (separate connections after a fork) do the same for the routing
decisions themselves. Afterwards the rows must agree with one another, and one sweep must leave no
item waiting that a free agent could take.
"""

from __future__ import annotations

import multiprocessing
import random
import threading
import traceback
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from cea.common.channels import Channel
from cea.common.errors import Conflict, PermissionDenied
from engagement.conversations.models import Conversation, ConversationStatus
from engagement.orchestration import conversation_transfer, conversation_wrap_up
from engagement.routing import engine, presence, tasks
from engagement.routing.models import (
    LOADED_WORK,
    AgentProfile,
    Offer,
    OfferStatus,
    Presence,
    Queue,
    WorkItem,
    WorkStatus,
)
from engagement.routing.offers import offer_accept, offer_expire, offer_reject
from engagement.routing.presence import presence_set
from engagement.routing.priority import rank_of
from engagement.routing.sweep import routing_sweep
from tests.engagement.factories import AgentProfileFactory, QueueFactory, RoutableAgentFactory
from tests.engagement.routing_support import loaded_units, pending_offer, waiting

pytestmark = pytest.mark.usefixtures("routing_env")

ITEMS = 200
VOICE_ITEMS = 30
AGENTS = 30


def _floor(seed: int, *, unavailable_on_timeout: bool = True) -> tuple[Queue, list[AgentProfile]]:
    """``ITEMS`` waiting items (some calls) in one queue, and ``AGENTS`` available agents of capacity 4:
    most take every channel, five chat only, five calls only."""
    rng = random.Random(seed)
    queue = QueueFactory(name="floor", offer_timeout_seconds=600, unavailable_on_timeout=unavailable_on_timeout)
    agents = []
    for n in range(AGENTS):
        channels = [Channel.CHAT] if 20 <= n < 25 else [Channel.VOICE] if n >= 25 else []
        agents.append(
            AgentProfileFactory(
                username=f"floor-agent-{n}",
                presence=Presence.AVAILABLE,
                capacity_units=4,
                channels=channels,
                idle_since=timezone.now() - timedelta(minutes=rng.randint(0, 120)),
            )
        )
    channels = [Channel.VOICE] * VOICE_ITEMS + [Channel.CHAT] * (ITEMS - VOICE_ITEMS)
    rng.shuffle(channels)
    conversations = Conversation.objects.bulk_create(
        Conversation(channel=channel, status=ConversationStatus.QUEUED, queue="floor", visitor=f"floor-{n}")
        for n, channel in enumerate(channels)
    )
    now = timezone.now()
    items = []
    for conversation in conversations:
        priority = rng.choice([0, 0, 5, 10, 25, 40])
        enqueued_at = now - timedelta(seconds=rng.randint(0, 600))
        items.append(
            WorkItem(
                conversation=conversation,
                queue=queue,
                channel=conversation.channel,
                units=engine.units_for(conversation.channel),
                priority=priority,
                rank=rank_of(priority=priority, ageing_per_minute=queue.ageing_per_minute, enqueued_at=enqueued_at),
                enqueued_at=enqueued_at,
                entered_queue_at=enqueued_at,
            )
        )
    WorkItem.objects.bulk_create(items)
    return queue, agents


def _run_together(workers) -> list[str]:
    """Start every worker at once (a barrier), wait for all; return the tracebacks of those that failed."""
    barrier = threading.Barrier(len(workers))
    errors: list[str] = []

    def run(work):
        try:
            barrier.wait()
            work()
        except Exception:
            errors.append(traceback.format_exc())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(work,)) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def _assert_consistent(queue: Queue) -> None:
    """Rows agree: one live offer per item, offers match items, loads match work and stay within capacity."""
    live = Counter(
        Offer.objects.filter(status__in=(OfferStatus.PENDING, OfferStatus.ACCEPTED), work_item__status__in=LOADED_WORK)
        .values_list("work_item_id", flat=True)
        .iterator()
    )
    assert not [item for item, count in live.items() if count > 1]
    for item in WorkItem.objects.filter(status=WorkStatus.OFFERED):
        offer = Offer.objects.get(work_item=item, status=OfferStatus.PENDING)
        assert offer.agent_id == item.agent_id
    for item in WorkItem.objects.filter(status__in=(WorkStatus.ASSIGNED, WorkStatus.WRAP_UP)).select_related(
        "conversation", "agent"
    ):
        assert Offer.objects.filter(work_item=item, status=OfferStatus.ACCEPTED, agent_id=item.agent_id).count() == 1
        if item.status == WorkStatus.ASSIGNED:
            assert (item.conversation.status, item.conversation.agent_id) == ("active", item.agent.user_id)
    assert not Offer.objects.filter(status=OfferStatus.PENDING).exclude(work_item__status=WorkStatus.OFFERED).exists()
    for agent in AgentProfile.objects.all():
        assert agent.load_units <= agent.capacity_units, agent
        assert agent.load_units == loaded_units(agent), agent
    open_items = Counter(
        WorkItem.objects.filter(status__in=WorkStatus.values[:4]).values_list("conversation_id", flat=True).iterator()
    )
    assert max(open_items.values(), default=1) == 1


def _assert_nothing_stranded() -> None:
    """No waiting item that an available agent with room, the channel and no refusal of it could take."""
    free = [
        agent
        for agent in AgentProfile.objects.filter(presence=Presence.AVAILABLE, user__is_active=True)
        if agent.load_units < agent.capacity_units
    ]
    for item in WorkItem.objects.filter(status=WorkStatus.WAITING):
        declined = set(
            item.offers.filter(status__in=(OfferStatus.REJECTED, OfferStatus.TIMED_OUT)).values_list(
                "agent_id", flat=True
            )
        )
        takers = [
            agent
            for agent in free
            if agent.capacity_units - agent.load_units >= item.units
            and (not agent.channels or item.channel in agent.channels)
            and agent.pk not in declined
        ]
        assert not takers, f"{item} waits though {takers} could take it"


@pytest.mark.django_db(transaction=True)
def test_threads_routing_answering_and_wrapping_up_at_once_keep_every_invariant(eager_tasks, routing_defaults):
    """Dispatchers, agent pulls, answers, time-outs, wrap-ups, transfers and presence flips in 9 threads."""
    # Given: 200 waiting items (30 of them calls), 30 available agents of capacity 4
    queue, agents = _floor(seed=7)
    agent_ids = [agent.pk for agent in agents]
    done = Counter()
    # and half the agents busy from the start, so finishing work runs alongside everything else
    engine.dispatch_queue(queue.pk)
    for offer in Offer.objects.filter(status=OfferStatus.PENDING).select_related("agent__user")[::2]:
        offer_accept(actor=offer.agent.user, offer_id=offer.pk)

    def dispatcher():
        for _ in range(12):
            done["dispatch offers"] += engine.dispatch_queue(queue.pk)

    def puller(seed):
        def pull():
            rng = random.Random(seed)
            for _ in range(3):
                for agent_id in rng.sample(agent_ids, len(agent_ids)):
                    done["pull offers"] += engine.route_agent(agent_id) is not None

        return pull

    def answerer(seed):
        def answer():
            rng = random.Random(seed)
            for _ in range(80):
                offer = Offer.objects.filter(status=OfferStatus.PENDING).select_related("agent__user").order_by("?")
                offer = offer.first()
                if offer is None:
                    done["dispatch offers"] += engine.dispatch_queue(queue.pk)
                    continue
                try:
                    if rng.random() < 0.8:
                        offer_accept(actor=offer.agent.user, offer_id=offer.pk)
                        done["accepted"] += 1
                    else:
                        offer_reject(actor=offer.agent.user, offer_id=offer.pk)
                        done["rejected"] += 1
                except Conflict:  # another thread answered, timed out or rescinded it first
                    done["conflicts"] += 1

        return answer

    def expirer():
        for _ in range(15):
            offer = Offer.objects.filter(status=OfferStatus.PENDING).order_by("?").first()
            if offer is not None:
                done["timed out"] += offer_expire(offer_id=offer.pk, now=offer.expires_at)

    def finisher(seed):
        def finish():
            rng = random.Random(seed)
            for _ in range(40):
                item = (
                    WorkItem.objects.filter(status=WorkStatus.ASSIGNED)
                    .select_related("agent__user", "conversation")
                    .order_by("?")
                    .first()
                )
                if item is None:
                    continue
                try:
                    if rng.random() < 0.8:
                        conversation_wrap_up(
                            actor=item.agent.user, conversation=item.conversation, wrap_up_code="resolved"
                        )
                        done["wrapped up"] += 1
                    else:
                        conversation_transfer(actor=item.agent.user, conversation=item.conversation, to_queue=queue)
                        done["transferred"] += 1
                except (Conflict, PermissionDenied):  # the other finisher wrapped it up or transferred it first
                    done["conflicts"] += 1

        return finish

    def flipper():
        rng = random.Random(99)
        for agent in rng.sample(agents, 10):
            presence_set(actor=agent.user, agent_user=agent.user, presence="away", reason_code="break")
            engine.route_agent(rng.choice(agent_ids))
            presence_set(actor=agent.user, agent_user=agent.user, presence="available")
            done["flips"] += 1

    workers = [
        dispatcher,
        dispatcher,
        puller(1),
        puller(2),
        answerer(3),
        answerer(4),
        expirer,
        finisher(5),
        finisher(6),
        flipper,
    ]
    offers_before = Offer.objects.count()
    # When
    errors = _run_together(workers)
    # Then: no worker failed (a deadlock or a broken constraint would), and the rows agree
    assert errors == []
    # Offers were made while the threads ran: by the dispatchers and pullers, or by the routing tasks
    # that answers, wrap-ups and transfers send (run at once here); on a loaded machine those may
    # make every offer before a dispatcher's turn comes (seen once: 98 accepted, 0 by the dispatchers).
    made = Offer.objects.count() - offers_before
    assert done["accepted"] > 0 and made >= done["dispatch offers"] + done["pull offers"] and made > 0, (done, made)
    _assert_consistent(queue)
    # When: one sweep runs
    routing_sweep()
    # Then: nothing a free agent could take is left waiting
    _assert_consistent(queue)
    _assert_nothing_stranded()
    # When: the agents set away by missed offers come back, with their triggers lost, and one sweep runs
    away = list(AgentProfile.objects.exclude(presence=Presence.AVAILABLE).values_list("pk", flat=True))
    AgentProfile.objects.filter(pk__in=away).update(presence=Presence.AVAILABLE, reason=None)
    routing_sweep()
    # Then
    _assert_consistent(queue)
    _assert_nothing_stranded()
    assert WorkItem.objects.filter(status__in=LOADED_WORK).exists()


def _route_in_a_process(queue_id: int, agent_ids: list[int], seed: int, errors) -> None:
    """A worker process: its own database connection, dispatching and pulling work."""
    connections.close_all()  # the forked parent's connection is not this process's to use
    try:
        rng = random.Random(seed)
        for _ in range(4):
            engine.dispatch_queue(queue_id)
            for agent_id in rng.sample(agent_ids, len(agent_ids)):
                engine.route_agent(agent_id)
    except Exception:
        errors.append(traceback.format_exc())
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_processes_deciding_at_once_never_double_book_an_item_or_overfill_an_agent(eager_tasks, routing_defaults):
    """Four processes (separate connections) dispatch and pull concurrently: every unit of capacity is
    used at most once, and together they leave no item a free agent could take."""
    # Given
    queue, agents = _floor(seed=11)
    agent_ids = [agent.pk for agent in agents]
    connections.close_all()
    context = multiprocessing.get_context("fork")
    with context.Manager() as manager:
        errors = manager.list()
        processes = [
            context.Process(target=_route_in_a_process, args=(queue.pk, agent_ids, seed, errors)) for seed in range(4)
        ]
        # When
        for process in processes:
            process.start()
        for process in processes:
            process.join()
        errors = list(errors)
    # Then
    assert errors == []
    assert [process.exitcode for process in processes] == [0, 0, 0, 0]
    _assert_consistent(queue)
    _assert_nothing_stranded()
    capacity = sum(agent.capacity_units for agent in agents)
    offered = WorkItem.objects.filter(status=WorkStatus.OFFERED)
    assert sum(item.units for item in offered) <= capacity
    assert offered.count() >= AGENTS  # every agent got work: calls and chats were all waiting


class _Kicks:
    """Stands in for a routing task's send: records the ids it was sent, routes nothing."""

    def __init__(self):
        self.sent = []

    def apply_async(self, args, kwargs=None, **options):
        self.sent.extend(args)


def _wait_until_a_backend_waits_for_a_lock() -> None:
    """Poll PostgreSQL (no sleeping) until another session is blocked on a lock; fail after 30 s."""
    deadline = timezone.now() + timedelta(seconds=30)
    with connection.cursor() as cursor:
        while timezone.now() < deadline:
            cursor.execute(
                "select count(*) from pg_stat_activity where wait_event_type = 'Lock' and pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return
    raise AssertionError("no session ever waited for a lock")


@pytest.mark.django_db(transaction=True)
def test_going_away_while_an_offer_made_a_moment_ago_is_being_accepted_does_not_deadlock(
    routing_defaults, team_a, monkeypatch
):
    """The exact interleaving: going away locks the items of the agent's pending offers, then the router
    makes one more offer, then going away locks the agent, then the agent accepts that new offer (its
    item locked, waiting for the agent). Going away must not wait for that item: it rescinds the offers
    whose items it holds and leaves the one being accepted to its accept."""
    # Given: triggers recorded, not run; an agent with one pending offer and a second chat waiting
    monkeypatch.setattr(tasks.route_queue, "apply_async", _Kicks().apply_async)
    monkeypatch.setattr(tasks.route_agent, "apply_async", _Kicks().apply_async)
    queue = QueueFactory(name="support")
    agent = RoutableAgentFactory(username="solo", teams=[team_a])
    first = waiting(queue)
    engine.dispatch_queue(queue.pk)
    first_offer = pending_offer(first)
    second = waiting(queue)
    in_gap, offer_made, agent_locked, accept_waits = (threading.Event() for _ in range(4))

    def lock_profile_with_a_gap(profile_id):
        # lock_profile's two steps, with the router let in between them
        list(
            WorkItem.objects.select_for_update(of=("self",))
            .filter(offers__agent_id=profile_id, offers__status=OfferStatus.PENDING)
            .values_list("pk", flat=True)
        )
        in_gap.set()
        assert offer_made.wait(30)
        profile = AgentProfile.objects.select_for_update(of=("self",)).select_related("reason").get(pk=profile_id)
        agent_locked.set()
        assert accept_waits.wait(30)
        return profile

    monkeypatch.setattr(presence, "lock_profile", lock_profile_with_a_gap)
    errors: list[str] = []

    def in_thread(work):
        def run():
            try:
                work()
            except Exception:
                errors.append(traceback.format_exc())
            finally:
                connections.close_all()

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    # When
    going_away = in_thread(
        lambda: presence_set(actor=agent.user, agent_user=agent.user, presence="away", reason_code="break")
    )
    assert in_gap.wait(30)
    engine.dispatch_queue(queue.pk)
    second_offer = pending_offer(second)
    offer_made.set()
    assert agent_locked.wait(30)
    accepting = in_thread(lambda: offer_accept(actor=agent.user, offer_id=second_offer.pk))
    _wait_until_a_backend_waits_for_a_lock()
    accept_waits.set()
    going_away.join()
    accepting.join()
    # Then: neither failed; the older offer went back to the queue, the accepted one is the agent's
    assert errors == []
    assert Offer.objects.get(pk=first_offer.pk).status == OfferStatus.RESCINDED
    assert Offer.objects.get(pk=second_offer.pk).status == OfferStatus.ACCEPTED
    profile = AgentProfile.objects.get(pk=agent.pk)
    assert (profile.presence, profile.load_units) == (Presence.AWAY, 1)
    assert profile.load_units == loaded_units(profile)
    _assert_consistent(queue)
