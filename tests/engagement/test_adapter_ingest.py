"""delivery_ingest, the skeleton every channel adapter calls: duplicates, queueing, all or nothing."""

from __future__ import annotations

from functools import partial

import pytest

from cea.common.channels import Channel, Direction
from cea.common.errors import ValidationFailed
from engagement.adapters.ingest import Ingested, delivery_ingest, open_thread
from engagement.conversations.models import AuthorKind, Conversation, ConversationStatus, Message
from tests.engagement.adapter_support import isolate_redis

pytestmark = pytest.mark.django_db

SENDER_THREAD = partial(open_thread, channel=Channel.SMS, thread_key="test-gateway:+4915112345678", source="sms")


@pytest.fixture(autouse=True)
def _isolated_redis(settings):
    yield from isolate_redis(settings)


def _sms(message_id: str, **given) -> Ingested:
    return delivery_ingest(
        channels=[Channel.SMS],
        external_id=f"test-gateway:{message_id}",
        conversation=given.pop("conversation", SENDER_THREAD),
        body=f"Text {message_id}",
        sent_at=None,
        payload={"message_id": message_id},
        **given,
    )


def test_a_new_delivery_opens_a_conversation_queues_it_and_keeps_the_message():
    # given no conversation yet
    # when a first message arrives for the agents' queue
    ingested = _sms("m-1", queue="SMS", queue_reason="SMS has no self-service")

    # then one conversation waits in that queue with the customer's inbound message
    assert ingested.created is True
    conversation = Conversation.objects.get()
    assert (conversation.pk, conversation.external_id) == (ingested.conversation.pk, "test-gateway:+4915112345678:1")
    assert (conversation.status, conversation.queue) == (ConversationStatus.QUEUED, "SMS")
    message = Message.objects.get()
    assert message.pk == ingested.message.pk
    assert (message.external_id, message.body, message.direction, message.author_kind) == (
        "test-gateway:m-1",
        "Text m-1",
        Direction.INBOUND,
        AuthorKind.CUSTOMER,
    )
    assert message.payload == {"message_id": "m-1"}


def test_a_duplicate_delivery_runs_neither_the_opener_nor_the_after_hook():
    # given a kept delivery
    first = _sms("m-1", queue="SMS")
    calls: list[str] = []

    def opener():
        calls.append("opener")
        return SENDER_THREAD()

    # when the same delivery comes again
    again = _sms("m-1", queue="SMS", conversation=opener, after=lambda ingested: calls.append("after"))

    # then it returns the first message and changes nothing
    assert (again.conversation.pk, again.message.pk, again.created) == (first.conversation.pk, first.message.pk, False)
    assert calls == []
    assert (Conversation.objects.count(), Message.objects.count()) == (1, 1)


def test_only_a_conversation_the_opener_opened_is_queued():
    # given a thread opened without a queue, still in self-service
    first = _sms("m-1")
    assert first.conversation.status == ConversationStatus.SELF_SERVICE

    # when the next message of the thread names a queue
    second = _sms("m-2", queue="SMS")

    # then it joins the conversation as it is
    assert second.conversation.pk == first.conversation.pk
    conversation = Conversation.objects.get()
    assert (conversation.status, conversation.queue) == (ConversationStatus.SELF_SERVICE, "")
    assert Message.objects.filter(conversation=conversation).count() == 2


def test_when_the_after_hook_refuses_nothing_is_kept():
    # given an after hook that refuses the delivery
    def refuse(ingested: Ingested) -> None:
        raise ValidationFailed("Refused after the message was added.")

    # when a first message arrives
    with pytest.raises(ValidationFailed):
        _sms("m-1", queue="SMS", after=refuse)

    # then neither the conversation nor the message is kept
    assert (Conversation.objects.count(), Message.objects.count()) == (0, 0)
