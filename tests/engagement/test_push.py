"""App and IoT push: device registration, replies pushed through FCM's HTTP v1 API and Web Push, and the
app's receipts on the desk.

The push services are loopback servers speaking the real protocols (tests/engagement/push_support.py):
Google's token endpoint verifies the RS256 assertion with the service account's public key, FCM checks
the bearer token and the message's shape, and the Web Push service checks the VAPID JWT and decrypts
the aes128gcm body with the subscription's private key.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from cea.accounts.models import User
from cea.common.channels import Channel
from engagement.adapters.models import ProviderSend, PushDevice, SendStatus
from engagement.adapters.outbox import backoff_seconds, provider_send_deliver
from engagement.adapters.push import fcm_access_tokens
from engagement.conversations.models import Conversation
from engagement.conversations.replies import conversation_reply
from engagement.conversations.services import conversation_group
from records.customers.services import customer_set_consent
from records.identities.services import identity_add
from records.privacy.services import privacy_request_approve, privacy_request_carry_out, privacy_request_create
from tests.accounts.factories import UserFactory
from tests.engagement.adapter_support import (
    assert_error,
    isolate_redis,
    make_customer,
    reply,
    session_client,
    token_client,
)
from tests.engagement.factories import WebhookSourceFactory
from tests.engagement.push_support import PROJECT, PushServices

pytestmark = pytest.mark.django_db

APP_URL = "/api/v1/engagement/app/messages/"
IOT_URL = "/api/v1/engagement/iot/events/"
DEVICES_URL = "/api/v1/engagement/push/devices/"
SESSION = "ios-7F3A2C91-session-42"
FCM_TOKEN = "dKx9Qm3TZ0Y:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx" + "q" * 100
DEVICE = "THERM-00A4-7731"
VAPID_SUBJECT = "mailto:ops@example.org"

APP_MESSAGE = {
    "client_message_id": "9b2d6c1e-3f4a-4b8e-a0c2-5d7e9f1a3b4c",
    "session_id": SESSION,
    "text": "The app says my payment failed but the money left my account.",
}
FAULT = {
    "device_id": DEVICE,
    "event_id": "evt-2025-03-14T07:42:10Z-0017",
    "fault_code": "E41",
    "severity": "critical",
    "details": {"component": "boiler pressure sensor"},
}


def receipts_url(message_id: int) -> str:
    return f"/api/v1/engagement/push/messages/{message_id}/receipts/"


@pytest.fixture(autouse=True)
def _isolated_redis(settings):
    yield from isolate_redis(settings)


@pytest.fixture
def services(settings, tmp_path, monkeypatch):
    server = PushServices()
    settings.CEA_FCM_API_URL = server.url
    settings.CEA_WEB_PUSH_ALLOW_HTTP = True  # the loopback push service speaks plain http
    settings.CEA_PUSH_ALLOW_PRIVATE_HOSTS = True  # … on 127.0.0.1
    key_file = tmp_path / "service-account.json"
    key_file.write_text(json.dumps(server.service_account()))
    monkeypatch.setenv("CEA_SOURCE_APP_PUSH_SERVICE_ACCOUNT_FILE", str(key_file))
    monkeypatch.setenv("CEA_SOURCE_IOT_PUSH_VAPID_PRIVATE_KEY", server.vapid_private_pem())
    fcm_access_tokens.forget()
    yield server
    fcm_access_tokens.forget()
    server.stop()


@pytest.fixture
def app_push(team_a, services):
    return WebhookSourceFactory(
        name="app-push", channel=Channel.MOBILE_APP, provider="fcm", sender_id=PROJECT, team=team_a
    )


@pytest.fixture
def iot_push(team_a, services):
    return WebhookSourceFactory(
        name="iot-push", channel=Channel.IOT, provider="web_push", sender_id=VAPID_SUBJECT, team=team_a
    )


@pytest.fixture
def app_backend(integration_user):
    return token_client(integration_user, scopes=["conversations:write"])


@pytest.fixture
def other_backend(db):
    return token_client(UserFactory(username="other-app", role="integration"), scopes=["conversations:write"])


@pytest.fixture
def device_owner(team_a):
    customer = make_customer(team_a)
    identity_add(actor=None, customer=customer, kind="device", value=DEVICE)
    # An IoT conversation is CEA's outreach: replies in it need the customer's consent.
    customer_set_consent(actor=None, customer=customer, channel=Channel.IOT, purpose="service", granted=True)
    return customer


def app_conversation(app_backend) -> Conversation:
    response = app_backend.post(APP_URL, APP_MESSAGE, format="json")
    assert response.status_code == 201, response.content
    return Conversation.objects.get(pk=response.json()["conversation"])


def iot_conversation(backend) -> Conversation:
    response = backend.post(IOT_URL, FAULT, format="json")
    assert response.status_code == 201, response.content
    return Conversation.objects.get(pk=response.json()["conversation"])


def register(backend, **fields) -> dict:
    response = backend.post(DEVICES_URL, fields, format="json")
    assert response.status_code == 201, response.content
    return response.json()


class DeskFollower:
    """The desk following a conversation's group."""

    def __init__(self, conversation: Conversation) -> None:
        self.layer = get_channel_layer()
        self.group = conversation_group(conversation_id=conversation.pk)
        self.channel = async_to_sync(self.layer.new_channel)()
        async_to_sync(self.layer.group_add)(self.group, self.channel)

    def receive(self, kind: str = "conversation.delivery") -> dict:
        """The next event of ``kind`` (others, such as the conversation's status, are passed over)."""
        while True:
            event = async_to_sync(self._receive)()
            if event["type"] == kind:
                return event

    async def _receive(self) -> dict:
        # Bounded, so a missing event fails the test instead of hanging it.
        return await asyncio.wait_for(self.layer.receive(self.channel), timeout=10)

    def close(self) -> None:
        async_to_sync(self.layer.group_discard)(self.group, self.channel)


