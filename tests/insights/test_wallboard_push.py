"""The "something changed" pushes behind the wallboard: coalesced, at most once per interval, never losing the last.

The throttle is tested with a clock the test moves; the push through the channel layer with real
Redis, counting the messages a burst of commits makes.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from cea.common import live
from cea.common.live import SUPERVISION_GROUP, Throttle, coalesce_key, supervision_hint_on_commit
from engagement.routing.live import ROUTING_CHANGED_GROUP, routing_changed_on_commit
from tests.engagement.factories import QueueFactory
from tests.engagement.routing_support import waiting
from tests.engagement.websockets import QUIET, TIMEOUT, own_coalescer
from tests.support import isolated_redis


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_first_change_fires_at_once_and_the_next_ones_ride_on_one_firing_after_the_interval():
    clock = Clock()
    throttle = Throttle(1.0, clock=clock)

    assert throttle.change("team") == 0.0  # nothing fired yet: at once
    throttle.fired("team")
    clock.now += 0.25
    assert throttle.change("team") == 0.75  # within the interval: when it is over
    for _ in range(100):
        clock.now += 0.005
        assert throttle.change("team") is None  # a firing is due: these ride on it
    clock.now = 101.0
    throttle.fired("team")
    clock.now += 5
    assert throttle.change("team") == 0.0  # quiet for longer than the interval: at once again


def test_a_change_made_while_a_firing_reads_the_state_fires_again():
    clock = Clock()
    throttle = Throttle(1.0, clock=clock)
    assert throttle.change("team") == 0.0
    throttle.fired("team")  # the firing starts reading the state here

    assert throttle.change("team") == 1.0  # so a change now is not covered by it


def test_keys_are_throttled_apart():
    clock = Clock()
    throttle = Throttle(1.0, clock=clock)
    throttle.change("team-1")
    throttle.fired("team-1")

    assert throttle.change("team-2") == 0.0
    assert throttle.change("team-1") == 1.0


@pytest.fixture
def layer_of_its_own(settings):
    yield from isolated_redis(settings)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("layer_of_its_own")
def test_a_burst_of_routing_changes_is_one_push_and_a_later_change_one_more(monkeypatch):
    """Given a listener on routing.changed and a fresh throttle, when 50 transactions commit a change
    each while the push loop is busy, then the listener gets one push, not 50; and a change after
    that push gets one more push of its own (a second later), so no change is left without one.

    The push loop is held while the 50 commit: otherwise how many pushes a burst makes depends on
    how fast the machine commits (a loaded CI machine took over a second for 50)."""
    clock = Clock()  # stands still: every change after the first falls within the interval
    own_coalescer(monkeypatch, Throttle(1.0, clock=clock))
    layer = get_channel_layer()
    channel, twin = async_to_sync(layer.new_channel)(), async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(ROUTING_CHANGED_GROUP, channel)
    async_to_sync(layer.group_add)(ROUTING_CHANGED_GROUP, twin)

    with loop_held():
        for _ in range(50):
            with transaction.atomic():
                routing_changed_on_commit()

    [first] = received(layer, channel)
    assert (first["type"], len(first["push"])) == ("routing.changed", 16)  # with the id of this push
    assert received(layer, twin) == [first]  # every member gets the same push, id included
    assert not live._coalesced.due

    later = async_to_sync(layer.new_channel)()  # a channel's receive buffer belongs to one event loop
    async_to_sync(layer.group_add)(ROUTING_CHANGED_GROUP, later)
    with transaction.atomic():
        routing_changed_on_commit()

    [second] = received(layer, later)
    assert second["type"] == "routing.changed"
    assert second["push"] != first["push"]  # another push, another id
    assert not live._coalesced.due  # nothing left unsent


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("layer_of_its_own")
def test_hints_of_two_kinds_to_one_group_are_coalesced_apart(monkeypatch):
    """Given a listener on the supervisors' group and a fresh throttle, when 20 transactions each tell
    that live work changed and 20 that agents did, all while the push loop is held, then the listener
    gets one hint of each kind: neither rides on the other."""
    own_coalescer(monkeypatch, Throttle(1.0, clock=Clock()))
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(SUPERVISION_GROUP, channel)

    with loop_held():
        for what in ["conversations", "agents"] * 20:
            with transaction.atomic():
                supervision_hint_on_commit(what=what)

    messages = received(layer, channel)
    assert sorted(message["what"] for message in messages) == ["agents", "conversations"]
    assert {message["type"] for message in messages} == {"supervision.changed"}
    assert not live._coalesced.due


def test_the_coalescing_key_is_the_group_and_the_event():
    conversations = {"type": "supervision.changed", "what": "conversations"}

    assert coalesce_key("supervision", conversations) == coalesce_key(
        "supervision", dict(reversed(conversations.items()))
    )
    assert coalesce_key("supervision", conversations) != coalesce_key(
        "supervision", {**conversations, "what": "agents"}
    )
    assert coalesce_key("supervision", conversations) != coalesce_key("routing.changed", conversations)


@contextlib.contextmanager
def loop_held():
    """Hold the process's push loop until the block ends: what the block schedules on it queues up."""
    release = threading.Event()
    live._push_loop().call_soon_threadsafe(release.wait, TIMEOUT)
    try:
        yield
    finally:
        release.set()


def received(layer, channel, *, wait: float = TIMEOUT) -> list[dict]:
    """Every message the channel gets: the first within ``wait`` seconds, then until it is quiet
    for longer than the throttle's interval."""

    async def receive() -> list[dict]:
        messages = [await asyncio.wait_for(layer.receive(channel), wait)]
        with contextlib.suppress(TimeoutError):
            while True:
                messages.append(await asyncio.wait_for(layer.receive(channel), QUIET + 1.0))
        return messages

    return async_to_sync(receive)()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("layer_of_its_own", "routing_defaults")
def test_work_joining_a_queue_tells_routing_changed(monkeypatch):
    own_coalescer(monkeypatch, Throttle(1.0, clock=Clock()))
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(ROUTING_CHANGED_GROUP, channel)
    waiting(QueueFactory(name="billing"))

    async def first():
        return await asyncio.wait_for(layer.receive(channel), TIMEOUT)

    assert async_to_sync(first)()["type"] == "routing.changed"
