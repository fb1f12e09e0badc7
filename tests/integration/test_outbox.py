"""Write-back through the outbox: written with the change, delivered once by a worker with retries.

The legacy system is a real HTTP server on loopback reached by the REST connector; it applies a
write-back once per idempotency key, and can be down (not listening) and come back on its port.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from cea.common.errors import Conflict, ValidationFailed
from integration.connectors.models import Connector
from integration.outbox import tasks
from integration.outbox.models import OutboxMessage, OutboxStatus
from integration.outbox.selectors import outbox_for_customer
from integration.outbox.services import customer_address_change, outbox_deliver_one, outbox_enqueue, outbox_retry
from records.customers.models import Customer
from records.holdings.models import SourceRecord
from records.journey.models import JourneyEvent
from tests.integration.factories import ConnectorFactory
from tests.integration.hooks_loopback import Answer, LegacyBackend
from tests.support import make_customer

NEW_ADDRESS = {"address_line1": "1 Park Row", "city": "Leeds", "postcode": "LS1 5HN", "country": "gb"}


@pytest.fixture(autouse=True)
def _retry_settings(settings):
    settings.CEA_OUTBOX_RETRY_BASE_SECONDS = 10
    settings.CEA_OUTBOX_RETRY_MAX_SECONDS = 3600
    settings.CEA_OUTBOX_MAX_ATTEMPTS = 5


@pytest.fixture
def down_backend():
    """A back-end that is down: its port is known but nothing listens; ``start()`` brings it up there."""
    server = LegacyBackend()
    server.start()
    server.stop()
    yield server
    server.stop()


def _connector(server: LegacyBackend) -> Connector:
    return ConnectorFactory(
        name="billing",
        kind="rest",
        system="billing",
        timeout_seconds=2,
        settings={
            "base_url": server.base_url,
            "auth": "none",
            "write_backs": {"address_change": {"method": "POST", "path": "/writebacks/address_change"}},
        },
    )


@pytest.fixture
def customer(db) -> Customer:
    customer = make_customer(given_name="Ada", family_name="Lovelace")
    SourceRecord.objects.create(customer=customer, system="billing", external_id="B-1001")
    return customer


def test_an_address_change_writes_records_and_the_outbox_together(customer, backend, agent):
    # Given a customer the billing system knows as B-1001
    connector = _connector(backend)

    # When their address changes
    customer, message = customer_address_change(
        actor=agent, customer=customer, address=NEW_ADDRESS, connector=connector
    )

    # Then records has it (with its journey event), and a pending message carries it to billing
    customer.refresh_from_db()
    assert (customer.address_line1, customer.city, customer.postcode, customer.country) == (
        "1 Park Row",
        "Leeds",
        "LS1 5HN",
        "GB",
    )
    assert JourneyEvent.objects.filter(customer=customer, kind="customer.updated").count() == 1
    assert (message.status, message.kind, message.connector, message.customer, message.created_by) == (
        "pending",
        "address_change",
        connector,
        customer,
        agent,
    )
    assert message.payload == {
        "customer_id": customer.pk,
        "external_id": "B-1001",
        "address": {
            "address_line1": "1 Park Row",
            "address_line2": "",
            "city": "Leeds",
            "postcode": "LS1 5HN",
            "country": "GB",
        },
    }


def test_a_rolled_back_change_leaves_no_message(customer, backend, agent):
    # Given a change whose transaction rolls back after the address change
    connector = _connector(backend)
    with pytest.raises(RuntimeError), transaction.atomic():
        customer_address_change(actor=agent, customer=customer, address=NEW_ADDRESS, connector=connector)
        raise RuntimeError("the rest of the change failed")

    # Then neither the address nor a message exists
    customer.refresh_from_db()
    assert (customer.address_line1, OutboxMessage.objects.count()) == ("", 0)


def test_a_refused_address_writes_nothing(customer, backend, agent):
    connector = _connector(backend)

    with pytest.raises(ValidationFailed):
        customer_address_change(
            actor=agent, customer=customer, address={"country": "Great Britain"}, connector=connector
        )
    with pytest.raises(ValidationFailed):
        customer_address_change(actor=agent, customer=customer, address={"email": "x@example.com"}, connector=connector)

    assert OutboxMessage.objects.count() == 0


def test_a_message_is_delivered_on_commit(customer, backend, agent, eager_tasks, django_capture_on_commit_callbacks):
    # Given the back-end is up
    connector = _connector(backend)

    # When the change commits
    with django_capture_on_commit_callbacks(execute=True):
        _, message = customer_address_change(actor=agent, customer=customer, address=NEW_ADDRESS, connector=connector)

    # Then the back-end applied it once, with the message's key, and the message records the answer
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error, message.result) == (
        "delivered",
        1,
        "",
        {"reference": "WB-00001"},
    )
    assert message.delivered_at is not None
    assert backend.applied == {
        str(message.key): {"kind": "address_change", **{k: v for k, v in message.payload.items()}}
    }


def test_back_end_down_then_up_delivers_exactly_once(
    customer, down_backend, agent, eager_tasks, django_capture_on_commit_callbacks, monkeypatch
):
    # Given the back-end is down
    connector = _connector(down_backend)
    retries = []
    send_now = tasks.outbox_deliver.apply_async

    def apply_async(args, kwargs=None, countdown=None, **options):
        if countdown is None:  # the first attempt, sent on commit
            return send_now(args, kwargs, **options)
        retries.append((args, countdown))  # a retry: recorded, not run

    monkeypatch.setattr(tasks.outbox_deliver, "apply_async", apply_async)

    # When the change commits
    with django_capture_on_commit_callbacks(execute=True):
        _, message = customer_address_change(actor=agent, customer=customer, address=NEW_ADDRESS, connector=connector)

    # Then the first attempt failed, is recorded, and its retry was sent 5-10 s out (backoff with jitter)
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.last_error != ""
    [(args, countdown)] = retries
    assert args == (message.pk,) and 5 <= countdown <= 10
    assert message.next_attempt_at > timezone.now()

    # When the back-end is still down at the retry
    second = outbox_deliver_one(message_id=message.pk, now=message.next_attempt_at)
    assert (second.status, 10 <= second.retry_in <= 20) == ("pending", True)

    # When it comes back and the sweep finds the message due
    down_backend.start()
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        swept = tasks.sweep()

    # Then it is delivered, once
    message.refresh_from_db()
    assert (swept, message.status, message.attempts, message.last_error) == (1, "delivered", 3, "")
    assert (down_backend.requests, list(down_backend.applied)) == (1, [str(message.key)])

    # …and never again: a late duplicate task and another sweep do nothing
    assert outbox_deliver_one(message_id=message.pk).status == "skipped"
    assert tasks.sweep() == 0
    assert down_backend.requests == 1


def test_a_permanent_refusal_fails_the_message_with_the_reason(customer, backend, agent):
    # Given a back-end that refuses the change (422)
    connector = _connector(backend)
    with transaction.atomic():
        _, message = customer_address_change(actor=agent, customer=customer, address=NEW_ADDRESS, connector=connector)
    backend.answer_next(Answer(422, '{"error": "postcode not in the service area"}'))

    # When it is delivered
    outcome = outbox_deliver_one(message_id=message.pk)

    # Then it failed for good, with the reason, and is not tried again
    message.refresh_from_db()
    assert (outcome.status, outcome.retry_in, message.status, message.attempts) == ("failed", None, "failed", 1)
    assert "postcode not in the service area" in message.last_error
    assert outbox_deliver_one(message_id=message.pk).status == "skipped"
    assert backend.requests == 1


def test_429_retry_after_is_honoured(customer, backend, agent):
    # Given a back-end asking to wait 90 s
    connector = _connector(backend)
    with transaction.atomic():
        _, message = customer_address_change(actor=agent, customer=customer, address=NEW_ADDRESS, connector=connector)
    backend.answer_next(Answer(429, '{"error": "slow down"}', {"Retry-After": "90"}))
    before = timezone.now()

    # When it is delivered
    outcome = outbox_deliver_one(message_id=message.pk)

    # Then the next attempt is 90 s away
    message.refresh_from_db()
    assert (outcome.status, outcome.retry_in) == ("pending", 90.0)
    assert before + timedelta(seconds=90) <= message.next_attempt_at <= timezone.now() + timedelta(seconds=90)


def test_a_message_is_given_up_after_the_maximum_attempts(customer, down_backend, agent, settings):
    # Given a back-end that stays down and 2 attempts allowed
    settings.CEA_OUTBOX_MAX_ATTEMPTS = 2
    connector = _connector(down_backend)
    with transaction.atomic():
        _, message = customer_address_change(actor=agent, customer=customer, address=NEW_ADDRESS, connector=connector)

    # When it is attempted twice, each time when due
    first = outbox_deliver_one(message_id=message.pk)
    message.refresh_from_db()
    second = outbox_deliver_one(message_id=message.pk, now=message.next_attempt_at)

    # Then it failed after the second
    message.refresh_from_db()
    assert [first.status, second.status] == ["pending", "failed"]
    assert (message.status, message.attempts) == ("failed", 2)
    assert message.last_error.startswith("Gave up after 2 attempts: ")


def test_a_failed_message_can_be_sent_again_but_a_delivered_one_cannot(
    customer, backend, agent, admin_user, eager_tasks, django_capture_on_commit_callbacks
):
    # Given a message refused once
    connector = _connector(backend)
    with transaction.atomic():
        _, message = customer_address_change(actor=agent, customer=customer, address=NEW_ADDRESS, connector=connector)
    backend.answer_next(Answer(400, '{"error": "try later"}'))
    outbox_deliver_one(message_id=message.pk)

    # When an admin sends it again
    with django_capture_on_commit_callbacks(execute=True):
        outbox_retry(actor=admin_user, message=message)

    # Then it is delivered; sending it again is refused
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("delivered", 1)
    with pytest.raises(Conflict):
        outbox_retry(actor=admin_user, message=message)
    assert len(backend.applied) == 1


def test_outbox_for_customer_shows_the_statuses_newest_first(customer, backend, agent):
    # Given two write-backs for the customer: one refused, one waiting
    connector = _connector(backend)
    with transaction.atomic():
        _, refused = customer_address_change(actor=agent, customer=customer, address=NEW_ADDRESS, connector=connector)
    backend.answer_next(Answer(422, '{"error": "no"}'))
    outbox_deliver_one(message_id=refused.pk)
    with transaction.atomic():
        _, waiting = customer_address_change(
            actor=agent, customer=customer, address={"address_line2": "Flat 2"}, connector=connector
        )

    # Then the desktop's selector lists both, newest first, with their statuses
    assert [(m.pk, m.status, m.connector.name) for m in outbox_for_customer(customer=customer)] == [
        (waiting.pk, OutboxStatus.PENDING, "billing"),
        (refused.pk, OutboxStatus.FAILED, "billing"),
    ]


def test_enqueue_refuses_a_switched_off_connector(customer, backend):
    connector = _connector(backend)
    Connector.objects.filter(pk=connector.pk).update(is_active=False)
    connector.refresh_from_db()

    with pytest.raises(Conflict), transaction.atomic():
        outbox_enqueue(connector=connector, kind="address_change", payload={}, customer=customer)


@pytest.mark.django_db(transaction=True)
def test_enqueue_outside_a_transaction_is_refused(backend):
    # Given no transaction open (autocommit)
    connector = _connector(backend)

    # Then enqueueing is refused: the message must commit with its change
    with pytest.raises(ValidationFailed):
        outbox_enqueue(connector=connector, kind="address_change", payload={"customer_id": 1})
    assert OutboxMessage.objects.count() == 0