# --- Round trips ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("eager_tasks")
def test_an_app_reply_goes_live_and_through_fcm_and_the_apps_receipts_reach_the_desk(
    services, app_push, app_backend, agent, django_capture_on_commit_callbacks
):
    # Given: a message from the app, and the app's device registered for its session
    conversation = app_conversation(app_backend)
    device = register(app_backend, source="app-push", session_id=SESSION, token=FCM_TOKEN)
    assert (device["source"], device["provider"], device["channel"], device["address"]) == (
        "app-push",
        "fcm",
        "mobile_app",
        SESSION,
    )
    desk = DeskFollower(conversation)
    # When: the agent replies
    message = reply(agent, conversation, "Refunded: it is back in your account.", django_capture_on_commit_callbacks)
    # Then: it went live to the conversation's group, as every app reply …
    live = desk.receive("conversation.message")
    assert (live["type"], live["message"]["id"]) == ("conversation.message", message.pk)
    # … and FCM got it for the device's token, with an access token for the service account's assertion
    [sent] = services.fcm_sent
    assert sent["token"] == FCM_TOKEN
    assert sent["notification"] == {"title": str(agent), "body": "Refunded: it is back in your account."}
    assert sent["data"] == {"conversation": str(conversation.pk), "message": str(message.pk)}
    assert len(services.tokens_issued) == 1
    assert (message.payload["delivery"], message.payload["provider_message_id"]) == ("sent", sent["name"])
    assert (message.payload["to"], message.payload["live"]) == (f"device:{device['id']}", True)
    assert desk.receive()["delivery"] == "sent"
    # When: the app says the notification was delivered, then read
    with django_capture_on_commit_callbacks(execute=True):
        delivered = app_backend.post(receipts_url(message.pk), {"status": "delivered"}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        read = app_backend.post(receipts_url(message.pk), {"status": "read"}, format="json")
    # Then: the message shows it, and the desk was told each time
    assert delivered.status_code == 200, delivered.content
    assert delivered.json()["delivery"] == "delivered"
    assert (read.json()["message"], read.json()["delivery"]) == (message.pk, "read")
    assert set(read.json()["receipts"]) == {"queued", "sent", "delivered", "read"}
    assert [desk.receive()["delivery"] for _ in range(2)] == ["delivered", "read"]
    desk.close()
    # When: the app says delivered again, late
    late = app_backend.post(receipts_url(message.pk), {"status": "delivered"}, format="json")
    # Then: receipts only move forward
    assert late.json()["delivery"] == "read"
    # When: the agent replies again
    reply(agent, conversation, "Anything else?", django_capture_on_commit_callbacks)
    # Then: the access token was kept until it expires
    assert (len(services.fcm_sent), len(services.tokens_issued)) == (2, 1)


@pytest.mark.usefixtures("eager_tasks")
def test_an_iot_reply_is_pushed_encrypted_through_web_push_and_the_device_acknowledges_it(
    services, iot_push, app_backend, device_owner, agent, django_capture_on_commit_callbacks
):
    # Given: a device's fault came in, and the device's push subscription is registered
    conversation = iot_conversation(app_backend)
    subscription = services.subscribe()
    device = register(app_backend, source="iot-push", device_id=DEVICE, subscription=subscription)
    desk = DeskFollower(conversation)
    # When: the agent replies
    message = reply(agent, conversation, "An engineer comes tomorrow at 9:00.", django_capture_on_commit_callbacks)
    # Then: the push service decrypted it with the subscription's keys, under a VAPID JWT for its origin
    [pushed] = services.pushed
    assert pushed["subscription"] == subscription["endpoint"].rsplit("/", 1)[1]
    assert pushed["notification"] == {
        "title": str(agent),
        "body": "An engineer comes tomorrow at 9:00.",
        "conversation": str(conversation.pk),
        "message": str(message.pk),
    }
    assert (pushed["vapid"]["aud"], pushed["vapid"]["sub"]) == (services.url, VAPID_SUBJECT)
    assert (pushed["ttl"], pushed["urgency"]) == (86400, "normal")
    assert (message.payload["delivery"], message.payload["to"]) == ("sent", f"device:{device['id']}")
    assert message.payload["provider_message_id"].startswith(f"{services.url}/message/")
    assert "live" not in message.payload
    assert desk.receive()["delivery"] == "sent"
    # When: the device platform acknowledges it
    with django_capture_on_commit_callbacks(execute=True):
        response = app_backend.post(
            receipts_url(message.pk), {"status": "delivered", "at": "2025-03-14T08:00:00Z"}, format="json"
        )
    # Then
    assert response.status_code == 200, response.content
    pushed_to_desk = desk.receive()
    assert (pushed_to_desk["delivery"], pushed_to_desk["receipts"]["delivered"]) == (
        "delivered",
        "2025-03-14T08:00:00+00:00",
    )
    desk.close()


def test_a_raw_base64url_vapid_key_signs_as_well_as_a_pem(
    services, iot_push, app_backend, device_owner, agent, monkeypatch, eager_tasks, django_capture_on_commit_callbacks
):
    # Given: the VAPID key as web-push tools print it (the raw private key, base64url)
    monkeypatch.setenv("CEA_SOURCE_IOT_PUSH_VAPID_PRIVATE_KEY", services.vapid_private_raw())
    conversation = iot_conversation(app_backend)
    register(app_backend, source="iot-push", device_id=DEVICE, subscription=services.subscribe())
    # When
    message = reply(agent, conversation, "Reset the boiler, please.", django_capture_on_commit_callbacks)
    # Then
    assert message.payload["delivery"] == "sent"
    assert [p["notification"]["body"] for p in services.pushed] == ["Reset the boiler, please."]


def test_an_app_reply_without_a_registered_device_is_live_only(
    services, app_push, app_backend, agent, django_capture_on_commit_callbacks
):
    # Given: an app message, no device registered
    conversation = app_conversation(app_backend)
    # When
    message = reply(agent, conversation, "Hello", django_capture_on_commit_callbacks)
    # Then: as before push existed
    assert message.payload == {"delivery": "live"}
    assert not ProviderSend.objects.exists() and services.calls == 0


# --- Failures -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (503, {"error": {"code": 503, "message": "The service is currently unavailable.", "status": "UNAVAILABLE"}}),
        (429, {"error": {"code": 429, "message": "Quota exceeded.", "status": "RESOURCE_EXHAUSTED"}}),
    ],
)
def test_fcm_down_leaves_the_reply_queued_and_it_is_sent_when_tried_again(
    services, app_push, app_backend, agent, status, body, django_capture_on_commit_callbacks
):
    # Given: FCM answers an error worth retrying
    conversation = app_conversation(app_backend)
    register(app_backend, source="app-push", session_id=SESSION, token=FCM_TOKEN)
    services.script.append((status, body))
    message = reply(agent, conversation, "We're on it", django_capture_on_commit_callbacks, execute=False)
    send = ProviderSend.objects.get(message=message)
    # When
    attempt = provider_send_deliver(send_id=send.pk)
    # Then: queued for another try after the backoff
    assert attempt is not None and (attempt.status, attempt.retry_in) == ("queued", backoff_seconds(1))
    send.refresh_from_db()
    assert send.status == SendStatus.QUEUED and f"FCM answered {status}" in send.last_error
    # When: its time comes and FCM is back
    ProviderSend.objects.filter(pk=send.pk).update(next_attempt_at=message.sent_at)
    attempt = provider_send_deliver(send_id=send.pk)
    # Then
    assert attempt is not None and attempt.status == "sent"
    assert [s["notification"]["body"] for s in services.fcm_sent] == ["We're on it"]


