"""Outbound webhooks: the relay of the journey log, signing, retries, the delivery log, auto-disable.

Deliveries go to a real HTTP receiver on loopback that checks the signature as a subscriber would.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from integration.webhooks import tasks
from integration.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookRelayState, WebhookSubscription
from integration.webhooks.services import (
    webhook_delivery_attempt,
    webhook_delivery_redeliver,
    webhook_event_id,
    webhook_relay,
    webhook_subscription_create,
    webhook_subscription_enable,
)
from records.cases.services import case_create, case_transition
from records.customers.services import customer_merge, customer_update
from records.interactions.services import interaction_record
from records.journey.models import JourneyEvent
from tests.integration.hooks_loopback import WEBHOOK_SECRET, Answer
from tests.support import make_customer

SECRET = WEBHOOK_SECRET


@pytest.fixture
def _retry_settings(settings):
    settings.CEA_WEBHOOK_RETRY_BASE_SECONDS = 10
    settings.CEA_WEBHOOK_RETRY_MAX_SECONDS = 3600
    settings.CEA_WEBHOOK_MAX_ATTEMPTS = 4
    settings.CEA_WEBHOOK_DISABLE_AFTER = 3


@pytest.fixture
def subscribe(admin_user, receiver):
    def make(events=("customer.created",), *, url=None, secret=SECRET, name="CRM"):
        subscription, _ = webhook_subscription_create(
            actor=admin_user, name=name, url=url or receiver.url, events=list(events), secret=secret
        )
        return subscription

    return make


@pytest.fixture
def relay_from_now(db):
    """The relay starts after every journey event made so far."""
    last = JourneyEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    WebhookRelayState.objects.update_or_create(pk=1, defaults={"last_id": last, "gaps": {}})


def _deliveries(subscription) -> list[WebhookDelivery]:
    return list(WebhookDelivery.objects.filter(subscription=subscription).order_by("id"))


# --- The relay -----------------------------------------------------------------------------------


def test_relay_makes_one_delivery_per_matching_active_subscription(subscribe, relay_from_now, admin_user):
    # Given subscriptions to customer.created, to case.created, and a disabled one to customer.created
    customers_hook = subscribe(["customer.created"], name="customers")
    cases_hook = subscribe(["case.created"], name="cases")
    disabled_hook = subscribe(["customer.created"], name="off")
    disabled_hook.is_active = False
    disabled_hook.save()

    # When a customer is created and the relay runs
    customer = make_customer(given_name="Ada", family_name="Lovelace")
    result = webhook_relay()

    # Then only the active customer.created subscription has a delivery, for that journey event
    event = JourneyEvent.objects.get(customer=customer, kind="customer.created")
    [delivery] = _deliveries(customers_hook)
    assert (delivery.event, delivery.event_id, delivery.status) == (
        "customer.created",
        webhook_event_id(journey_event_id=event.pk),
        "pending",
    )
    assert delivery.payload == {
        "id": str(webhook_event_id(journey_event_id=event.pk)),
        "type": "customer.created",
        "occurred_at": event.occurred_at.isoformat(),
        "data": {
            "customer_id": customer.pk,
            "journey_event_id": event.pk,
            "kind": "customer.created",
            "channel": "",
            "source_system": "records",
            "details": {},
        },
    }
    assert _deliveries(cases_hook) == [] and _deliveries(disabled_hook) == []
    assert result.deliveries_created == 1
    assert WebhookRelayState.objects.get(pk=1).last_id == JourneyEvent.objects.order_by("-id").first().pk


def test_the_first_relay_starts_after_events_older_than_every_subscription(subscribe):
    # Given no relay yet, an event before the first subscription and one after it
    WebhookRelayState.objects.all().delete()
    make_customer(family_name="Before")
    hook = subscribe(["customer.created"])
    after = make_customer(family_name="After")

    # When the relay runs for the first time
    webhook_relay()

    # Then only the later event is delivered
    assert [d.payload["data"]["customer_id"] for d in _deliveries(hook)] == [after.pk]


def test_the_relay_task_reads_batch_after_batch_while_behind(subscribe, relay_from_now, settings, monkeypatch):
    # Given five new events and batches of two
    settings.CEA_WEBHOOK_RELAY_BATCH = 2
    hook = subscribe(["customer.created"])
    for number in range(5):
        make_customer(family_name=f"Customer {number}")
    monkeypatch.setattr(tasks.webhook_deliver, "delay", lambda delivery_id: None)

    # When the beat's relay task runs once
    made = tasks.relay()

    # Then it caught up in one run
    assert made == 5 and len(_deliveries(hook)) == 5


def test_event_ids_are_deterministic_uuid5_of_the_journey_event():
    assert webhook_event_id(journey_event_id=42) == webhook_event_id(journey_event_id=42)
    assert webhook_event_id(journey_event_id=42) != webhook_event_id(journey_event_id=43)
    assert webhook_event_id(journey_event_id=42).version == 5


def test_a_relay_repeated_after_a_crash_makes_no_duplicates(subscribe, relay_from_now):
    # Given a relay that inserted deliveries but whose watermark was lost (crashed before keeping it)
    hook = subscribe(["customer.created", "customer.updated"])
    before = WebhookRelayState.objects.get(pk=1).last_id
    customer = make_customer()
    customer_update(actor=None, customer=customer, city="Leeds")
    webhook_relay()
    assert len(_deliveries(hook)) == 2
    WebhookRelayState.objects.filter(pk=1).update(last_id=before)

    # When the relay runs again over the same events
    result = webhook_relay()

    # Then it reads them again but makes nothing new
    assert (result.events_read > 0, result.deliveries_created) == (True, 0)
    assert [d.event for d in _deliveries(hook)] == ["customer.created", "customer.updated"]


def test_the_relay_maps_customer_case_and_interaction_events(subscribe, relay_from_now, admin_user):
    # Given a subscription to every event
    hook = subscribe(
        [
            "customer.created",
            "customer.updated",
            "customer.merged",
            "case.created",
            "case.updated",
            "interaction.recorded",
        ]
    )

    # When a customer's story moves on in each way
    survivor = make_customer(given_name="Sam", family_name="One")
    merged = make_customer(given_name="Sam", family_name="Two")
    customer_update(actor=admin_user, customer=survivor, postcode="LS1 4AP")
    case = case_create(actor=admin_user, customer=survivor, subject="Broken boiler")
    case_transition(actor=admin_user, case=case, transition="resolve", note="Fixed")
    now = timezone.now()
    interaction_record(
        actor=admin_user, channel="voice", started_at=now - timedelta(minutes=5), ended_at=now, customer=survivor
    )
    customer_merge(actor=admin_user, survivor_id=survivor.pk, merged_id=merged.pk)
    webhook_relay()

    # Then each became its webhook event, in journey order
    events = [d.event for d in _deliveries(hook)]
    assert events[:3] == ["customer.created", "customer.created", "customer.updated"]
    assert events[3] == "case.created"
    assert "case.updated" in events and "interaction.recorded" in events and events[-1] == "customer.merged"
    merged_delivery = _deliveries(hook)[-1]
    assert merged_delivery.payload["data"]["details"]["merged_id"] == merged.pk


def test_a_subscription_gets_no_events_recorded_before_it_existed(subscribe, relay_from_now):
    # Given an event recorded before the subscription
    make_customer()
    hook = subscribe(["customer.created"])
    WebhookSubscription.objects.filter(pk=hook.pk).update(created_at=timezone.now() + timedelta(seconds=1))

    # When the relay runs
    webhook_relay()

    # Then the subscription has nothing
    assert _deliveries(hook) == []


def test_an_id_missing_when_read_is_relayed_when_it_appears_later(subscribe, relay_from_now):
    # Given a relay that saw ids after a gap (the gap's transaction was still open)
    hook = subscribe(["customer.created"])
    first, second = make_customer(family_name="First"), make_customer(family_name="Second")
    late_event = JourneyEvent.objects.get(customer=first, kind="customer.created")
    WebhookRelayState.objects.filter(pk=1).update(
        last_id=JourneyEvent.objects.order_by("-id").first().pk, gaps={str(late_event.pk): time.time()}
    )

    # When the relay runs again
    result = webhook_relay()

    # Then the event from the gap is delivered and the gap forgotten; the rest was already read
    [delivery] = _deliveries(hook)
    assert delivery.event_id == webhook_event_id(journey_event_id=late_event.pk)
    assert (result.gaps, WebhookRelayState.objects.get(pk=1).gaps) == (0, {})
    assert second.pk  # read before, not again


def test_an_id_that_never_commits_is_looked_for_within_the_grace_then_given_up(subscribe, relay_from_now, settings):
    # Given a journey id taken by a change that rolled back, then a committed event after it
    hook = subscribe(["customer.created"])
    with pytest.raises(RuntimeError), transaction.atomic():
        rolled_back = make_customer(family_name="Rolled back")
        [missing_id] = JourneyEvent.objects.filter(customer=rolled_back).values_list("id", flat=True)
        raise RuntimeError
    kept = make_customer(family_name="Kept")

    # When the relay runs
    first = webhook_relay()

    # Then it delivers what committed and keeps looking for the missing id…
    assert [d.payload["data"]["customer_id"] for d in _deliveries(hook)] == [kept.pk]
    assert str(missing_id) in WebhookRelayState.objects.get(pk=1).gaps
    assert webhook_relay().gaps == first.gaps >= 1

    # …until the grace is over
    state = WebhookRelayState.objects.get(pk=1)
    aged = {
        event_id: first_missed - settings.CEA_WEBHOOK_RELAY_GAP_SECONDS - 1
        for event_id, first_missed in state.gaps.items()
    }
    WebhookRelayState.objects.filter(pk=1).update(gaps=aged)
    assert webhook_relay().gaps == 0


# --- Sending: signing, log, retries ---------------------------------------------------------------


def test_a_delivery_is_signed_and_logged(subscribe, relay_from_now, receiver):
    # Given a pending delivery
    hook = subscribe(["customer.created"])
    make_customer()
    webhook_relay()
    [delivery] = _deliveries(hook)

    # When it is attempted
    outcome = webhook_delivery_attempt(delivery_id=delivery.pk)

    # Then the receiver got one signed POST with the event's headers, and the log says delivered
    [request] = receiver.received
    assert request.signature_valid is True
    assert request.headers["X-CEA-Event"] == "customer.created"
    assert request.headers["X-CEA-Delivery"] == str(delivery.event_id)
    assert abs(int(request.headers["X-CEA-Timestamp"]) - int(time.time())) < 60
    assert request.headers["Content-Type"] == "application/json"
    assert request.json == json.loads(json.dumps(delivery.payload))
    delivery.refresh_from_db()
    assert (outcome.status, outcome.retry_in) == ("delivered", None)
    assert (delivery.status, delivery.attempts, delivery.response_status, delivery.response_body) == (
        "delivered",
        1,
        200,
        '{"ok": true}',
    )
    assert delivery.last_error == "" and delivery.delivered_at is not None


def test_a_wrong_secret_fails_the_receivers_check(subscribe, relay_from_now, receiver):
    # Given a subscription whose secret the receiver does not know
    hook = subscribe(["customer.created"], secret="another-secret-0123456789")
    make_customer()
    webhook_relay()

    # When delivered
    webhook_delivery_attempt(delivery_id=_deliveries(hook)[0].pk)

    # Then the receiver's signature check fails
    assert [r.signature_valid for r in receiver.received] == [False]


@pytest.mark.usefixtures("_retry_settings")
def test_5xx_is_retried_with_exponential_backoff_and_jitter(subscribe, relay_from_now, receiver):
    # Given a receiver failing with 500 twice, then well
    hook = subscribe(["customer.created"])
    make_customer()
    webhook_relay()
    [delivery] = _deliveries(hook)
    receiver.answer_next(Answer(500, "boom"), Answer(503, "busy"))

    # When attempted three times, each when due
    first = webhook_delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status, delivery.response_body) == (
        "pending",
        1,
        500,
        "boom",
    )
    assert delivery.last_error == "HTTP 500 Internal Server Error"
    not_due = webhook_delivery_attempt(delivery_id=delivery.pk)
    second = webhook_delivery_attempt(delivery_id=delivery.pk, now=delivery.next_attempt_at)
    delivery.refresh_from_db()
    third = webhook_delivery_attempt(delivery_id=delivery.pk, now=delivery.next_attempt_at)

    # Then the waits doubled (equal jitter: half the ceiling plus up to half), and it got through
    assert 5 <= first.retry_in <= 10
    assert not_due.status == "skipped"
    assert 10 <= second.retry_in <= 20
    assert (third.status, third.retry_in) == ("delivered", None)
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.status, len(receiver.received)) == (3, "delivered", 3)
    assert len({r.headers["X-CEA-Delivery"] for r in receiver.received}) == 1


def test_the_log_keeps_the_start_of_a_long_answer(subscribe, relay_from_now, receiver):
    # Given a receiver answering with 100 kB (and a NUL byte PostgreSQL would refuse)
    hook = subscribe(["customer.created"])
    make_customer()
    webhook_relay()
    receiver.answer_next(Answer(200, "\x00" + "x" * 100_000))

    # When delivered
    webhook_delivery_attempt(delivery_id=_deliveries(hook)[0].pk)

    # Then the log keeps its first 2,000 characters
    [delivery] = _deliveries(hook)
    assert (delivery.status, delivery.response_body) == ("delivered", "x" * 2000)


@pytest.mark.usefixtures("_retry_settings")
def test_429_waits_as_long_as_retry_after_says(subscribe, relay_from_now, receiver):
    # Given a receiver answering 429 with Retry-After: 120
    hook = subscribe(["customer.created"])
    make_customer()
    webhook_relay()
    [delivery] = _deliveries(hook)
    receiver.answer_next(Answer(429, "slow down", {"Retry-After": "120"}))
    before = timezone.now()

    # When attempted
    outcome = webhook_delivery_attempt(delivery_id=delivery.pk)

    # Then the next attempt is 120 s away
    delivery.refresh_from_db()
    assert (outcome.status, outcome.retry_in, delivery.response_status) == ("pending", 120.0, 429)
    assert before + timedelta(seconds=120) <= delivery.next_attempt_at <= timezone.now() + timedelta(seconds=120)


@pytest.mark.usefixtures("_retry_settings")
def test_a_timeout_is_retried(subscribe, relay_from_now, receiver, settings):
    # Given a receiver that does not answer within the timeout
    settings.CEA_WEBHOOK_TIMEOUT_SECONDS = 0.3
    hook = subscribe(["customer.created"])
    make_customer()
    webhook_relay()
    [delivery] = _deliveries(hook)
    receiver.answer_next(Answer(hang=True))

    # When attempted
    outcome = webhook_delivery_attempt(delivery_id=delivery.pk)

    # Then it is logged as a timeout and retried
    delivery.refresh_from_db()
    assert (outcome.status, delivery.attempts, delivery.response_status) == ("pending", 1, None)
    assert delivery.last_error.startswith("ReadTimeout")
    assert 5 <= outcome.retry_in <= 10


@pytest.mark.usefixtures("_retry_settings")
def test_an_unreachable_receiver_is_retried(subscribe, relay_from_now, receiver):
    # Given a receiver that is not listening
    with socket.socket() as probe:  # a port nothing listens on: bound, then released
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    hook = subscribe(["customer.created"], url=f"http://127.0.0.1:{port}/hooks")
    make_customer()
    webhook_relay()

    # When attempted
    outcome = webhook_delivery_attempt(delivery_id=_deliveries(hook)[0].pk)

    # Then it is a connection error, retried
    [delivery] = _deliveries(hook)
    assert (outcome.status, delivery.last_error.split(":")[0]) == ("pending", "ConnectError")


@pytest.mark.usefixtures("_retry_settings")
def test_a_4xx_other_than_429_fails_at_once(subscribe, relay_from_now, receiver):
    # Given a receiver refusing with 400
    hook = subscribe(["customer.created"])
    make_customer()
    webhook_relay()
    receiver.answer_next(Answer(400, '{"error": "bad"}'))

    # When attempted
    outcome = webhook_delivery_attempt(delivery_id=_deliveries(hook)[0].pk)

    # Then the delivery failed for good and the subscription counts one failure
    [delivery] = _deliveries(hook)
    hook.refresh_from_db()
    assert (outcome.status, outcome.retry_in) == ("failed", None)
    assert (delivery.status, delivery.attempts, delivery.response_status, delivery.last_error) == (
        "failed",
        1,
        400,
        "HTTP 400 Bad Request",
    )
    assert (hook.failures_in_row, hook.is_active) == (1, True)


@pytest.mark.usefixtures("_retry_settings")
def test_a_delivery_is_given_up_after_the_maximum_attempts(subscribe, relay_from_now, receiver):
    # Given a receiver failing every time, and 4 attempts allowed
    hook = subscribe(["customer.created"])
    make_customer()
    webhook_relay()
    [delivery] = _deliveries(hook)
    receiver.answer_next(*[Answer(502, "bad gateway")] * 4)

    # When attempted each time it is due
    outcomes = []
    for _ in range(4):
        delivery.refresh_from_db()
        outcomes.append(webhook_delivery_attempt(delivery_id=delivery.pk, now=delivery.next_attempt_at))

    # Then the fourth failure gives up
    assert [o.status for o in outcomes] == ["pending", "pending", "pending", "failed"]
    assert outcomes[-1].retry_in is None
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, len(receiver.received)) == ("failed", 4, 4)


@pytest.mark.usefixtures("_retry_settings")
def test_a_subscription_is_disabled_after_failed_deliveries_in_a_row_and_can_be_enabled(
    subscribe, relay_from_now, receiver, admin_user, eager_tasks, django_capture_on_commit_callbacks
):
    # Given a receiver that is gone (410) and a limit of 3 failed deliveries in a row
    hook = subscribe(["customer.created"])
    for name in ("One", "Two", "Three", "Four"):
        make_customer(family_name=name)
    webhook_relay()
    deliveries = _deliveries(hook)
    receiver.answer_next(*[Answer(410, "gone")] * 3)

    # When the deliveries are attempted
    outcomes = [webhook_delivery_attempt(delivery_id=d.pk).status for d in deliveries]

    # Then three fail, the subscription is disabled with the reason, and the fourth waits
    hook.refresh_from_db()
    assert outcomes == ["failed", "failed", "failed", "skipped"]
    assert (hook.is_active, hook.failures_in_row) == (False, 3)
    assert hook.disabled_reason == "3 deliveries in a row failed; the last: HTTP 410 Gone"
    assert hook.disabled_at is not None
    assert WebhookDelivery.objects.get(pk=deliveries[3].pk).status == DeliveryStatus.PENDING
    # …and new events make no deliveries for it
    make_customer(family_name="Five")
    assert webhook_relay().deliveries_created == 0

    # When an admin enables it (the receiver is back)
    with django_capture_on_commit_callbacks(execute=True):
        webhook_subscription_enable(actor=admin_user, subscription=hook)

    # Then its waiting delivery is sent and its count starts again
    hook.refresh_from_db()
    assert (hook.is_active, hook.failures_in_row, hook.disabled_reason) == (True, 0, "")
    assert WebhookDelivery.objects.get(pk=deliveries[3].pk).status == DeliveryStatus.DELIVERED


@pytest.mark.usefixtures("_retry_settings")
def test_a_success_resets_the_failures_in_a_row(subscribe, relay_from_now, receiver):
    # Given two failed deliveries, then one that succeeds
    hook = subscribe(["customer.created"])
    for name in ("One", "Two", "Three"):
        make_customer(family_name=name)
    webhook_relay()
    receiver.answer_next(Answer(404, "no"), Answer(404, "no"))

    # When attempted
    for delivery in _deliveries(hook):
        webhook_delivery_attempt(delivery_id=delivery.pk)

    # Then the count is back to zero
    hook.refresh_from_db()
    assert (hook.failures_in_row, hook.is_active) == (0, True)


@pytest.mark.usefixtures("_retry_settings")
def test_redeliver_sends_the_same_event_again(
    subscribe, relay_from_now, receiver, admin_user, eager_tasks, django_capture_on_commit_callbacks
):
    # Given a failed delivery
    hook = subscribe(["customer.created"])
    make_customer()
    webhook_relay()
    receiver.answer_next(Answer(400, "bad"))
    [delivery] = _deliveries(hook)
    webhook_delivery_attempt(delivery_id=delivery.pk)

    # When an admin redelivers it
    with django_capture_on_commit_callbacks(execute=True):
        webhook_delivery_redeliver(actor=admin_user, delivery=delivery)

    # Then the receiver got the same event id and body twice, and it is delivered at attempt 1
    assert [r.headers["X-CEA-Delivery"] for r in receiver.received] == [str(delivery.event_id)] * 2
    assert receiver.received[0].body == receiver.received[1].body
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("delivered", 1, 200)


# --- Tasks ---------------------------------------------------------------------------------------


def test_relay_then_delivery_run_as_tasks_on_commit(
    subscribe, relay_from_now, receiver, eager_tasks, django_capture_on_commit_callbacks
):
    # Given a subscription and a new customer
    hook = subscribe(["customer.created"])
    customer = make_customer()

    # When the beat runs the relay task (the deliveries are sent on commit)
    with django_capture_on_commit_callbacks(execute=True):
        made = tasks.relay.delay().get()

    # Then the receiver got the event
    assert made == 1
    [request] = receiver.received
    assert (request.signature_valid, request.json["data"]["customer_id"]) == (True, customer.pk)
    assert _deliveries(hook)[0].status == "delivered"


@pytest.mark.usefixtures("_retry_settings")
def test_the_deliver_task_sends_its_retry_with_the_countdown_chosen(subscribe, relay_from_now, receiver, monkeypatch):
    # Given a receiver answering 429 with Retry-After: 45
    hook = subscribe(["customer.created"])
    make_customer()
    webhook_relay()
    [delivery] = _deliveries(hook)
    receiver.answer_next(Answer(429, "later", {"Retry-After": "45"}))
    sent = []
    monkeypatch.setattr(tasks.webhook_deliver, "apply_async", lambda args, countdown: sent.append((args, countdown)))

    # When the task runs
    status = tasks.webhook_deliver(delivery.pk)

    # Then it sent its retry 45 s out
    assert (status, sent) == ("pending", [((delivery.pk,), 45.0)])


def test_the_sweep_sends_deliveries_whose_task_was_lost(subscribe, relay_from_now, receiver, monkeypatch):
    # Given a delivery due a minute ago (its task lost) and one not yet due
    hook = subscribe(["customer.created"])
    make_customer(family_name="Due")
    make_customer(family_name="Later")
    webhook_relay()
    due, later = _deliveries(hook)
    WebhookDelivery.objects.filter(pk=due.pk).update(next_attempt_at=timezone.now() - timedelta(minutes=1))
    WebhookDelivery.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=1))
    sent = []
    monkeypatch.setattr(tasks.webhook_deliver, "delay", sent.append)

    # When the sweep runs
    count = tasks.sweep()

    # Then only the due one is sent
    assert (count, sent) == (1, [due.pk])


def test_unknown_delivery_attempt_is_skipped(db):
    assert webhook_delivery_attempt(delivery_id=10**9).status == "skipped"
    assert uuid.UUID(str(webhook_event_id(journey_event_id=1)))
