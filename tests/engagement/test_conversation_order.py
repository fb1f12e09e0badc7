"""Messages of one conversation get ids in commit order, so 'messages after id N' never misses one."""

import threading

import pytest
from django.db import connection, transaction

from cea.common.errors import Conflict
from engagement.conversations.models import AuthorKind, Conversation, ConversationStatus, Message
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


def _while_uncommitted(conversation, external_id: str, *, then) -> dict:
    """Store ``external_id`` in ``conversation`` and hold the commit while ``then()`` runs on another
    thread; returns ``then``'s result (or its error) and the first message's id."""
    inserted, release, seen = threading.Event(), threading.Event(), {}

    def first() -> None:
        try:
            with transaction.atomic():
                seen["first"] = message_add(
                    conversation=conversation,
                    direction="inbound",
                    author_kind="customer",
                    body="hi",
                    external_id=external_id,
                )[0].pk
                inserted.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    def other() -> None:
        try:
            seen["other"] = then()
        except Exception as error:  # the test looks at it
            seen["error"] = error
        finally:
            connection.close()

    one, two = threading.Thread(target=first), threading.Thread(target=other)
    one.start()
    assert inserted.wait(timeout=30)
    two.start()
    wait_for_lock_waiters(1)
    release.set()
    one.join(timeout=30)
    two.join(timeout=30)
    return seen


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "again_in",
    [
        pytest.param("the same conversation", id="the widget resends it"),
        pytest.param("another conversation", id="a provider redelivers it, threaded elsewhere"),
    ],
)
def test_a_message_stored_again_while_its_first_copy_is_uncommitted_is_kept_once(again_in):
    # Given: a message being stored, not yet committed
    conversation, _ = conversation_start(channel="sms", external_id="race-a")
    other = (
        conversation
        if again_in == "the same conversation"
        else conversation_start(channel="sms", external_id="race-b")[0]
    )

    # When: it comes again (same external id) at that moment
    def again():
        return message_add(
            conversation=other, direction="inbound", author_kind="customer", body="hi", external_id="SM1"
        )

    seen = _while_uncommitted(conversation, "SM1", then=again)
    # Then: the second copy waited for the first (the conversation's lock, or the unique index:
    # then it rolled back whole) and got the first back, not a second row
    assert "error" not in seen, seen
    assert seen["other"] == (Message.objects.get(pk=seen["first"]), False)
    assert list(Message.objects.filter(external_id="SM1").values_list("conversation_id", flat=True)) == [
        conversation.pk
    ]


@pytest.mark.django_db
def test_messages_without_an_external_id_are_each_kept_and_one_with_it_once_per_channel():
    # Given: two chat conversations and an SMS one, and a chat message already stored with an external id
    chat, _ = conversation_start(channel="chat", external_id="once-a")
    other_chat, _ = conversation_start(channel="chat", external_id="once-b")
    sms, _ = conversation_start(channel="sms", external_id="once-c")

    def add(conversation, external_id=""):
        return message_add(
            conversation=conversation, direction="inbound", author_kind="customer", body="hi", external_id=external_id
        )

    first, created = add(chat, "v:1")
    assert created
    # When / Then: messages with no external id are never taken for one another
    plain = [add(chat), add(chat)]
    assert [was_created for _, was_created in plain] == [True, True]
    assert plain[0][0].pk != plain[1][0].pk
    # ... the same external id in the channel gives the first message back, from any of its conversations
    assert add(chat, "v:1") == (first, False)
    assert add(other_chat, "v:1") == (first, False)
    # ... and another channel's message may carry it
    assert add(sms, "v:1")[1] is True
    # ... and an ended conversation takes no new message, with a clear refusal
    Conversation.objects.filter(pk=chat.pk).update(status=ConversationStatus.ENDED)
    with pytest.raises(Conflict):
        add(chat, "v:2")
    assert Message.objects.filter(conversation=chat).count() == 3
