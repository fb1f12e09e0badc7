"""The webhooks API for integrators: roles, token scopes, write-only secrets, deliveries, the schema."""

from __future__ import annotations

from io import StringIO

import pytest
import yaml
from django.core.management import call_command

from integration.webhooks.models import WebhookDelivery, WebhookRelayState, WebhookSubscription
from integration.webhooks.services import webhook_relay, webhook_subscription_create
from records.journey.models import JourneyEvent
from tests.accounts.factories import UserFactory
from tests.integration.factories import WebhookDeliveryFactory
from tests.integration.hooks_loopback import Answer
from tests.support import assert_error, make_customer, session_client, token_client

BASE = "/api/v1/integration/webhooks/"
SECRET = "typed-secret-0123456789"


@pytest.fixture
def webhook_secret() -> str:
    """The receiver checks signatures with the secret these tests type into the API."""
    return SECRET


def _create(client, **overrides):
    body = {"name": "CRM", "url": "https://crm.example/hooks", "events": ["customer.created"], **overrides}
    return client.post(BASE, body, format="json")


def test_an_admin_creates_a_subscription_and_sees_its_secret_once(admin_user):
    # Given an admin signed in
    client = session_client(admin_user)

    # When they create a subscription without a secret
    response = _create(client, events=["customer.created", "case.updated"])

    # Then one is generated and returned this once
    assert response.status_code == 201, response.content
    body = response.json()
    subscription = WebhookSubscription.objects.get(pk=body["id"])
    assert body["secret"] == subscription.secret and body["secret"].startswith("whsec_")
    assert (body["name"], body["url"], body["events"], body["is_active"]) == (
        "CRM",
        "https://crm.example/hooks",
        ["customer.created", "case.updated"],
        True,
    )
    assert subscription.created_by == admin_user
    # …and never again
    assert "secret" not in client.get(f"{BASE}{subscription.pk}/").json()
    assert all("secret" not in row for row in client.get(BASE).json()["results"])


def test_a_typed_secret_is_kept_and_a_short_one_refused(admin_user):
    client = session_client(admin_user)

    response = _create(client, secret=SECRET)
    assert response.status_code == 201
    assert WebhookSubscription.objects.get(pk=response.json()["id"]).secret == SECRET

    error = assert_error(_create(client, secret="short"), 400, "invalid")
    assert "secret" in error["fields"]


def test_invalid_fields_are_refused(admin_user):
    client = session_client(admin_user)

    error = assert_error(_create(client, url="ftp://crm.example/x", events=[]), 400, "invalid")

    assert set(error["fields"]) == {"url", "events"}
    assert WebhookSubscription.objects.count() == 0


def test_update_changes_fields_and_the_secret_without_showing_it(admin_user):
    # Given a subscription
    client = session_client(admin_user)
    subscription_id = _create(client).json()["id"]

    # When its URL, events and secret change
    response = client.patch(
        f"{BASE}{subscription_id}/",
        {"url": "https://crm.example/v2", "events": ["case.created"], "secret": "another-secret-0123456789"},
        format="json",
    )

    # Then they are changed, and the secret is not in the answer
    assert response.status_code == 200, response.content
    assert "secret" not in response.json()
    subscription = WebhookSubscription.objects.get(pk=subscription_id)
    assert (subscription.url, subscription.events, subscription.secret) == (
        "https://crm.example/v2",
        ["case.created"],
        "another-secret-0123456789",
    )


def test_delete_removes_the_subscription(admin_user):
    client = session_client(admin_user)
    subscription_id = _create(client).json()["id"]

    assert client.delete(f"{BASE}{subscription_id}/").status_code == 204

    assert not WebhookSubscription.objects.filter(pk=subscription_id).exists()
    assert_error(client.get(f"{BASE}{subscription_id}/"), 404, "not_found")


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_agents_and_supervisors_are_refused(role, team_a):
    user = UserFactory(role=role, teams=[team_a])
    client = session_client(user)

    assert_error(client.get(BASE), 403)
    assert_error(_create(client), 403)
    assert WebhookSubscription.objects.count() == 0


def test_anonymous_requests_are_refused(db):
    from rest_framework.test import APIClient

    assert APIClient().get(BASE).status_code in (401, 403)


def test_an_integration_token_needs_the_webhooks_scopes(integration_user):
    # Given tokens with write, read only, and other scopes
    writer = token_client(integration_user, scopes=["webhooks:read", "webhooks:write"])
    reader = token_client(integration_user, scopes=["webhooks:read"])
    other = token_client(integration_user, scopes=["customers:read", "customers:write"])

    # When each lists and creates
    created = _create(writer)

    # Then write needs webhooks:write, reading webhooks:read, and other scopes get nothing
    assert created.status_code == 201, created.content
    assert [row["id"] for row in reader.get(BASE).json()["results"]] == [created.json()["id"]]
    assert "webhooks:write" in assert_error(_create(reader), 403)["message"]
    assert_error(reader.patch(f"{BASE}{created.json()['id']}/", {"name": "x"}, format="json"), 403)
    assert_error(reader.delete(f"{BASE}{created.json()['id']}/"), 403)
    assert_error(other.get(BASE), 403)
    assert_error(other.get(f"{BASE}{created.json()['id']}/deliveries/"), 403)


def test_an_agents_token_with_the_scopes_is_still_refused(agent):
    client = token_client(agent, scopes=["webhooks:read", "webhooks:write"])

    assert_error(client.get(BASE), 403)


