"""Webhooks go to public addresses only (no SSRF): refused when saved and again at every delivery.

``CEA_WEBHOOK_ALLOW_PRIVATE_TARGETS`` is off here unless a test turns it on; the receiver is a
real HTTP server on loopback, reached through the name ``localhost``.
"""

from __future__ import annotations

import ipaddress
import logging

import pytest
from django.test import Client

from integration.webhooks.models import WebhookDelivery, WebhookRelayState, WebhookSubscription
from integration.webhooks.services import (
    webhook_delivery_attempt,
    webhook_delivery_redeliver,
    webhook_relay,
    webhook_subscription_create,
)
from integration.webhooks.targets import address_kind, webhook_target_problem
from records.journey.models import JourneyEvent
from tests.integration.hooks_loopback import Answer, WebhookReceiver
from tests.support import assert_error, make_customer, session_client

SECRET = "test-signing-secret-0123456789"
API = "/api/v1/integration/webhooks/"
ADMIN_ADD = "/admin/integration/webhooksubscription/add/"
INTERNAL_URLS = [
    "http://127.0.0.1/hooks",
    "http://localhost:8000/hooks",
    "https://10.1.2.3/hooks",
    "https://192.168.0.10/hooks",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/hooks",
    "http://[fd12:3456::1]/hooks",
    "http://[::ffff:10.0.0.1]/hooks",
    "http://0.0.0.0/hooks",
    "http://224.0.0.1/hooks",
]


@pytest.fixture(autouse=True)
def _public_targets_only(settings):
    settings.CEA_WEBHOOK_ALLOW_PRIVATE_TARGETS = False


@pytest.fixture
def receiver():
    server = WebhookReceiver(secret=SECRET)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def relay_from_now(db):
    last = JourneyEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    WebhookRelayState.objects.update_or_create(pk=1, defaults={"last_id": last, "gaps": {}})


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("fd00::1", "private"),
        ("::ffff:192.168.1.1", "private"),
        ("224.0.0.251", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address judged, not bound
        ("::", "unspecified"),
        ("100.64.0.1", "non-global"),
        ("240.0.0.1", "reserved"),
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_only_public_unicast_addresses_pass(address, kind):
    assert address_kind(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://crm.example/hooks", None),  # does not resolve now: checked again at every attempt
        ("http://2130706433/hooks", "2130706433 (127.0.0.1) is not a public address (loopback)"),
        ("http://localhost/hooks", "localhost (127.0.0.1) is not a public address (loopback)"),
        ("http://[fe80::1]:8080/hooks", "fe80::1 is not a public address (link-local)"),
    ],
)
def test_a_host_is_judged_by_the_addresses_it_resolves_to(url, problem):
    found = webhook_target_problem(url)
    assert (found and found.split(";")[0]) == problem


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_the_api_refuses_a_subscription_to_an_internal_address(admin_user, url):
    # Given an admin using the API
    client = session_client(admin_user)

    # When they subscribe an internal address
    response = client.post(API, {"name": "CRM", "url": url, "events": ["customer.created"]}, format="json")

    # Then it is refused on the URL field and nothing is saved
    error = assert_error(response, 400, "invalid")
    assert list(error["fields"]) == ["url"]
    assert "webhooks are sent to public addresses only" in error["fields"]["url"][0]
    assert WebhookSubscription.objects.count() == 0


def test_the_api_refuses_changing_a_subscription_to_the_metadata_address(admin_user):
    # Given a subscription to a public name
    client = session_client(admin_user)
    created = client.post(
        API, {"name": "CRM", "url": "https://crm.example/hooks", "events": ["customer.created"]}, format="json"
    )
    assert created.status_code == 201

    # When its URL is changed to the cloud metadata address
    response = client.patch(
        f"{API}{created.json()['id']}/", {"url": "http://169.254.169.254/latest/meta-data/"}, format="json"
    )

    # Then it is refused and the URL is unchanged
    error = assert_error(response, 400, "invalid")
    assert error["fields"] == {
        "url": ["169.254.169.254 is not a public address (link-local); webhooks are sent to public addresses only."]
    }
    assert WebhookSubscription.objects.get().url == "https://crm.example/hooks"


def test_the_console_refuses_a_subscription_to_localhost(admin_user):
    # Given an admin in the console
    client = Client()
    client.force_login(admin_user)

    # When they add a subscription to localhost
    response = client.post(
        ADMIN_ADD, {"name": "CRM", "url": "http://localhost:8000/hooks", "events": ["customer.created"]}
    )

    # Then the form shows the error on the URL and nothing is saved
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["url"]
    assert errors["url"][0].startswith("localhost (127.0.0.1) is not a public address (loopback)")
    assert WebhookSubscription.objects.count() == 0


def test_a_name_resolving_to_loopback_at_delivery_fails_without_a_request(
    admin_user, receiver, relay_from_now, settings, caplog
):
    # Given a subscription saved while its name was allowed, which now resolves to loopback
    settings.CEA_WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    url = receiver.url.replace("127.0.0.1", "localhost")
    hook, _ = webhook_subscription_create(
        actor=admin_user, name="CRM", url=url, events=["customer.created"], secret=SECRET
    )
    settings.CEA_WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    make_customer()
    webhook_relay()
    [delivery] = WebhookDelivery.objects.filter(subscription=hook)

    # When it is attempted
    with caplog.at_level(logging.WARNING, logger="integration.webhooks.services"):
        outcome = webhook_delivery_attempt(delivery_id=delivery.pk)

    # Then it fails at once, with the reason logged, and nothing reached the receiver
    delivery.refresh_from_db()
    reason = "localhost (127.0.0.1) is not a public address (loopback); webhooks are sent to public addresses only."
    assert (outcome.status, outcome.retry_in, delivery.attempts, delivery.response_status) == ("failed", None, 1, None)
    assert delivery.last_error == f"Refused: {reason}"
    assert [record.getMessage() for record in caplog.records] == [
        f"Webhook delivery {delivery.pk} to subscription {hook.pk} not sent: {reason}"
    ]
    assert receiver.received == []

    # And when internal receivers are allowed, the same delivery sent again arrives
    settings.CEA_WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    webhook_delivery_redeliver(actor=admin_user, delivery=delivery)
    outcome = webhook_delivery_attempt(delivery_id=delivery.pk)
    assert (outcome.status, len(receiver.received)) == ("delivered", 1)


def test_a_redirect_is_not_followed(admin_user, receiver, relay_from_now, settings):
    # Given a receiver answering with a redirect to another place on loopback
    settings.CEA_WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    hook, _ = webhook_subscription_create(
        actor=admin_user, name="CRM", url=receiver.url, events=["customer.created"], secret=SECRET
    )
    make_customer()
    webhook_relay()
    receiver.answer_next(Answer(307, "", headers={"Location": f"{receiver.url}/elsewhere"}))

    # When it is attempted
    outcome = webhook_delivery_attempt(delivery_id=WebhookDelivery.objects.get(subscription=hook).pk)

    # Then the redirect is the answer: the delivery fails and only one request was made
    assert (outcome.status, outcome.response_status) == ("failed", 307)
    assert [request.path for request in receiver.received] == ["/hooks"]
