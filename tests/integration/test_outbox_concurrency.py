"""The outbox with a second database connection: one message is never delivered by two workers at once."""

from __future__ import annotations

import pytest
from django.db import transaction

from integration.outbox import tasks
from integration.outbox.models import OutboxMessage
from integration.outbox.services import customer_address_change, outbox_deliver_one
from tests.integration.factories import ConnectorFactory
from tests.integration.hooks_loopback import OtherConnection
from tests.support import make_customer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def message(backend, monkeypatch) -> OutboxMessage:
    monkeypatch.setattr(tasks.outbox_deliver, "delay", lambda message_id: None)  # no worker here
    connector = ConnectorFactory(
        name="billing",
        kind="rest",
        system="billing",
        settings={
            "base_url": backend.base_url,
            "auth": "none",
            "write_backs": {"address_change": {"method": "POST", "path": "/writebacks/address_change"}},
        },
    )
    customer = make_customer()
    with transaction.atomic():
        _, message = customer_address_change(
            actor=None, customer=customer, address={"city": "York"}, connector=connector
        )
    return message


def test_a_message_one_worker_is_delivering_is_skipped_by_another(message, backend):
    # Given a worker delivering the message (it holds the row lock)
    with OtherConnection(lambda: OutboxMessage.objects.select_for_update().get(pk=message.pk)):
        # When another worker (or the sweep) takes it
        outcome = outbox_deliver_one(message_id=message.pk)

    # Then it skipped it without calling the back-end
    assert outcome.status == "skipped"
    assert backend.requests == 0
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("pending", 0)

    # …and once the lock is released, it is delivered once
    assert outbox_deliver_one(message_id=message.pk).status == "delivered"
    assert outbox_deliver_one(message_id=message.pk).status == "skipped"
    assert (backend.requests, len(backend.applied)) == (1, 1)


def test_the_sweep_does_not_wait_for_a_message_being_delivered(message, backend):
    # Given a worker delivering the message
    with OtherConnection(lambda: OutboxMessage.objects.select_for_update().get(pk=message.pk)):
        # When the sweep's task for it runs meanwhile
        status = tasks.outbox_deliver(message.pk)

    # Then it returned at once without a second delivery
    assert status == "skipped" and backend.requests == 0
