"""Outbound webhooks with a second database connection: commits out of id order, concurrent workers.

These tests commit (``transaction=True``): another connection in a thread holds a transaction
open while this one works.
"""

from __future__ import annotations

import pytest

from integration.webhooks.models import WebhookDelivery, WebhookRelayState
from integration.webhooks.services import (
    webhook_delivery_attempt,
    webhook_event_id,
    webhook_relay,
    webhook_subscription_create,
)
from records.journey.models import JourneyEvent
from tests.integration.hooks_loopback import WEBHOOK_SECRET, OtherConnection
from tests.support import make_customer

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = WEBHOOK_SECRET


@pytest.fixture
def hook(admin_user, receiver):
    last = JourneyEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    WebhookRelayState.objects.update_or_create(pk=1, defaults={"last_id": last, "gaps": {}})
    subscription, _ = webhook_subscription_create(
        actor=admin_user, name="CRM", url=receiver.url, events=["customer.created"], secret=SECRET
    )
    return subscription


def _deliveries(hook) -> list[WebhookDelivery]:
    return list(WebhookDelivery.objects.filter(subscription=hook).order_by("id"))


def _slow_change() -> int:
    customer = make_customer(family_name="Slow")
    return JourneyEvent.objects.get(customer=customer).pk


def test_an_event_committed_after_a_later_id_is_still_relayed(hook):
    # Given a change whose transaction is still open (its journey id taken), and a later one committed
    slow = OtherConnection(_slow_change)
    with slow:
        fast = make_customer(family_name="Fast")
        fast_event_id = JourneyEvent.objects.get(customer=fast).pk
        assert slow.result < fast_event_id

        # When the relay runs before the slow one commits
        webhook_relay()

        # Then it relays the committed one and remembers the missing id
        assert [d.event_id for d in _deliveries(hook)] == [webhook_event_id(journey_event_id=fast_event_id)]
        assert str(slow.result) in WebhookRelayState.objects.get(pk=1).gaps

    # When the slow one commits and the relay runs again
    webhook_relay()

    # Then it is relayed too, once, and the gap is closed
    assert [d.event_id for d in _deliveries(hook)] == [
        webhook_event_id(journey_event_id=fast_event_id),
        webhook_event_id(journey_event_id=slow.result),
    ]
    assert str(slow.result) not in WebhookRelayState.objects.get(pk=1).gaps
    assert webhook_relay().deliveries_created == 0


def test_a_second_relay_returns_at_once_while_one_runs(hook):
    # Given a relay holding the relay state (its row lock)
    webhook_relay()
    holder = OtherConnection(lambda: WebhookRelayState.objects.select_for_update().get(pk=1))
    with holder:
        make_customer()

        # When another relay starts
        result = webhook_relay()

    # Then it does nothing (the first one will read the new event)
    assert result is None
    assert _deliveries(hook) == []
    assert webhook_relay().deliveries_created == 1


def test_a_delivery_being_sent_by_one_worker_is_skipped_by_another(hook, receiver):
    # Given a delivery one worker is sending (it holds the row lock)
    make_customer()
    webhook_relay()
    [delivery] = _deliveries(hook)
    sending = OtherConnection(lambda: WebhookDelivery.objects.select_for_update().get(pk=delivery.pk))
    with sending:
        # When another worker attempts it
        outcome = webhook_delivery_attempt(delivery_id=delivery.pk)

    # Then it skipped it without sending
    assert outcome.status == "skipped"
    assert receiver.received == []