def test_a_push_service_that_cannot_be_reached_is_retried(
    services, iot_push, app_backend, device_owner, agent, django_capture_on_commit_callbacks
):
    # Given: the device's push service no longer listens
    conversation = iot_conversation(app_backend)
    register(app_backend, source="iot-push", device_id=DEVICE, subscription=services.subscribe())
    message = reply(agent, conversation, "Hello?", django_capture_on_commit_callbacks, execute=False)
    services.stop()
    # When
    attempt = provider_send_deliver(send_id=message.provider_send.pk)
    # Then
    assert attempt is not None and attempt.status == "queued" and attempt.retry_in
    assert "could not be reached" in ProviderSend.objects.get(message=message).last_error
    assert PushDevice.objects.count() == 1


@pytest.mark.usefixtures("eager_tasks")
def test_a_dead_fcm_token_fails_the_reply_and_drops_the_registration(
    services, app_push, app_backend, agent, django_capture_on_commit_callbacks
):
    # Given: the app was uninstalled: FCM says the token is UNREGISTERED
    conversation = app_conversation(app_backend)
    register(app_backend, source="app-push", session_id=SESSION, token=FCM_TOKEN)
    services.dead_tokens.add(FCM_TOKEN)
    # When
    message = reply(agent, conversation, "Still there?", django_capture_on_commit_callbacks)
    # Then: failed at once, with why, and the device forgotten
    assert message.payload["delivery"] == "failed"
    assert message.payload["error"]["code"] == "unregistered"
    assert "no longer registered" in message.payload["error"]["reason"]
    assert not PushDevice.objects.exists()
    # When: the agent replies again
    again = reply(agent, conversation, "Hello?", django_capture_on_commit_callbacks)
    # Then: live only, as without a device
    assert again.payload == {"delivery": "live"}


