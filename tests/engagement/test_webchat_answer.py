"""A visitor's message is answered by a worker after the ack (engagement.webchat.answer): in order,
once, by the web process itself when the broker cannot take the task, and again by the sweep when
the task was lost."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import timedelta

import pytest
import redis
from celery import current_app
from django.conf import settings
from django.utils import timezone

from engagement.conversations.models import AuthorKind, Message
from engagement.conversations.services import message_add
from engagement.selfservice.words import GREETING
from engagement.webchat.services import (
    ANSWER_TASK,
    webchat_after_customer_message,
    webchat_answer,
    webchat_answers_sweep,
)
from tests.engagement.selfservice_support import chat, says

pytestmark = pytest.mark.usefixtures("selfservice_env")


def typed(conversation, text: str) -> Message:
    """The visitor's message, stored and acknowledged but not answered yet."""
    message, _ = message_add(conversation=conversation, direction="inbound", author_kind="customer", body=text)
    return message


def answers(conversation) -> list[tuple[int, str]]:
    """(the customer message it answers, body) of each bot message, in the order they were said."""
    bot = Message.objects.filter(conversation=conversation, author_kind=AuthorKind.BOT).order_by("id")
    return [(message.payload["selfservice"]["reply_to"], message.body) for message in bot]


def app():
    return current_app._get_current_object()


def producers_forget() -> None:
    """The app's references to its connection and producer pools dropped, so that the next send
    reads ``broker_url`` again. The pools themselves stay open in kombu's registry (keyed by the
    broker's address), where the next send with the first address finds them again."""
    celery = app()
    celery._pool = None
    celery.amqp._producer_pool = None


@pytest.fixture
def broker_down():
    """The broker is at an address nobody listens on (Redis restarting) for the test."""
    conf = app().conf
    before = conf.broker_url
    conf.broker_url = "redis://127.0.0.1:9/0"
    producers_forget()
    yield
    conf.broker_url = before
    producers_forget()


@pytest.fixture
def queue_of_its_own():
    """Tasks go to a queue no worker reads, removed after the test; yields what it holds."""
    conf = app().conf
    before = conf.task_default_queue
    conf.task_default_queue = f"test-{uuid.uuid4().hex[:12]}"
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    key = f"{settings.CELERY_BROKER_TRANSPORT_OPTIONS['global_keyprefix']}{conf.task_default_queue}"

    def held() -> list[dict]:
        return [json.loads(raw) for raw in client.lrange(key, 0, -1)]

    yield held
    conf.task_default_queue = before
    for stale in client.scan_iter(f"*{key.rsplit(':', 1)[-1]}*"):
        client.delete(stale)
    client.close()


@pytest.mark.django_db
def test_a_later_message_s_task_answers_the_earlier_one_first(flows):
    # Given: two messages of the visitor, neither answered (their tasks on two workers)
    conversation = chat()
    hello, order = typed(conversation, "Hello!"), typed(conversation, "1")
    # When: the second one's task runs first
    turns = webchat_answer(message_id=order.pk)
    # Then: both are answered, the first first
    said = answers(conversation)
    assert turns == 2
    assert [reply_to for reply_to, _ in said] == [hello.pk, hello.pk, order.pk]
    assert said[0][1] == GREETING
    assert said[2][1] == "What is your order number?"
    # And when the first one's task runs after all, nothing is said twice
    assert webchat_answer(message_id=hello.pk) == 0
    assert answers(conversation) == said


@pytest.mark.django_db
def test_a_message_whose_answer_was_given_is_not_answered_again(flows):
    # Given: a message answered (the task ran, and the worker was killed before acknowledging it)
    conversation = chat()
    reply = says(conversation, "Hello!")
    said = answers(conversation)
    # When: the task is delivered again
    turns = webchat_answer(message_id=reply.messages[0].payload["selfservice"]["reply_to"])
    # Then
    assert turns == 0
    assert answers(conversation) == said


