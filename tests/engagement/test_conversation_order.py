"""Messages of one conversation get ids in commit order, so 'messages after id N' never misses one."""

import threading

import pytest
from django.db import connection, transaction

from engagement.conversations.models import AuthorKind, Message
from engagement.conversations.services import conversation_start, message_add
from tests.records.db_locks import wait_for_lock_waiters
from tests.support import isolated_redis


@pytest.fixture(autouse=True)
def _isolated_redis_keys(settings):
    yield from isolated_redis(settings)


@pytest.mark.django_db(transaction=True)
def test_a_message_added_while_another_is_uncommitted_waits_and_gets_the_larger_id():
    # Given: a conversation, and a first message inserted but not yet committed
    conversation, _ = conversation_start(channel="chat", external_id="order-test")
    first_inserted = threading.Event()
    release_first = threading.Event()
    ids = {}

    def first() -> None:
        try:
            with transaction.atomic():
                message, _ = message_add(
                    conversation=conversation, direction="inbound", author_kind=AuthorKind.CUSTOMER, body="first"
                )
                ids["first"] = message.pk
                first_inserted.set()
                release_first.wait(timeout=30)
        finally:
            connection.close()

    def second() -> None:
        try:
            message, _ = message_add(
                conversation=conversation, direction="outbound", author_kind=AuthorKind.AGENT, body="second"
            )
            ids["second"] = message.pk
        finally:
            connection.close()

    one = threading.Thread(target=first)
    one.start()
    assert first_inserted.wait(timeout=30)
    # When: a second message arrives meanwhile
    two = threading.Thread(target=second)
    two.start()
    wait_for_lock_waiters(1)  # it queues on the conversation instead of inserting
    assert "second" not in ids  # nothing can be committed after the first with a smaller id
    release_first.set()
    one.join(timeout=30)
    two.join(timeout=30)
    # Then: the one committed later has the larger id
    assert ids["second"] > ids["first"]
    assert list(Message.objects.filter(conversation=conversation).values_list("body", flat=True)) == ["first", "second"]