@pytest.mark.usefixtures("eager_tasks")
def test_a_gone_web_push_subscription_fails_the_reply_and_drops_the_registration(
    services, iot_push, app_backend, device_owner, agent, django_capture_on_commit_callbacks
):
    # Given: the subscription was ended (410 Gone)
    conversation = iot_conversation(app_backend)
    subscription = services.subscribe()
    register(app_backend, source="iot-push", device_id=DEVICE, subscription=subscription)
    services.gone_subscriptions.add(subscription["endpoint"].rsplit("/", 1)[1])
    # When
    message = reply(agent, conversation, "Is the boiler on?", django_capture_on_commit_callbacks)
    # Then
    assert (message.payload["delivery"], message.payload["error"]["code"]) == ("failed", "unregistered")
    assert not PushDevice.objects.exists()
    # When: the agent replies again, no device left
    again = reply(agent, conversation, "Hello?", django_capture_on_commit_callbacks)
    # Then: the IoT channel's provider reply, which has no source for this conversation
    assert again.payload["delivery"] == "not_sent"


@pytest.mark.usefixtures("eager_tasks")
def test_a_service_account_the_token_endpoint_refuses_fails_the_reply(
    services, app_push, app_backend, agent, django_capture_on_commit_callbacks
):
    # Given: the service account's key was deleted in Google Cloud
    conversation = app_conversation(app_backend)
    register(app_backend, source="app-push", session_id=SESSION, token=FCM_TOKEN)
    services.refuse_tokens = True
    # When
    message = reply(agent, conversation, "Hello", django_capture_on_commit_callbacks)
    # Then: failed, not retried, saying so; nothing reached FCM
    assert (message.payload["delivery"], message.payload["error"]["code"]) == ("failed", "credential_refused")
    assert message.payload["error"]["reason"].endswith("answered 401: The OAuth client was not found.")
    assert services.fcm_sent == []


