"""Scaling out (issue 17): two web processes and two Celery workers, each its own OS process, sharing
one PostgreSQL (the test database) and one Redis. A desk connected to web process A gets the offer
and the messages of a visitor chatting on web process B; the routing task B queues runs once, on one
of the workers, and its push reaches the desk on A. Real processes, real websockets (docs/deploying.md).
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Callable
from urllib.parse import quote

import pytest
from django.conf import settings
from django.test import Client
from websockets.asyncio.client import ClientConnection, connect

from engagement.conversations.models import Conversation, Message
from engagement.routing.defaults import routing_defaults_ensure
from engagement.routing.models import Offer
from engagement.routing.work import ROUTE_QUEUE_TASK
from engagement.webchat.services import ANSWER_TASK
from tests.accounts.factories import TeamFactory, UserFactory
from tests.engagement.factories import QueueFactory, RoutableAgentFactory, SiteKeyFactory
from tests.process_support import Processes
from tests.support import child_environment, redis_keys_delete

SHOP = "https://shop.example"
FRAME_SECONDS = 30  # a deadline for a frame that must come on a loaded machine, never a measurement

# celery.app.trace's INFO line for a task that finished: "Task <name>[<id>] succeeded in <s>s: <result>"
# The duration may come out of the log filter redacted: a run of digits such as 0.0123456789 reads as a
# phone number ("[PHONE]"; cea/common/log_filters.py).
SUCCEEDED = re.compile(
    r"Task (?P<name>[\w.]+)\[(?P<id>[0-9a-f-]{36})\] succeeded in (?:[0-9.e-]+|\[[A-Z_]+\])s: (?P<result>\S+)"
)


class Frames:
    """The JSON frames of one websocket, read in order; ``next`` skips frames of other types but keeps them."""

    def __init__(self, socket: ClientConnection, name: str) -> None:
        self.socket, self.name = socket, name
        self.seen: list[dict] = []
        self.unread: list[dict] = []

    async def next(self, kind: str, where: Callable[[dict], bool] = lambda frame: True, **matching: object) -> dict:
        """The first frame of type ``kind`` with the ``matching`` values for which ``where`` holds."""

        async def first() -> dict:
            while True:
                for frame in self.unread:
                    if (
                        frame.get("type") == kind
                        and all(frame.get(k) == v for k, v in matching.items())
                        and where(frame)
                    ):
                        self.unread.remove(frame)
                        return frame
                frame = json.loads(await self.socket.recv())
                self.seen.append(frame)
                self.unread.append(frame)

        try:
            return await asyncio.wait_for(first(), FRAME_SECONDS)
        except TimeoutError:
            raise AssertionError(
                f"no {kind} {matching or ''} frame on {self.name}; frames so far: {self.seen}"
            ) from None

    async def send(self, frame: dict) -> None:
        await self.socket.send(json.dumps(frame))


@pytest.fixture
def redis_prefix():
    """The children's Redis keys (channel layer, cache, Celery broker) under a prefix of this test's own."""
    prefix = f"cea-test-scale-{uuid.uuid4().hex[:12]}"
    yield prefix
    redis_keys_delete(settings.REDIS_URL, prefix)


def succeeded_tasks(log: str, name: str) -> list[tuple[str, str]]:
    """(task id, result) of each ``name`` task the worker's log says succeeded."""
    return [(match["id"], match["result"]) for match in SUCCEEDED.finditer(log) if match["name"] == name]