@pytest.mark.django_db
def test_a_message_that_is_not_the_customer_s_or_is_gone_gets_no_answer(flows):
    # Given
    conversation = chat()
    reply = says(conversation, "Hello!")
    # When / Then
    assert webchat_answer(message_id=reply.messages[0].pk) == 0  # the bot's own message
    assert webchat_answer(message_id=10**9) == 0
    assert len(answers(conversation)) == len(reply.messages)


@pytest.mark.django_db(transaction=True)
def test_the_web_process_only_sends_the_task_and_leaves_the_turn_to_a_worker(flows, queue_of_its_own):
    # Given: a visitor's message, stored
    conversation = chat()
    hello = typed(conversation, "Hello!")
    # When: the consumer has acknowledged it
    webchat_after_customer_message(message=hello, run_hooks=True)
    # Then: nothing was said here; the broker holds one answer task for the message, for a worker
    assert answers(conversation) == []
    held = queue_of_its_own()
    assert [(task["headers"]["task"], task["headers"]["argsrepr"]) for task in held] == [
        (ANSWER_TASK, f"({hello.pk}, True)")
    ]


@pytest.mark.django_db(transaction=True)
def test_when_the_broker_is_down_the_web_process_answers_itself(flows, broker_down, caplog):
    # Given: a visitor's message, stored, while Redis restarts
    conversation = chat()
    hello = typed(conversation, "Hello!")
    # When: the consumer has acknowledged it
    with caplog.at_level(logging.WARNING, logger="engagement.webchat"):
        webchat_after_customer_message(message=hello, run_hooks=True)
    # Then: the visitor is answered all the same, and the log says why here
    assert [reply_to for reply_to, _ in answers(conversation)] == [hello.pk, hello.pk]
    assert f"The broker refused web chat message {hello.pk}'s answer task; answering it here" in caplog.text


@pytest.mark.django_db
def test_the_sweep_answers_messages_left_unanswered_and_only_those(
    flows, eager_tasks, django_capture_on_commit_callbacks
):
    # Given: a message whose task was lost two minutes ago, one answered, and one sent a moment ago
    now = timezone.now()
    lost, answered, recent = chat(visitor="lost-1"), chat(visitor="answered-1"), chat(visitor="recent-1")
    lost_message = typed(lost, "Hello!")
    says(answered, "Hello!")
    recent_message = typed(recent, "Hello!")
    Message.objects.filter(conversation__in=[lost, answered]).update(created_at=now - timedelta(minutes=2))
    Message.objects.filter(pk=recent_message.pk).update(created_at=now - timedelta(seconds=5))
    answered_before = answers(answered)
    # When: the sweep runs (its tasks at once, here)
    with django_capture_on_commit_callbacks(execute=True):
        sent = webchat_answers_sweep(now=now)
    # Then: the lost one is answered; the answered one is not answered twice; the recent one waits
    assert sent == 1
    assert [reply_to for reply_to, _ in answers(lost)] == [lost_message.pk, lost_message.pk]
    assert answers(answered) == answered_before
    assert answers(recent) == []
    # And: a second sweep finds nothing left
    with django_capture_on_commit_callbacks(execute=True):
        assert webchat_answers_sweep(now=now) == 0


@pytest.mark.django_db
def test_the_sweep_leaves_chats_that_left_self_service_and_old_messages(flows, django_capture_on_commit_callbacks):
    # Given: an unanswered message in a chat an agent has, and one older than the sweep's hour
    now = timezone.now()
    with_agent, old = chat(visitor="agent-1"), chat(visitor="old-1")
    typed(with_agent, "Hello!")
    with_agent.status = "queued"
    with_agent.save(update_fields=["status"])
    typed(old, "Hello!")
    Message.objects.filter(conversation__in=[with_agent, old]).update(created_at=now - timedelta(minutes=90))
    Message.objects.filter(conversation=with_agent).update(created_at=now - timedelta(minutes=2))
    # When
    with django_capture_on_commit_callbacks(execute=True) as sent_tasks:
        sent = webchat_answers_sweep(now=now)
    # Then
    assert (sent, len(sent_tasks)) == (0, 0)