def test_an_access_token_fcm_no_longer_takes_is_renewed_on_the_next_try(
    services, app_push, app_backend, agent, django_capture_on_commit_callbacks
):
    # Given: a reply sent with an access token, which is then revoked before it expires
    conversation = app_conversation(app_backend)
    register(app_backend, source="app-push", session_id=SESSION, token=FCM_TOKEN)
    first = reply(agent, conversation, "One", django_capture_on_commit_callbacks, execute=False)
    provider_send_deliver(send_id=first.provider_send.pk)
    services.tokens_issued.clear()
    second = reply(agent, conversation, "Two", django_capture_on_commit_callbacks, execute=False)
    # When: FCM answers 401 to the cached token
    attempt = provider_send_deliver(send_id=second.provider_send.pk)
    # Then: tried again later, with a new token
    assert attempt is not None and attempt.status == "queued"
    ProviderSend.objects.filter(pk=second.provider_send.pk).update(next_attempt_at=second.sent_at)
    attempt = provider_send_deliver(send_id=second.provider_send.pk)
    assert attempt is not None and attempt.status == "sent"
    assert [s["notification"]["body"] for s in services.fcm_sent] == ["One", "Two"]
    assert len(services.tokens_issued) == 1


@pytest.mark.parametrize(
    ("variable", "value", "source"),
    [
        ("CEA_SOURCE_APP_PUSH_SERVICE_ACCOUNT_FILE", "", "app"),
        ("CEA_SOURCE_IOT_PUSH_VAPID_PRIVATE_KEY", "bm90IGEga2V5", "iot"),
    ],
)
def test_a_malformed_credential_fails_the_reply_saying_so(
    services,
    app_push,
    iot_push,
    app_backend,
    device_owner,
    agent,
    monkeypatch,
    tmp_path,
    eager_tasks,
    variable,
    value,
    source,
    django_capture_on_commit_callbacks,
):
    # Given: a service account file that is not a service account's JSON key, or a VAPID key that is no key
    if source == "app":
        (tmp_path / "broken.json").write_text('{"type": "service_account"}')
        value = str(tmp_path / "broken.json")
    monkeypatch.setenv(variable, value)
    if source == "app":
        conversation = app_conversation(app_backend)
        register(app_backend, source="app-push", session_id=SESSION, token=FCM_TOKEN)
    else:
        conversation = iot_conversation(app_backend)
        register(app_backend, source="iot-push", device_id=DEVICE, subscription=services.subscribe())
    # When
    message = reply(agent, conversation, "Hello", django_capture_on_commit_callbacks)
    # Then: failed at once, naming what is wrong; nothing was pushed
    assert (message.payload["delivery"], message.payload["error"]["code"]) == ("failed", "bad_credential")
    assert services.fcm_sent == [] and services.pushed == []


@pytest.mark.usefixtures("eager_tasks")
def test_a_missing_service_account_fails_the_reply_and_names_the_variable(
    services, app_push, app_backend, agent, monkeypatch, django_capture_on_commit_callbacks
):
    # Given
    monkeypatch.delenv("CEA_SOURCE_APP_PUSH_SERVICE_ACCOUNT_FILE")
    conversation = app_conversation(app_backend)
    register(app_backend, source="app-push", session_id=SESSION, token=FCM_TOKEN)
    # When
    message = reply(agent, conversation, "Hello", django_capture_on_commit_callbacks)
    # Then
    assert message.payload["error"]["code"] == "missing_credential"
    assert "CEA_SOURCE_APP_PUSH_SERVICE_ACCOUNT" in message.payload["error"]["reason"]


# --- Registration ---------------------------------------------------------------------------------