def test_an_integration_client_sees_only_its_own_subscriptions(integration_user, admin_user):
    # Given subscriptions of two integration clients
    other_client = UserFactory(username="billing-sync", role="integration")
    mine = token_client(integration_user, scopes=["webhooks:read", "webhooks:write"])
    theirs = token_client(other_client, scopes=["webhooks:read", "webhooks:write"])
    my_id = _create(mine, name="mine").json()["id"]
    their_id = _create(theirs, name="theirs").json()["id"]

    # Then each lists only its own, cannot open or change the other's; an admin sees both
    assert [row["id"] for row in mine.get(BASE).json()["results"]] == [my_id]
    assert_error(mine.get(f"{BASE}{their_id}/"), 403)
    assert_error(mine.delete(f"{BASE}{their_id}/"), 403)
    assert_error(mine.get(f"{BASE}{their_id}/deliveries/"), 403)
    assert WebhookSubscription.objects.filter(pk=their_id).exists()
    assert sorted(row["id"] for row in session_client(admin_user).get(BASE).json()["results"]) == sorted(
        [my_id, their_id]
    )


def _relay_from_now() -> None:
    last = JourneyEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    WebhookRelayState.objects.update_or_create(pk=1, defaults={"last_id": last, "gaps": {}})


def test_deliveries_are_listed_and_one_can_be_redelivered(
    integration_user, receiver, eager_tasks, django_capture_on_commit_callbacks, settings
):
    # Given a subscription whose only delivery failed (the receiver refused it)
    settings.CEA_WEBHOOK_DISABLE_AFTER = 5
    client = token_client(integration_user, scopes=["webhooks:read", "webhooks:write"])
    _relay_from_now()
    subscription_id = _create(client, url=receiver.url, secret=SECRET).json()["id"]
    make_customer()
    receiver.answer_next(Answer(400, "bad"))
    with django_capture_on_commit_callbacks(execute=True):
        webhook_relay()
    [delivery] = WebhookDelivery.objects.filter(subscription_id=subscription_id)

    # When the client lists its deliveries, filters the failed ones, and redelivers it
    listed = client.get(f"{BASE}{subscription_id}/deliveries/").json()["results"]
    failed = client.get(f"{BASE}{subscription_id}/deliveries/?status=failed").json()["results"]
    delivered_before = client.get(f"{BASE}{subscription_id}/deliveries/?status=delivered").json()["results"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{BASE}{subscription_id}/deliveries/{delivery.pk}/redeliver/")

    # Then the log showed the failure, and the redelivery got through
    assert [(row["id"], row["status"], row["attempts"], row["response_status"]) for row in listed] == [
        (delivery.pk, "failed", 1, 400)
    ]
    assert (len(failed), delivered_before) == (1, [])
    assert listed[0]["event_id"] == str(delivery.event_id) and listed[0]["last_error"] == "HTTP 400 Bad Request"
    assert response.status_code == 202
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    assert [r.signature_valid for r in receiver.received] == [True, True]


def test_a_delivery_of_another_subscription_is_not_found(admin_user):
    client = session_client(admin_user)
    first = _create(client, name="one").json()["id"]
    second = WebhookSubscription.objects.get(pk=_create(client, name="two").json()["id"])
    delivery = WebhookDeliveryFactory(subscription=second)

    assert_error(client.post(f"{BASE}{first}/deliveries/{delivery.pk}/redeliver/"), 404, "not_found")


def test_a_disabled_subscription_is_enabled_by_api_and_redelivery_waits_for_it(admin_user):
    # Given a subscription disabled after failures, with a delivery
    client = session_client(admin_user)
    subscription, _ = webhook_subscription_create(
        actor=admin_user, name="CRM", url="https://crm.example/hooks", events=["customer.created"]
    )
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        is_active=False, failures_in_row=10, disabled_reason="10 deliveries in a row failed"
    )
    delivery = WebhookDeliveryFactory(subscription=subscription, status="failed")

    # When a redelivery is asked, then the subscription enabled
    refused = client.post(f"{BASE}{subscription.pk}/deliveries/{delivery.pk}/redeliver/")
    response = client.post(f"{BASE}{subscription.pk}/enable/")

    # Then the redelivery waited (409) and the subscription is active with its count reset
    assert_error(refused, 409, "conflict")
    assert response.status_code == 200
    assert (response.json()["is_active"], response.json()["failures_in_row"], response.json()["disabled_reason"]) == (
        True,
        0,
        "",
    )


def test_every_webhook_endpoint_is_in_the_openapi_schema(db):
    # When the schema is generated and validated, failing on any warning
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)

    # Then every webhook endpoint and method is in it
    schema = yaml.safe_load(out.getvalue())
    paths = {
        path: set(methods) - {"parameters"}
        for path, methods in schema["paths"].items()
        if path.startswith("/api/v1/integration/webhooks")
    }
    assert paths == {
        "/api/v1/integration/webhooks/": {"get", "post"},
        "/api/v1/integration/webhooks/{subscription_id}/": {"get", "patch", "delete"},
        "/api/v1/integration/webhooks/{subscription_id}/enable/": {"post"},
        "/api/v1/integration/webhooks/{subscription_id}/deliveries/": {"get"},
        "/api/v1/integration/webhooks/{subscription_id}/deliveries/{delivery_id}/redeliver/": {"post"},
    }
    create = schema["paths"]["/api/v1/integration/webhooks/"]["post"]
    assert create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "WebhookSubscriptionCreated"
    )
    assert "secret" not in schema["components"]["schemas"]["WebhookSubscription"]["properties"]