@pytest.mark.django_db(transaction=True)
def test_a_desk_on_one_web_process_gets_the_offer_and_messages_of_a_visitor_on_another(redis_prefix, eager_tasks):
    # Given: a team's chat queue fed by a web chat site, and an available agent of the team, signed in.
    # (Made here with tasks run in this process, so nothing of the set-up reaches the children's broker.)
    routing_defaults_ensure()
    team = TeamFactory(name="Scale team")
    queue = QueueFactory(name="scale-chat", team=team)
    site = SiteKeyFactory(name="Scale shop", allowed_origins=[SHOP], queue=queue.name, team=team)
    agent = UserFactory(username="scale.agent", role="agent", teams=[team])
    RoutableAgentFactory(user=agent, idle_minutes=5)
    browser = Client()
    browser.force_login(agent)
    session_cookie = f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"

    # And: web processes A and B and workers 1 and 2, on the test database and one Redis (one prefix),
    # the workers consuming the queue the web processes send tasks to.
    celery_queue = f"{redis_prefix}-tasks"
    env = child_environment(
        CEA_REDIS_PREFIX=redis_prefix,
        CEA_CELERY_QUEUE=celery_queue,
        CEA_LOG_LEVEL="INFO",
        CEA_DB_POOL_MIN_SIZE="1",
        CEA_DB_POOL_MAX_SIZE="4",
    )
    with Processes() as processes:
        web_a, web_b = processes.web("a", env), processes.web("b", env)
        workers = [
            processes.worker("scale-1", env, queue=celery_queue),
            processes.worker("scale-2", env, queue=celery_queue),
        ]
        for web in (web_a, web_b):
            processes.wait_until_live(web)
        for worker in workers:
            processes.wait_until_ready(worker)

        async def scenario() -> dict:
            desk_url = f"ws://127.0.0.1:{web_a.port}/ws/desktop/"
            widget_url = (
                f"ws://127.0.0.1:{web_b.port}/ws/webchat/?site_key={site.key}&page={quote(SHOP + '/orders', safe='')}"
            )
            async with (
                connect(
                    desk_url, origin=f"http://127.0.0.1:{web_a.port}", additional_headers={"Cookie": session_cookie}
                ) as a,
                connect(widget_url, origin=SHOP) as b,
            ):
                desk, visitor = Frames(a, "the desk on A"), Frames(b, "the visitor on B")
                state = await desk.next("desk.state")
                await visitor.next("welcome")
                # When: the visitor asks B for an agent (self-service, in a worker, hands the chat to the queue)
                await visitor.send({"type": "message", "client_id": "c-1", "body": "I want to talk to an agent"})
                ack = await visitor.next("ack", client_id="c-1")
                queued = await visitor.next("status", status="queued")
                # Then: a worker routes it, and the offer reaches the desk on A
                offer = await desk.next("offer.new")
                # When: the agent accepts on A and follows the conversation's messages
                await desk.send({"action": "accept", "offer": offer["offer"]["id"]})
                accepted = await desk.next("offer.accepted")
                active = await visitor.next("status", status="active")  # A's push, on B's socket
                await desk.send({"action": "subscribe", "scope": "conversation_messages", "id": ack["conversation"]})
                await desk.next("subscribed", id=str(ack["conversation"]))
                # And: the visitor writes again, on B
                await visitor.send({"type": "message", "client_id": "c-2", "body": "My boots never came"})
                second_ack = await visitor.next("ack", client_id="c-2")
                message = await desk.next(
                    "conversation.message", where=lambda frame: frame["message"]["id"] == second_ack["id"]
                )
                return {
                    "state": state,
                    "ack": ack,
                    "queued": queued,
                    "offer": offer,
                    "accepted": accepted,
                    "active": active,
                    "second_ack": second_ack,
                    "message": message,
                }

        try:
            frames = asyncio.run(scenario())
        except AssertionError as failure:
            raise AssertionError(f"{failure}\n{processes.logs()}") from None
        worker_logs = {worker.name: worker.log() for worker in workers}

    # Then: the desk on A started empty, got the offer routed from B's chat, and B's messages
    conversation = Conversation.objects.get(pk=frames["ack"]["conversation"])
    offer = Offer.objects.get(work_item__conversation=conversation)  # one offer: the routing ran once
    assert frames["state"]["offers"] == []
    assert frames["offer"]["offer"]["id"] == offer.pk
    assert frames["accepted"] == {"type": "offer.accepted", "offer": offer.pk, "conversation": conversation.pk}
    assert (conversation.status, conversation.agent_id, conversation.queue) == ("active", agent.pk, queue.name)
    assert frames["message"]["message"]["body"] == "My boots never came"
    assert frames["message"]["message"]["id"] == frames["second_ack"]["id"]
    assert Message.objects.get(pk=frames["second_ack"]["id"]).conversation_id == conversation.pk

    # And: the routing task B queued ran on exactly one of the two workers, once, and made that offer
    routed = {name: succeeded_tasks(log, ROUTE_QUEUE_TASK) for name, log in worker_logs.items()}
    runs = [(name, task_id, result) for name, tasks in routed.items() for task_id, result in tasks]
    assert len({task_id for _, task_id, _ in runs}) == len(runs), runs  # no task ran twice
    offering = [(name, task_id) for name, task_id, result in runs if result != "0"]
    assert len(offering) == 1, (runs, worker_logs)
    assert [result for _, _, result in runs if result != "0"] == ["1"]

    # And: a worker, not the web process, answered the visitor's first message: one turn, the hand-over
    # (the second message's task, which finds the chat with the agent, may still be on its way)
    answers = [
        (task_id, result) for log in worker_logs.values() for task_id, result in succeeded_tasks(log, ANSWER_TASK)
    ]
    assert len({task_id for task_id, _ in answers}) == len(answers), answers  # no task ran twice
    assert [result for _, result in answers if result != "0"] == ["1"], (answers, worker_logs)