def test_registering_again_replaces_the_token_and_unregistering_stops_the_pushes(
    services, app_push, app_backend, agent, eager_tasks, django_capture_on_commit_callbacks
):
    # Given: a device registered, then its token refreshed
    conversation = app_conversation(app_backend)
    first = register(app_backend, source="app-push", session_id=SESSION, token=FCM_TOKEN)
    again = app_backend.post(
        DEVICES_URL, {"source": "app-push", "session_id": SESSION, "token": FCM_TOKEN + "new"}, format="json"
    )
    assert (again.status_code, again.json()["id"]) == (200, first["id"])
    reply(agent, conversation, "One", django_capture_on_commit_callbacks)
    assert [s["token"] for s in services.fcm_sent] == [FCM_TOKEN + "new"]
    # When: the app unregisters it
    response = app_backend.delete(f"{DEVICES_URL}{first['id']}/")
    # Then
    assert response.status_code == 204
    assert reply(agent, conversation, "Two", django_capture_on_commit_callbacks).payload == {"delivery": "live"}
    assert len(services.fcm_sent) == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"source": "nope", "session_id": SESSION, "token": FCM_TOKEN}, "source"),
        ({"session_id": SESSION, "token": FCM_TOKEN}, "source"),
        ({"source": "app-push", "session_id": SESSION}, "token"),
        ({"source": "app-push", "session_id": SESSION, "token": "has spaces in it, not a token"}, "token"),
        ({"source": "app-push", "device_id": DEVICE, "token": FCM_TOKEN}, "session_id"),
        ({"source": "iot-push", "device_id": DEVICE, "token": FCM_TOKEN}, "subscription"),
        ({"source": "iot-push", "session_id": SESSION, "subscription": "SUB"}, "device_id"),
        ({"source": "iot-push", "device_id": DEVICE, "subscription": {"endpoint": "x"}}, "subscription"),
    ],
)
def test_a_malformed_registration_is_refused_with_the_field(
    services, app_push, iot_push, app_backend, device_owner, fields, field
):
    # Given: the device's events were sent by this client
    iot_conversation(app_backend)
    if fields.get("subscription") == "SUB":
        fields = {**fields, "subscription": services.subscribe()}
    # When
    response = app_backend.post(DEVICES_URL, fields, format="json")
    # Then: a 400 naming the field, nothing kept
    error = assert_error(response, 400)
    assert field in error["fields"], error
    assert not PushDevice.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda s: {**s, "keys": {**s["keys"], "p256dh": "AAAA"}}, "subscription.keys.p256dh"),
        (lambda s: {**s, "keys": {**s["keys"], "auth": "c2hvcnQ"}}, "subscription.keys.auth"),
        (lambda s: {**s, "endpoint": "ftp://push.example.org/x"}, "subscription.endpoint"),
    ],
)
def test_a_malformed_subscription_is_refused_with_its_key(services, iot_push, app_backend, device_owner, change, field):
    # Given
    iot_conversation(app_backend)
    # When
    response = app_backend.post(
        DEVICES_URL,
        {"source": "iot-push", "device_id": DEVICE, "subscription": change(services.subscribe())},
        format="json",
    )
    # Then
    error = assert_error(response, 400)
    assert field in error["fields"], error
    assert not PushDevice.objects.exists()


def test_a_plain_http_endpoint_is_refused_unless_allowed(services, iot_push, app_backend, device_owner, settings):
    # Given: production settings
    settings.CEA_WEB_PUSH_ALLOW_HTTP = False
    iot_conversation(app_backend)
    # When
    response = app_backend.post(
        DEVICES_URL, {"source": "iot-push", "device_id": DEVICE, "subscription": services.subscribe()}, format="json"
    )
    # Then
    assert "subscription.endpoint" in assert_error(response, 400)["fields"]


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://10.0.0.5/push/abc",
        "https://169.254.169.254/latest/meta-data/",
        "https://localhost/push/abc",
        "https://[::1]:8443/push/abc",
    ],
)
def test_an_endpoint_on_a_private_host_is_refused(services, iot_push, app_backend, device_owner, settings, endpoint):
    # Given: production settings, and the device's events sent by this client
    settings.CEA_PUSH_ALLOW_PRIVATE_HOSTS = False
    iot_conversation(app_backend)
    # When: it registers a subscription whose endpoint is inside the network (SSRF)
    response = app_backend.post(
        DEVICES_URL,
        {"source": "iot-push", "device_id": DEVICE, "subscription": {**services.subscribe(), "endpoint": endpoint}},
        format="json",
    )
    # Then: a 400 on the endpoint saying why, nothing kept
    error = assert_error(response, 400)
    assert "not a public address" in str(error["fields"]["subscription.endpoint"]), error
    assert not PushDevice.objects.exists()


@pytest.mark.usefixtures("eager_tasks")
def test_an_endpoint_that_is_private_when_sent_is_not_called(
    services, iot_push, app_backend, device_owner, agent, settings, django_capture_on_commit_callbacks
):
    # Given: a subscription registered while its host was allowed, which is (now) a private address
    conversation = iot_conversation(app_backend)
    register(app_backend, source="iot-push", device_id=DEVICE, subscription=services.subscribe())
    settings.CEA_PUSH_ALLOW_PRIVATE_HOSTS = False
    # When: the agent replies
    message = reply(agent, conversation, "Is the boiler on?", django_capture_on_commit_callbacks)
    # Then: the host was resolved again and refused, nothing sent
    assert (message.payload["delivery"], message.payload["error"]["code"]) == ("failed", "private_endpoint")
    assert "not a public address" in message.payload["error"]["reason"]
    assert services.pushed == []


