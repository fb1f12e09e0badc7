"""SMS and social DM through signed webhooks: signatures, sources, payloads, threads, duplicates, the console."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time

import pytest
from rest_framework.test import APIClient

from cea.common.pii import redact_text
from engagement.adapters.models import WebhookSource
from engagement.adapters.webhooks import webhook_signature
from engagement.context.services import context_read
from engagement.conversations.models import Conversation, Message
from engagement.orchestration import conversation_end
from tests.engagement.adapter_support import assert_error, isolate_redis, make_customer, signed_post
from tests.engagement.factories import WebhookSourceFactory

pytestmark = pytest.mark.django_db

SECRET = "whsec_4f9a1c2e8b7d6a5f3e2d1c0b"

SMS = {
    "message_id": "SM7c1e9b2f4a8d4c6e9f0a1b2c3d4e5f60",
    "from": "+447911123456",
    "to": "+442079460123",
    "text": "Hi, my broadband has been down since this morning. Can someone call me?",
    "sent_at": "2025-03-14T09:12:31Z",
}

SOCIAL_DM = {
    "message_id": "m_AbC123xYz-987",
    "platform": "Twitter",
    "handle": "@Alice_B",
    "from": "1458842291",
    "to": "cea_support",
    "text": "Still waiting on my refund for order 10455, any news?",
    "sent_at": "2025-03-14T10:02:11+00:00",
}


@pytest.fixture(autouse=True)
def _isolated_redis(settings):
    yield from isolate_redis(settings)


@pytest.fixture
def sms_source(team_a):
    return WebhookSourceFactory(name="sms-gateway", channel="sms", secret=SECRET, queue="SMS support", team=team_a)


@pytest.fixture
def social_source(team_a):
    return WebhookSourceFactory(name="twitter-dm", channel="social", secret=SECRET, queue="Social")


@pytest.fixture
def provider() -> APIClient:
    return APIClient()


def nothing_written() -> bool:
    return Conversation.objects.count() == 0 and Message.objects.count() == 0


# --- SMS ------------------------------------------------------------------------------------------


def test_a_signed_sms_opens_a_conversation_for_the_identified_customer(provider, sms_source, team_a):
    # Given
    alice = make_customer(team_a, phone="+447911123456")
    # When
    response = signed_post(provider, sms_source, SMS)
    # Then
    assert response.status_code == 201, response.content
    conversation = Conversation.objects.get()
    message = conversation.messages.get()
    assert response.json() == {
        "conversation": conversation.pk,
        "conversation_status": "queued",
        "message": message.pk,
        "created": True,
    }
    assert (conversation.channel, conversation.external_id) == ("sms", "sms-gateway:+447911123456:1")
    assert (conversation.customer_id, conversation.verification_level) == (alice.pk, "identified")
    assert (conversation.contact_kind, conversation.contact_value) == ("phone", "+447911123456")
    assert (conversation.queue, conversation.team_id, conversation.status) == ("SMS support", team_a.pk, "queued")
    assert (message.external_id, message.direction, message.author_kind) == (
        "sms-gateway:SM7c1e9b2f4a8d4c6e9f0a1b2c3d4e5f60",
        "inbound",
        "customer",
    )
    assert message.body == SMS["text"]
    assert message.sent_at == dt.datetime(2025, 3, 14, 9, 12, 31, tzinfo=dt.UTC)
    assert message.payload == {
        "source": "sms-gateway",
        "message_id": SMS["message_id"],
        "from": "+447911123456",
        "to": "+442079460123",
    }


def test_the_same_sms_delivered_100_times_makes_one_message(provider, sms_source):
    # When
    responses = [signed_post(provider, sms_source, SMS) for _ in range(100)]
    # Then
    assert [r.status_code for r in responses] == [201] + [200] * 99
    assert {r.json()["message"] for r in responses} == {Message.objects.get().pk}
    assert (Conversation.objects.count(), Message.objects.count()) == (1, 1)
    assert responses[-1].json()["created"] is False


def test_an_sms_from_an_unknown_number_opens_an_anonymous_conversation(provider, sms_source):
    # When
    response = signed_post(provider, sms_source, {**SMS, "from": "07400 654321"})
    # Then
    assert response.status_code == 201
    conversation = Conversation.objects.get()
    assert (conversation.customer_id, conversation.verification_level) == (None, "anonymous")
    assert conversation.contact_value == "+447400654321"  # read in the default region, stored E.164
    assert conversation.external_id == "sms-gateway:+447400654321:1"


def test_a_sender_thread_continues_until_it_ends_then_starts_a_new_conversation(provider, sms_source):
    # Given: a first message, then a second one in the same thread
    first = signed_post(provider, sms_source, SMS).json()
    second = signed_post(provider, sms_source, {**SMS, "message_id": "SM-2", "text": "Any update?"}).json()
    assert second["conversation"] == first["conversation"]
    # When: the conversation ends and the customer writes again
    conversation_end(actor=None, conversation=Conversation.objects.get(pk=first["conversation"]))
    third = signed_post(provider, sms_source, {**SMS, "message_id": "SM-3", "text": "It's down again"}).json()
    # Then
    assert third["conversation"] != first["conversation"]
    assert list(Conversation.objects.order_by("id").values_list("external_id", "status")) == [
        ("sms-gateway:+447911123456:1", "ended"),
        ("sms-gateway:+447911123456:2", "queued"),
    ]
    assert list(Message.objects.order_by("id").values_list("conversation_id", "body")) == [
        (first["conversation"], SMS["text"]),
        (first["conversation"], "Any update?"),
        (third["conversation"], "It's down again"),
    ]


def test_a_redelivery_after_the_conversation_ended_changes_nothing(provider, sms_source):
    # Given
    first = signed_post(provider, sms_source, SMS).json()
    conversation_end(actor=None, conversation=Conversation.objects.get(pk=first["conversation"]))
    # When
    again = signed_post(provider, sms_source, SMS)
    # Then
    assert again.status_code == 200
    assert again.json()["message"] == first["message"]
    assert (Conversation.objects.count(), Message.objects.count()) == (1, 1)


def test_the_context_of_a_new_conversation_says_where_it_came_from(
    provider, sms_source, team_a, django_capture_on_commit_callbacks
):
    # Given
    alice = make_customer(team_a, phone="+447911123456")
    # When
    with django_capture_on_commit_callbacks(execute=True):
        conversation_id = signed_post(provider, sms_source, SMS).json()["conversation"]
    # Then
    values = context_read(scope="conversation", context_id=conversation_id).values
    assert values["channel"] == "sms"
    assert values["customer_id"] == alice.pk
    # The context's text goes through the redaction policy (the conversation keeps the address itself).
    assert values["contact"] == {"kind": "phone", "value": redact_text("+447911123456")}
    assert values["webhook_source"] == "sms-gateway"
    assert values["escalation_reason"] == "SMS has no self-service"


# --- Signatures and sources -------------------------------------------------------------------------


def test_an_unsigned_request_is_refused_with_401_and_nothing_is_written(provider, sms_source, caplog):
    # When
    with caplog.at_level(logging.WARNING, logger="engagement.adapters.apis"):
        response = provider.post("/api/v1/engagement/webhooks/sms-gateway/", SMS, format="json")
    # Then
    error = assert_error(response, 401, "missing_signature")
    assert error["message"] == "The request is not signed: X-CEA-Timestamp and X-CEA-Signature missing."
    assert response["WWW-Authenticate"] == 'CEA-HMAC-SHA256 realm="webhooks"'
    assert nothing_written()
    assert [r.getMessage() for r in caplog.records if r.name == "engagement.adapters.apis"] == [
        "Webhook refused: source=sms-gateway status=401 code=missing_signature fields="
    ]


def test_a_wrong_signature_is_refused_and_the_log_holds_no_secret(provider, sms_source, caplog):
    # When: signed with another secret
    with caplog.at_level(logging.WARNING, logger="engagement.adapters.apis"):
        response = signed_post(provider, sms_source, SMS, secret="not-the-shared-secret")
    # Then
    error = assert_error(response, 401, "bad_signature")
    assert error["message"] == "The signature does not match the body and timestamp."
    assert nothing_written()
    logged = " ".join(r.getMessage() for r in caplog.records if r.name == "engagement.adapters.apis")
    assert "code=bad_signature" in logged
    assert SECRET not in logged and "sha256=" not in logged and SMS["text"] not in logged


def test_a_body_changed_after_signing_is_refused(provider, sms_source):
    # Given: a correct signature of the original body
    stamp = str(int(time.time()))
    signature = webhook_signature(secret=SECRET, timestamp=stamp, body=json.dumps(SMS).encode())
    tampered = json.dumps({**SMS, "text": "Please close my account"}).encode()
    # When
    response = provider.post(
        "/api/v1/engagement/webhooks/sms-gateway/",
        tampered,
        content_type="application/json",
        HTTP_X_CEA_TIMESTAMP=stamp,
        HTTP_X_CEA_SIGNATURE=signature,
    )
    # Then
    assert_error(response, 401, "bad_signature")
    assert nothing_written()


@pytest.mark.parametrize("age", [-1, +1])
def test_a_signature_outside_the_tolerance_is_refused_as_expired(provider, sms_source, settings, age):
    # Given: a correctly signed request, stamped one second beyond the tolerance (past or future)
    stamp = int(time.time()) + age * (settings.CEA_WEBHOOK_TOLERANCE_SECONDS + 60)
    # When
    response = signed_post(provider, sms_source, SMS, timestamp=stamp)
    # Then
    error = assert_error(response, 401, "expired_signature")
    assert error["message"] == (
        f"The signature's timestamp is more than {settings.CEA_WEBHOOK_TOLERANCE_SECONDS} seconds from now;"
        " sign the request again."
    )
    assert nothing_written()


@pytest.mark.parametrize(
    ("timestamp", "signature", "message"),
    [
        ("yesterday", "sha256=00", "X-CEA-Timestamp must be the Unix time in seconds."),
        ("NOW", "sha256=00", "X-CEA-Timestamp must be the Unix time in seconds."),
        ("9" * 400, "sha256=00", "X-CEA-Timestamp must be the Unix time in seconds."),
        (None, "md5=00", "X-CEA-Signature must be 'sha256=<hex digest>'."),
    ],
)
def test_malformed_signature_headers_are_refused(provider, sms_source, timestamp, signature, message):
    # When
    response = provider.post(
        "/api/v1/engagement/webhooks/sms-gateway/",
        json.dumps(SMS),
        content_type="application/json",
        HTTP_X_CEA_TIMESTAMP=timestamp or str(int(time.time())),
        HTTP_X_CEA_SIGNATURE=signature,
    )
    # Then
    error = assert_error(response, 401, "malformed_signature")
    assert error["message"] == message
    assert nothing_written()


def test_an_unknown_source_is_404(provider, sms_source):
    # Given: a request signed correctly, but for a source that does not exist
    ghost = WebhookSource(name="no-such-gateway", channel="sms", secret=SECRET)
    # When
    response = signed_post(provider, ghost, SMS)
    # Then
    error = assert_error(response, 404, "unknown_source")
    assert error["message"] == "No active webhook source named 'no-such-gateway'."
    assert nothing_written()


def test_an_inactive_source_is_404(provider, sms_source):
    # Given
    sms_source.is_active = False
    sms_source.save()
    # When
    response = signed_post(provider, sms_source, SMS)
    # Then
    assert_error(response, 404, "unknown_source")
    assert nothing_written()


def test_a_source_of_a_channel_without_webhooks_is_404(provider):
    # Given
    source = WebhookSourceFactory(name="mailbox", channel="email", secret=SECRET)
    # When
    response = signed_post(provider, source, SMS)
    # Then
    error = assert_error(response, 404, "no_webhook_adapter")
    assert error["message"] == "The source 'mailbox' is for Email, which takes no webhooks."


# --- Malformed payloads ------------------------------------------------------------------------------


def test_a_signed_but_malformed_sms_is_refused_with_field_errors(provider, sms_source, caplog):
    # Given: no sender, no text, a date that is not one
    payload = {"message_id": "SM-9", "to": "+442079460123", "sent_at": "last tuesday"}
    # When
    with caplog.at_level(logging.WARNING, logger="engagement.adapters.apis"):
        response = signed_post(provider, sms_source, payload)
    # Then
    error = assert_error(response, 400, "invalid")
    assert set(error["fields"]) == {"from", "text", "sent_at"}
    assert error["fields"]["from"] == ["This field is required."]
    assert nothing_written()
    assert [r.getMessage() for r in caplog.records if r.name == "engagement.adapters.apis"] == [
        "Webhook refused: source=sms-gateway status=400 code=invalid fields=from,sent_at,text"
    ]


@pytest.mark.parametrize("body", [b"message_id=1&text=hi", b"[1, 2, 3]", b"\xff\xfe"])
def test_a_signed_body_that_is_not_a_json_object_is_400(provider, sms_source, body):
    # When
    response = signed_post(provider, sms_source, body)
    # Then
    error = assert_error(response, 400, "invalid")
    assert error["fields"] == {"body": ["Send a JSON object."]}
    assert nothing_written()


# --- Social DM ---------------------------------------------------------------------------------------


def test_a_social_dm_identifies_the_customer_by_platform_and_handle(provider, social_source, team_a):
    # Given
    alice = make_customer(team_a, identities=[{"kind": "social", "value": "twitter:alice_b"}])
    # When
    response = signed_post(provider, social_source, SOCIAL_DM)
    # Then
    assert response.status_code == 201, response.content
    conversation = Conversation.objects.get()
    message = conversation.messages.get()
    assert (conversation.channel, conversation.external_id) == ("social", "twitter-dm:twitter:alice_b:1")
    assert (conversation.customer_id, conversation.contact_kind, conversation.contact_value) == (
        alice.pk,
        "social",
        "twitter:alice_b",
    )
    # The source has no team: the conversation belongs to the customer's.
    assert (conversation.queue, conversation.team_id) == ("Social", team_a.pk)
    assert (message.author_name, message.body) == ("@alice_b", SOCIAL_DM["text"])
    assert message.payload == {
        "source": "twitter-dm",
        "message_id": "m_AbC123xYz-987",
        "platform": "twitter",
        "handle": "alice_b",
        "from": "1458842291",
        "to": "cea_support",
    }


def test_the_same_social_dm_100_times_makes_one_message(provider, social_source):
    # When
    for _ in range(100):
        signed_post(provider, social_source, SOCIAL_DM)
    # Then
    assert (Conversation.objects.count(), Message.objects.count()) == (1, 1)


def test_a_social_dm_from_an_unknown_platform_is_400(provider, social_source):
    # When
    response = signed_post(provider, social_source, {**SOCIAL_DM, "platform": "myspace"})
    # Then
    error = assert_error(response, 400, "invalid")
    assert error["fields"]["handle"][0].startswith("Unknown social platform 'myspace'")
    assert nothing_written()


# --- The console: webhook sources ---------------------------------------------------------------------


def test_the_console_never_shows_a_sources_secret_back(admin_user, sms_source):
    # Given
    client = APIClient()
    client.force_login(admin_user)
    # When
    page = client.get(f"/admin/engagement/webhooksource/{sms_source.pk}/change/")
    # Then
    assert page.status_code == 200
    assert SECRET not in page.content.decode()
    assert 'name="secret"' in page.content.decode()


def test_a_supervisor_views_a_source_without_its_secret(supervisor, sms_source):
    # Given
    client = APIClient()
    client.force_login(supervisor)
    # When
    page = client.get(f"/admin/engagement/webhooksource/{sms_source.pk}/change/")
    # Then
    assert page.status_code == 200
    assert "sms-gateway" in page.content.decode()
    assert SECRET not in page.content.decode()


def test_saving_a_source_without_typing_a_secret_keeps_the_current_one(admin_user, sms_source, team_a):
    # Given
    client = APIClient()
    client.force_login(admin_user)
    form = {
        "name": "sms-gateway",
        "channel": "sms",
        "provider": "cea",
        "secret": "",
        "queue": "SMS priority",
        "team": team_a.pk,
    }
    # When
    response = client.post(f"/admin/engagement/webhooksource/{sms_source.pk}/change/", {**form, "is_active": "on"})
    # Then
    assert response.status_code == 302
    sms_source.refresh_from_db()
    assert (sms_source.secret, sms_source.queue) == (SECRET, "SMS priority")


def test_a_new_source_needs_a_secret_and_supervisors_cannot_add_one(admin_user, supervisor):
    # Given
    admin_client, supervisor_client = APIClient(), APIClient()
    admin_client.force_login(admin_user)
    supervisor_client.force_login(supervisor)
    form = {"name": "whatsapp", "channel": "social", "provider": "cea", "secret": "", "queue": "", "is_active": "on"}
    # When
    refused = admin_client.post("/admin/engagement/webhooksource/add/", form)
    forbidden = supervisor_client.post("/admin/engagement/webhooksource/add/", {**form, "secret": "s" * 32})
    added = admin_client.post("/admin/engagement/webhooksource/add/", {**form, "secret": "s" * 32})
    # Then
    assert refused.status_code == 200
    assert "A new source needs a secret." in refused.content.decode()
    assert forbidden.status_code == 403
    assert added.status_code == 302
    assert WebhookSource.objects.get(name="whatsapp").secret == "s" * 32