@pytest.mark.usefixtures("eager_tasks")
@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (
            {"error": "InvalidTokenFormat", "message": "proxy admin:hunter2@10.0.0.7"},
            "answered 400: InvalidTokenFormat",
        ),
        ({"reason": "ami-id: ami-0abc; AccessKeyId: ASIAEXAMPLE"}, "answered 400"),
    ],
)
def test_a_push_services_refusal_shows_its_status_and_code_word_only(
    services, iot_push, app_backend, device_owner, agent, django_capture_on_commit_callbacks, answer, reason
):
    # Given: the push service refuses with a body that says more than a code
    conversation = iot_conversation(app_backend)
    register(app_backend, source="iot-push", device_id=DEVICE, subscription=services.subscribe())
    services.script.append((400, answer))
    # When
    message = reply(agent, conversation, "Is the boiler on?", django_capture_on_commit_callbacks)
    # Then: the desk sees the status and at most the code word, never the rest of the answer
    error = message.payload["error"]
    assert (message.payload["delivery"], error["code"]) == ("failed", "400")
    assert error["reason"] == f"The push service {reason}"


def test_a_push_source_without_its_sender_id_is_a_conflict(services, app_push, app_backend):
    # Given
    app_push.sender_id = ""
    app_push.save()
    # When
    response = app_backend.post(
        DEVICES_URL, {"source": "app-push", "session_id": SESSION, "token": FCM_TOKEN}, format="json"
    )
    # Then
    assert_error(response, 409, "source_unconfigured")


# --- Whose device, whose conversation -------------------------------------------------------------


@pytest.mark.usefixtures("eager_tasks")
def test_another_client_cannot_register_on_or_acknowledge_another_clients_conversations(
    services, app_push, iot_push, app_backend, other_backend, device_owner, agent, django_capture_on_commit_callbacks
):
    # Given: this client's app conversation and device, each with a pushed reply
    conversation = app_conversation(app_backend)
    device = register(app_backend, source="app-push", session_id=SESSION, token=FCM_TOKEN)
    iot = iot_conversation(app_backend)
    register(app_backend, source="iot-push", device_id=DEVICE, subscription=services.subscribe())
    app_reply = reply(agent, conversation, "For the app", django_capture_on_commit_callbacks)
    iot_reply = reply(agent, iot, "For the device", django_capture_on_commit_callbacks)
    # When: another client registers its own token for the same session id, and for the device
    theirs = other_backend.post(
        DEVICES_URL, {"source": "app-push", "session_id": SESSION, "token": "OTHER" + FCM_TOKEN}, format="json"
    )
    on_device = other_backend.post(
        DEVICES_URL, {"source": "iot-push", "device_id": DEVICE, "subscription": services.subscribe()}, format="json"
    )
    # Then: the session id is its own (another conversation's), the device is not its to register
    assert theirs.status_code == 201
    assert_error(on_device, 404, "unknown_device")
    reply(agent, conversation, "Again for the app", django_capture_on_commit_callbacks)
    assert [s["token"] for s in services.fcm_sent] == [FCM_TOKEN, FCM_TOKEN]
    # When: it acknowledges the other client's messages, or unregisters its device
    for message in (app_reply, iot_reply):
        assert_error(other_backend.post(receipts_url(message.pk), {"status": "read"}, format="json"), 404)
    assert_error(other_backend.delete(f"{DEVICES_URL}{device['id']}/"), 404, "unknown_device")
    # Then: nothing changed
    for message in (app_reply, iot_reply):
        message.refresh_from_db()
        assert message.payload["delivery"] == "sent"
    assert PushDevice.objects.filter(pk=device["id"]).exists()


@pytest.mark.usefixtures("eager_tasks")
def test_a_client_that_sends_an_event_of_another_clients_device_cannot_take_its_pushes(
    services, iot_push, app_backend, other_backend, device_owner, agent, django_capture_on_commit_callbacks
):
    # Given: this client sent the device's first event and registered the device's subscription
    conversation = iot_conversation(app_backend)
    ours = services.subscribe()
    register(app_backend, source="iot-push", device_id=DEVICE, subscription=ours)
    # and another client posts one event of the same device: it joins the device's conversation
    forged = other_backend.post(IOT_URL, {**FAULT, "event_id": "evt-forged-0001"}, format="json")
    assert (forged.status_code, forged.json()["conversation"]) == (201, conversation.pk)
    # When: the other client registers its own subscription for the device
    theirs = services.subscribe()
    on_device = other_backend.post(
        DEVICES_URL, {"source": "iot-push", "device_id": DEVICE, "subscription": theirs}, format="json"
    )
    # Then: refused as an unknown device, nothing kept
    assert_error(on_device, 404, "unknown_device")
    assert PushDevice.objects.count() == 1
    # Given: a newer registration of the other client's for the device all the same (made before the fix)
    PushDevice.objects.create(
        source=iot_push,
        client=User.objects.get(username="other-app"),
        channel=Channel.IOT,
        address=DEVICE,
        endpoint=theirs["endpoint"],
        p256dh=theirs["keys"]["p256dh"],
        auth=theirs["keys"]["auth"],
    )
    # When: the agent replies
    message = reply(agent, conversation, "An engineer comes tomorrow.", django_capture_on_commit_callbacks)
    # Then: it went to the device's own client's subscription only
    assert [pushed["subscription"] for pushed in services.pushed] == [ours["endpoint"].rsplit("/", 1)[1]]
    # When: the other client acknowledges it
    refused = other_backend.post(receipts_url(message.pk), {"status": "read"}, format="json")
    # Then: it is not its message; the device's client may
    assert_error(refused, 404, "unknown_message")
    message.refresh_from_db()
    assert message.payload["delivery"] == "sent"
    assert app_backend.post(receipts_url(message.pk), {"status": "read"}, format="json").status_code == 200


def test_a_message_that_was_not_pushed_cannot_be_acknowledged(services, app_push, app_backend, agent):
    # Given: a live-only reply (no device) and the customer's own message
    conversation = app_conversation(app_backend)
    live, _ = conversation_reply(actor=agent, conversation=conversation, body="Hello")
    inbound = conversation.messages.get(direction="inbound")
    # When / Then
    for message in (live, inbound):
        assert_error(app_backend.post(receipts_url(message.pk), {"status": "read"}, format="json"), 404, "not_pushed")
    assert_error(app_backend.post(receipts_url(live.pk), {"status": "sent"}, format="json"), 400)


def test_agents_cannot_register_devices_or_acknowledge(services, app_push, agent, agent_b, app_backend):
    # Given
    conversation = app_conversation(app_backend)
    message = conversation.messages.get()
    for user in (agent, agent_b):
        client = session_client(user)
        # When / Then
        response = client.post(
            DEVICES_URL, {"source": "app-push", "session_id": SESSION, "token": FCM_TOKEN}, format="json"
        )
        assert response.status_code == 403
        assert client.post(receipts_url(message.pk), {"status": "read"}, format="json").status_code == 403
    assert not PushDevice.objects.exists()


# --- Erasure --------------------------------------------------------------------------------------


@pytest.mark.usefixtures("eager_tasks")
def test_erasing_a_customer_deletes_the_push_registrations_of_their_sessions_and_devices(
    services,
    app_push,
    iot_push,
    app_backend,
    other_backend,
    device_owner,
    supervisor,
    django_capture_on_commit_callbacks,
):
    # Given: the customer's app session and device, each with a push registration
    identity_add(actor=None, customer=device_owner, kind="account", value="acct-7731")
    response = app_backend.post(APP_URL, {**APP_MESSAGE, "customer_identifier": "acct-7731"}, format="json")
    assert Conversation.objects.get(pk=response.json()["conversation"]).customer_id == device_owner.pk
    assert iot_conversation(app_backend).customer_id == device_owner.pk
    register(app_backend, source="app-push", session_id=SESSION, token=FCM_TOKEN)
    register(app_backend, source="iot-push", device_id=DEVICE, subscription=services.subscribe())
    # and another customer's app session, registered too
    other = other_backend.post(APP_URL, APP_MESSAGE, format="json")
    assert other.status_code == 201, other.content
    kept = register(other_backend, source="app-push", session_id=SESSION, token="OTHER" + FCM_TOKEN)
    # When: the customer is erased
    request = privacy_request_create(actor=supervisor, customer=device_owner, kind="erasure", reason="By letter")
    privacy_request_approve(actor=UserFactory(username="dpo", role="admin"), request=request)
    with django_capture_on_commit_callbacks(execute=True):
        privacy_request_carry_out(actor=User.objects.get(username="dpo"), request=request)
    # Then: their registrations (session and device ids, token, endpoint) are gone, the other's stays
    assert list(PushDevice.objects.values_list("pk", flat=True)) == [kept["id"]]
