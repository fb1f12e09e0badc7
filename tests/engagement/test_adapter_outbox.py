"""Replies out through providers (Twilio's Messages API, Vonage's SMS API) and their delivery receipts.

The providers are loopback HTTP servers speaking their documented shapes (tests/engagement/provider_support.py);
their webhooks are signed as they sign them and posted through the test client (the round trip over
real sockets both ways is tests/engagement/test_adapter_outbox_live.py).
"""

from __future__ import annotations

import socket
import threading
import time
from urllib.parse import urlencode

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from engagement.adapters.models import ProviderSend, SendStatus
from engagement.adapters.outbox import backoff_seconds, provider_send_deliver
from engagement.adapters.tasks import deliver_provider_message, sweep_outbox
from engagement.conversations.models import Conversation, Message
from engagement.conversations.replies import conversation_reply
from engagement.conversations.services import conversation_group
from tests.engagement.adapter_support import assert_error, isolate_redis, make_customer, reply, session_client
from tests.engagement.factories import WebhookSourceFactory
from tests.engagement.provider_support import (
    TWILIO_SID,
    TWILIO_TOKEN,
    VONAGE_KEY,
    VONAGE_SECRET,
    VONAGE_SIGNATURE_SECRET,
    Providers,
    path_of,
    twilio_inbound_params,
    twilio_request,
    twilio_status_params,
    vonage_params,
    vonage_receipt_params,
)

pytestmark = pytest.mark.django_db

CUSTOMER = "+447911123456"
OUR_NUMBER = "+442079460123"


@pytest.fixture(autouse=True)
def _isolated_redis(settings):
    yield from isolate_redis(settings)


@pytest.fixture
def providers(settings):
    server = Providers()
    settings.CEA_TWILIO_API_URL = server.url
    settings.CEA_VONAGE_API_URL = server.url
    yield server
    server.stop()


@pytest.fixture
def credentials(monkeypatch):
    for source in ("tw-a", "tw-b"):
        monkeypatch.setenv(f"CEA_SOURCE_{source.upper().replace('-', '_')}_ACCOUNT_SID", TWILIO_SID)
        monkeypatch.setenv(f"CEA_SOURCE_{source.upper().replace('-', '_')}_AUTH_TOKEN", TWILIO_TOKEN)
    monkeypatch.setenv("CEA_SOURCE_VG_A_API_KEY", VONAGE_KEY)
    monkeypatch.setenv("CEA_SOURCE_VG_A_API_SECRET", VONAGE_SECRET)
    monkeypatch.setenv("CEA_SOURCE_VG_A_SIGNATURE_SECRET", VONAGE_SIGNATURE_SECRET)


@pytest.fixture
def twilio_a(team_a, credentials):
    return WebhookSourceFactory(name="tw-a", provider="twilio", sender_id=OUR_NUMBER, team=team_a, queue="SMS")


@pytest.fixture
def twilio_b(team_b, credentials):
    return WebhookSourceFactory(name="tw-b", provider="twilio", sender_id="+442079460999", team=team_b, queue="SMS")


@pytest.fixture
def vonage_a(team_a, credentials):
    return WebhookSourceFactory(name="vg-a", provider="vonage", sender_id=OUR_NUMBER, team=team_a, queue="SMS")


def twilio_post(source_name: str, endpoint: str, params: dict, *, query: str = "", headers: dict | None = None):
    path = f"/api/v1/engagement/providers/twilio/{source_name}/{endpoint}/" + (f"?{query}" if query else "")
    signed = twilio_request(django_settings.CEA_PUBLIC_URL + path, params) if headers is None else headers
    return form_post(path, params, signed)


def form_post(path: str, params: dict, headers: dict):
    """POST ``params`` form-encoded, as the providers post their webhooks."""
    return APIClient().post(path, urlencode(params), content_type="application/x-www-form-urlencoded", headers=headers)


def twilio_callback(url: str, params: dict, token: str = TWILIO_TOKEN):
    """Post a status callback to the ``StatusCallback`` URL CEA gave, signed over that URL."""
    return form_post(path_of(url), params, twilio_request(url, params, token))


def vonage_post(source_name: str, endpoint: str, params: dict, *, as_json: bool = False):
    path = f"/api/v1/engagement/providers/vonage/{source_name}/{endpoint}/"
    if as_json:
        return APIClient().post(path, params, format="json")
    return form_post(path, params, {})


def sms_in(source_name: str = "tw-a", body: str = "My broadband is down again", sid: str = "SM0001") -> Conversation:
    response = twilio_post(
        source_name, "sms", twilio_inbound_params(sid=sid, sender=CUSTOMER, to=OUR_NUMBER, body=body)
    )
    assert response.status_code == 200, response.content
    return Message.objects.get(external_id=f"{source_name}:{sid}").conversation


# --- Twilio ---------------------------------------------------------------------------------------


@pytest.mark.usefixtures("eager_tasks")
def test_an_sms_reply_goes_out_through_twilio_and_its_receipts_come_back(
    providers, twilio_a, agent, team_a, django_capture_on_commit_callbacks
):
    # Given: an SMS came in through Twilio
    make_customer(team_a, phone=CUSTOMER)
    conversation = sms_in(body="Is the outage fixed?")
    assert conversation.team == team_a and conversation.customer is not None
    # When: the agent replies
    message = reply(agent, conversation, "Yes, since 10:00. Sorry!", django_capture_on_commit_callbacks)
    # Then: Twilio got it, from our number, with a status callback for this message
    [sent] = providers.sent
    assert (sent["To"], sent["From"], sent["Body"]) == (CUSTOMER, OUR_NUMBER, "Yes, since 10:00. Sorry!")
    assert sent["StatusCallback"] == (
        f"{django_settings.CEA_PUBLIC_URL}/api/v1/engagement/providers/twilio/tw-a/status/?message={message.pk}"
    )
    assert message.payload["delivery"] == "sent"
    assert message.payload["provider_message_id"] == sent["sid"]
    assert message.payload["sms"] == {
        "encoding": "GSM-7",
        "characters": 24,
        "units": 24,
        "segments": 1,
        "remaining": 136,
    }
    # When: Twilio reports it sent, then delivered
    for status in ("queued", "sent", "delivered"):
        with django_capture_on_commit_callbacks(execute=True):
            response = twilio_callback(sent["StatusCallback"], twilio_status_params(sent, status))
        assert response.status_code == 204, response.content
    # Then
    message.refresh_from_db()
    assert message.payload["delivery"] == "delivered"
    assert set(message.payload["receipts"]) == {"queued", "sent", "delivered"}
    assert "error" not in message.payload
    send = ProviderSend.objects.get(message=message)
    assert (send.status, send.attempts) == (SendStatus.DELIVERED, 1)


@pytest.mark.usefixtures("eager_tasks")
def test_receipts_out_of_order_never_move_the_status_back(
    providers, twilio_a, agent, django_capture_on_commit_callbacks
):
    # Given
    message = reply(agent, sms_in(), "On its way", django_capture_on_commit_callbacks)
    [sent] = providers.sent
    # When: delivered arrives before sent
    twilio_callback(sent["StatusCallback"], twilio_status_params(sent, "delivered"))
    sent_at_before = ProviderSend.objects.get(message=message).sent_at
    response = twilio_callback(sent["StatusCallback"], twilio_status_params(sent, "sent"))
    # Then: still delivered; each time kept
    assert response.status_code == 204
    message.refresh_from_db()
    assert message.payload["delivery"] == "delivered"
    assert set(message.payload["receipts"]) == {"queued", "sent", "delivered"}
    assert ProviderSend.objects.get(message=message).sent_at == sent_at_before


@pytest.mark.usefixtures("eager_tasks")
def test_an_undelivered_sms_is_failed_with_twilios_error(
    providers, twilio_a, agent, django_capture_on_commit_callbacks
):
    # Given
    message = reply(agent, sms_in(), "Call us back?", django_capture_on_commit_callbacks)
    [sent] = providers.sent
    # When
    response = twilio_callback(sent["StatusCallback"], twilio_status_params(sent, "undelivered", "30003"))
    # Then
    assert response.status_code == 204
    message.refresh_from_db()
    assert message.payload["delivery"] == "failed"
    assert message.payload["error"] == {
        "code": "30003",
        "reason": "Twilio error 30003: Unreachable destination handset",
    }
    assert "failed" in message.payload["receipts"]


@pytest.mark.usefixtures("eager_tasks")
def test_each_receipt_is_pushed_to_the_conversations_group(
    providers, twilio_a, agent, django_capture_on_commit_callbacks
):
    # Given: the desk follows the conversation
    message = reply(agent, sms_in(), "Fixed now", django_capture_on_commit_callbacks)
    [sent] = providers.sent
    layer = get_channel_layer()
    follower = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(conversation_group(conversation_id=message.conversation_id), follower)
    # When
    with django_capture_on_commit_callbacks(execute=True):
        twilio_callback(sent["StatusCallback"], twilio_status_params(sent, "delivered"))
    # Then
    pushed = async_to_sync(layer.receive)(follower)
    assert (pushed["type"], pushed["message"], pushed["delivery"]) == ("conversation.delivery", message.pk, "delivered")
    assert set(pushed["receipts"]) == {"queued", "sent", "delivered"}
    async_to_sync(layer.group_discard)(conversation_group(conversation_id=message.conversation_id), follower)


# --- A provider that is down, a provider that refuses ---------------------------------------------


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (503, {"code": 20500, "message": "Service Unavailable", "status": 503}),
        (429, {"code": 20429, "message": "Too Many Requests", "status": 429}),
    ],
)
def test_a_provider_that_is_down_leaves_the_reply_queued_for_later(
    providers, twilio_a, agent, status, body, django_capture_on_commit_callbacks
):
    # Given: Twilio answers an error worth retrying
    providers.script.append((status, body))
    with django_capture_on_commit_callbacks(execute=False):
        message, _ = conversation_reply(actor=agent, conversation=sms_in(), body="We're on it")
    send = ProviderSend.objects.get(message=message)
    # When
    attempt = provider_send_deliver(send_id=send.pk)
    # Then: queued, to try again after the backoff; nothing lost
    assert attempt is not None and (attempt.status, attempt.retry_in) == ("queued", backoff_seconds(1))
    send.refresh_from_db()
    message.refresh_from_db()
    assert (send.status, send.attempts) == (SendStatus.QUEUED, 1)
    assert f"Twilio answered {status}" in send.last_error
    assert message.payload["delivery"] == "queued"
    # When: a second task for it comes before its time (the sweep's beside the retry's)
    # Then: it does nothing: only the task that comes when it is due sends
    assert provider_send_deliver(send_id=send.pk) is None
    assert providers.calls == 1
    # When: its time comes and the provider is back
    ProviderSend.objects.filter(pk=send.pk).update(next_attempt_at=message.sent_at)
    attempt = provider_send_deliver(send_id=send.pk)
    # Then
    assert attempt is not None and attempt.status == "sent"
    assert [s["Body"] for s in providers.sent] == ["We're on it"]


def test_a_provider_that_takes_the_request_but_never_answers_is_not_sent_again(
    settings, twilio_a, agent, django_capture_on_commit_callbacks
):
    # Given: a provider that reads the request and never answers (it may have accepted the message)
    silent = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(silent.accept()[0]), daemon=True).start()
    settings.CEA_TWILIO_API_URL = f"http://127.0.0.1:{silent.getsockname()[1]}"
    settings.CEA_PROVIDER_TIMEOUT_SECONDS = 1
    with django_capture_on_commit_callbacks(execute=False):
        message, _ = conversation_reply(actor=agent, conversation=sms_in(), body="Your refund is on its way")
    try:
        # When
        attempt = provider_send_deliver(send_id=message.provider_send.pk)
    finally:
        for connection in accepted:
            connection.close()
        silent.close()
    # Then: failed, not retried (a retry could text the customer twice), saying why on the desk
    assert attempt is not None and (attempt.status, attempt.retry_in) == ("failed", None)
    message.refresh_from_db()
    assert message.payload["delivery"] == "failed"
    assert message.payload["error"]["code"] == "no_answer"
    assert "may have accepted the message" in message.payload["error"]["reason"]


def test_a_provider_that_cannot_be_reached_is_retried(settings, twilio_a, agent, django_capture_on_commit_callbacks):
    # Given: nothing listens at the provider's address any more
    gone = Providers()
    gone.stop()
    settings.CEA_TWILIO_API_URL = gone.url
    with django_capture_on_commit_callbacks(execute=False):
        message, _ = conversation_reply(actor=agent, conversation=sms_in(), body="Hello?")
    # When
    attempt = provider_send_deliver(send_id=message.provider_send.pk)
    # Then
    assert attempt is not None and attempt.status == "queued" and attempt.retry_in
    assert "could not be reached" in ProviderSend.objects.get(message=message).last_error


def test_backoff_doubles_up_to_its_cap(settings):
    # Given
    settings.CEA_PROVIDER_BACKOFF_MAX_SECONDS = 200
    # When / Then
    assert [backoff_seconds(n) for n in (1, 2, 3, 4, 5)] == [30, 60, 120, 200, 200]


def test_a_provider_that_stays_down_past_the_limit_fails_the_reply_visibly(
    providers, twilio_a, agent, settings, django_capture_on_commit_callbacks
):
    # Given: queued for longer than the give-up time, the provider still down
    with django_capture_on_commit_callbacks(execute=False):
        message, _ = conversation_reply(actor=agent, conversation=sms_in(), body="Anyone?")
    ProviderSend.objects.filter(message=message).update(queued_at=message.sent_at.replace(year=2000))
    providers.script.append((503, {"message": "Service Unavailable"}))
    # When
    provider_send_deliver(send_id=message.provider_send.pk)
    # Then
    message.refresh_from_db()
    assert message.payload["delivery"] == "failed"
    assert message.payload["error"]["reason"].startswith("Gave up after 1 tries")


def test_a_refusal_fails_the_reply_at_once_with_the_providers_reason(
    providers, twilio_a, agent, django_capture_on_commit_callbacks
):
    # Given: Twilio refuses the number (a 4xx is permanent)
    providers.script.append(
        (400, {"code": 21211, "message": "The 'To' number +447911123456 is not a valid phone number.", "status": 400})
    )
    with django_capture_on_commit_callbacks(execute=False):
        message, _ = conversation_reply(actor=agent, conversation=sms_in(), body="Hi")
    # When
    attempt = provider_send_deliver(send_id=message.provider_send.pk)
    # Then
    assert attempt is not None and (attempt.status, attempt.retry_in) == ("failed", None)
    message.refresh_from_db()
    assert message.payload["delivery"] == "failed"
    assert message.payload["error"] == {
        "code": "400",
        "reason": "Twilio answered 400: The 'To' number +447911123456 is not a valid phone number. (code 21211)",
    }
    assert provider_send_deliver(send_id=message.provider_send.pk) is None  # never sent again


def test_a_missing_credential_fails_the_reply_and_names_the_variable(
    providers, twilio_a, agent, monkeypatch, django_capture_on_commit_callbacks
):
    # Given
    monkeypatch.delenv("CEA_SOURCE_TW_A_AUTH_TOKEN")
    with django_capture_on_commit_callbacks(execute=False):
        message, _ = conversation_reply(actor=agent, conversation=sms_in_signed_by_nobody(twilio_a), body="Hi")
    # When
    provider_send_deliver(send_id=message.provider_send.pk)
    # Then
    message.refresh_from_db()
    assert message.payload["error"]["code"] == "missing_credential"
    assert "CEA_SOURCE_TW_A_AUTH_TOKEN" in message.payload["error"]["reason"]
    assert providers.calls == 0


def sms_in_signed_by_nobody(source) -> Conversation:
    """An SMS conversation of ``source`` opened through the ingest (its webhook cannot be checked
    without the auth token)."""
    from django.utils import timezone

    from engagement.adapters.webhooks import sms_ingest

    return sms_ingest(
        source=source, message_id="SMx", sender=CUSTOMER, to=OUR_NUMBER, text="Hi", sent_at=timezone.now()
    ).conversation


def test_the_task_leaves_a_reply_to_a_down_provider_queued_and_the_sweep_sends_it_again(
    providers, twilio_a, agent, eager_tasks, django_capture_on_commit_callbacks
):
    # Given: the provider is down when the reply is sent (the task runs on commit)
    providers.script.append((502, {"message": "Bad Gateway"}))
    message = reply(agent, sms_in(), "Try again", django_capture_on_commit_callbacks)
    assert message.payload["delivery"] == "queued"
    # When: its retry is overdue (its task lost) and the beat's sweep runs
    ProviderSend.objects.filter(message=message).update(next_attempt_at=message.sent_at.replace(year=2000))
    swept = sweep_outbox()
    # Then
    assert swept == 1
    message.refresh_from_db()
    assert message.payload["delivery"] == "sent"
    assert deliver_provider_message(message.provider_send.pk) is None  # already sent: nothing happens


# --- Which replies go out, SMS rules ----------------------------------------------------------------


def test_a_source_without_a_provider_adapter_records_the_reply_with_the_reason(team_a, agent):
    # Given: a source speaking CEA's own webhook (no provider API to send through)
    from tests.engagement.adapter_support import signed_post

    source = WebhookSourceFactory(name="gateway", provider="cea", team=team_a)
    signed_post(
        APIClient(),
        source,
        {"message_id": "m1", "from": CUSTOMER, "to": OUR_NUMBER, "text": "Hi", "sent_at": "2026-01-01T10:00:00Z"},
    )
    # When
    message, _ = conversation_reply(actor=agent, conversation=Conversation.objects.get(), body="Hello")
    # Then
    assert message.payload["delivery"] == "not_sent"
    assert message.payload["reason"] == (
        "The source 'gateway' (CEA's own signed webhook (X-CEA-Signature)) has no provider sender: "
        "replies are recorded only."
    )
    assert not ProviderSend.objects.exists()


def test_a_reply_of_too_many_segments_is_refused_with_a_400(providers, twilio_a, agent, team_a, settings):
    # Given
    settings.CEA_SMS_MAX_SEGMENTS = 2
    make_customer(team_a, phone=CUSTOMER)
    conversation = sms_in()
    # When
    response = session_client(agent).post(
        f"/api/v1/engagement/conversations/{conversation.pk}/reply/", {"body": "👍" * 70}, format="json"
    )
    # Then
    error = assert_error(response, 400, "too_many_segments")
    assert "would be sent as 3 segments" in error["fields"]["body"][0]
    assert not Message.objects.filter(direction="outbound").exists()
    assert providers.calls == 0


# --- Webhooks: signatures, sources, teams ----------------------------------------------------------


@pytest.mark.usefixtures("eager_tasks")
def test_a_status_webhook_only_touches_its_own_sources_messages(
    providers, twilio_a, twilio_b, agent, django_capture_on_commit_callbacks
):
    # Given: team A's reply went out through tw-a
    message = reply(agent, sms_in(), "For team A's customer", django_capture_on_commit_callbacks)
    [sent] = providers.sent
    # When: team B's source (same Twilio account) posts a receipt naming it, by CEA's id and by Twilio's
    url_b = f"{django_settings.CEA_PUBLIC_URL}/api/v1/engagement/providers/twilio/tw-b/status/"
    by_id = twilio_callback(f"{url_b}?message={message.pk}", twilio_status_params(sent, "failed", "30007"))
    by_sid = twilio_callback(url_b, twilio_status_params(sent, "failed", "30007"))
    # Then
    assert_error(by_id, 404, "unknown_message")
    assert_error(by_sid, 404, "unknown_message")
    message.refresh_from_db()
    assert message.payload["delivery"] == "sent"


def test_a_twilio_webhook_with_a_wrong_or_missing_signature_is_refused(providers, twilio_a):
    # Given
    params = twilio_inbound_params(sid="SM9", sender=CUSTOMER, to=OUR_NUMBER, body="Hi")
    path = "/api/v1/engagement/providers/twilio/tw-a/sms/"
    forged = twilio_request(django_settings.CEA_PUBLIC_URL + path, params, token="not-the-token")
    # When
    wrong = twilio_post("tw-a", "sms", params, headers=forged)
    missing = twilio_post("tw-a", "sms", params, headers={})
    tampered = twilio_post(
        "tw-a",
        "sms",
        {**params, "Body": "changed"},
        headers=twilio_request(django_settings.CEA_PUBLIC_URL + path, params),
    )
    # Then
    assert_error(wrong, 401, "bad_signature")
    assert_error(missing, 401, "missing_signature")
    assert_error(tampered, 401, "bad_signature")
    assert not Conversation.objects.exists()


def test_a_twilio_webhook_for_another_providers_source_is_not_found(providers, vonage_a):
    # When
    response = twilio_post("vg-a", "sms", twilio_inbound_params(sid="SM9", sender=CUSTOMER, to=OUR_NUMBER, body="Hi"))
    # Then
    assert_error(response, 404, "unknown_source")


def test_a_twilio_voice_sources_name_takes_no_messages(providers, team_a, credentials, monkeypatch):
    # Given a Twilio source for calls (its auth token configured)
    WebhookSourceFactory(name="tw-voice", channel="voice", provider="twilio", team=team_a)
    monkeypatch.setenv("CEA_SOURCE_TW_VOICE_AUTH_TOKEN", TWILIO_TOKEN)
    # When an SMS, correctly signed, is posted to its name
    response = twilio_post(
        "tw-voice", "sms", twilio_inbound_params(sid="SM8", sender=CUSTOMER, to=OUR_NUMBER, body="Hi")
    )
    # Then it is not a messaging source: nothing is kept
    assert_error(response, 404, "unknown_source")
    assert not Message.objects.filter(external_id="tw-voice:SM8").exists()


def test_a_twilio_sms_is_ingested_once(providers, twilio_a):
    # Given
    params = twilio_inbound_params(sid="SM42", sender=CUSTOMER, to=OUR_NUMBER, body="Twice?")
    # When
    first, again = twilio_post("tw-a", "sms", params), twilio_post("tw-a", "sms", params)
    # Then
    assert (first.status_code, again.status_code) == (200, 200)
    assert first["Content-Type"].startswith("text/xml") and b"<Response>" in first.content
    assert Message.objects.filter(external_id="tw-a:SM42").count() == 1


# --- Vonage ---------------------------------------------------------------------------------------


@pytest.mark.usefixtures("eager_tasks")
@pytest.mark.parametrize("as_json", [False, True])
def test_an_sms_reply_goes_out_through_vonage_and_its_dlr_comes_back(
    providers, vonage_a, agent, as_json, django_capture_on_commit_callbacks
):
    # Given: an SMS came in through Vonage
    inbound = vonage_params(
        {
            "msisdn": CUSTOMER[1:],
            "to": OUR_NUMBER[1:],
            "messageId": "0A0000001234567B",
            "text": "Still down",
            "type": "text",
        }
    )
    response = vonage_post("vg-a", "inbound", inbound, as_json=as_json)
    assert response.status_code == 204, response.content
    conversation = Message.objects.get(external_id="vg-a:0A0000001234567B").conversation
    assert conversation.contact_value == CUSTOMER
    # When: the agent replies with an emoji (UCS-2)
    message = reply(agent, conversation, "Fixed 👍", django_capture_on_commit_callbacks)
    # Then
    [sent] = providers.sent
    assert (sent["to"], sent["from"], sent["text"], sent["type"]) == (
        CUSTOMER[1:],
        OUR_NUMBER[1:],
        "Fixed 👍",
        "unicode",
    )
    assert sent["client-ref"] == str(message.pk)
    assert sent["callback"].endswith("/api/v1/engagement/providers/vonage/vg-a/receipts/")
    assert message.payload["delivery"] == "sent" and message.payload["sms"]["encoding"] == "UCS-2"
    # When: the delivery receipt
    response = vonage_post("vg-a", "receipts", vonage_params(vonage_receipt_params(sent, "delivered")), as_json=as_json)
    # Then
    assert response.status_code == 204, response.content
    message.refresh_from_db()
    assert message.payload["delivery"] == "delivered"


@pytest.mark.usefixtures("eager_tasks")
def test_a_failed_vonage_dlr_fails_the_reply_with_its_error(
    providers, vonage_a, agent, django_capture_on_commit_callbacks
):
    # Given
    vonage_post(
        "vg-a",
        "inbound",
        vonage_params({"msisdn": CUSTOMER[1:], "to": OUR_NUMBER[1:], "messageId": "M1", "text": "Hi"}),
    )
    message = reply(agent, Conversation.objects.get(), "Hello", django_capture_on_commit_callbacks)
    [sent] = providers.sent
    # When
    vonage_post("vg-a", "receipts", vonage_params(vonage_receipt_params(sent, "failed", "3")))
    # Then
    message.refresh_from_db()
    assert message.payload["error"] == {"code": "3", "reason": "Vonage error 3: Absent subscriber (permanent)"}


@pytest.mark.usefixtures("eager_tasks")
def test_vonage_refusing_the_credentials_fails_the_reply(
    providers, vonage_a, agent, monkeypatch, django_capture_on_commit_callbacks
):
    # Given
    monkeypatch.setenv("CEA_SOURCE_VG_A_API_SECRET", "wrong")
    vonage_post(
        "vg-a",
        "inbound",
        vonage_params({"msisdn": CUSTOMER[1:], "to": OUR_NUMBER[1:], "messageId": "M1", "text": "Hi"}),
    )
    # When
    message = reply(agent, Conversation.objects.get(), "Hello", django_capture_on_commit_callbacks)
    # Then
    assert message.payload["delivery"] == "failed"
    assert message.payload["error"] == {"code": "4", "reason": "Vonage status 4: Bad Credentials"}


def test_vonage_throttling_is_retried(providers, vonage_a, agent, django_capture_on_commit_callbacks):
    # Given
    providers.script.append((200, {"message-count": "1", "messages": [{"status": "1", "error-text": "Throttled"}]}))
    conversation = sms_in_signed_by_nobody(vonage_a)
    with django_capture_on_commit_callbacks(execute=False):
        message, _ = conversation_reply(actor=agent, conversation=conversation, body="Hi")
    # When
    attempt = provider_send_deliver(send_id=message.provider_send.pk)
    # Then
    assert attempt is not None and attempt.status == "queued" and attempt.retry_in


def test_vonage_taking_some_segments_then_throttling_is_not_sent_again(
    providers, vonage_a, agent, django_capture_on_commit_callbacks
):
    # Given: Vonage takes a long text's first segment, then throttles the second
    parts = [{"status": "0", "message-id": "SEG1"}, {"status": "1", "error-text": "Throttled"}]
    providers.script.append((200, {"message-count": "2", "messages": parts}))
    conversation = sms_in_signed_by_nobody(vonage_a)
    with django_capture_on_commit_callbacks(execute=False):
        message, _ = conversation_reply(actor=agent, conversation=conversation, body="A long answer " * 20)
    # When
    attempt = provider_send_deliver(send_id=message.provider_send.pk)
    # Then: failed, not retried (a retry would send the first segment twice), saying why
    assert attempt is not None and (attempt.status, attempt.retry_in) == ("failed", None)
    message.refresh_from_db()
    assert message.payload["error"]["reason"].startswith("Vonage took 1 of 2 segments")


@pytest.mark.usefixtures("eager_tasks")
def test_each_segments_receipt_is_the_long_texts(providers, vonage_a, agent, django_capture_on_commit_callbacks):
    # Given: a reply of two segments, each with its own id at Vonage
    conversation = sms_in_signed_by_nobody(vonage_a)
    message = reply(agent, conversation, "A long answer " * 20, django_capture_on_commit_callbacks)
    [sent] = providers.sent
    # When: the second segment's receipt comes (its own message id, the message's client-ref)
    second = {**vonage_receipt_params(sent, "delivered"), "messageId": "SECONDSEGMENT001"}
    response = vonage_post("vg-a", "receipts", vonage_params(second))
    # Then: it is the message's receipt, not an unknown message (Vonage would retry it without end)
    assert response.status_code == 204, response.content
    message.refresh_from_db()
    assert message.payload["delivery"] == "delivered"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"text": "tampered"}, "bad_signature"),
        ({"timestamp": str(int(time.time()) - 3600)}, "expired_signature"),
        ({"sig": ""}, "missing_signature"),
    ],
)
def test_a_vonage_webhook_with_a_bad_signature_is_refused(providers, vonage_a, change, code):
    # Given
    params = vonage_params({"msisdn": CUSTOMER[1:], "to": OUR_NUMBER[1:], "messageId": "M1", "text": "Hi"})
    if "timestamp" in change:  # re-signed, but too old
        params = vonage_params({k: v for k, v in params.items() if k not in ("sig", "nonce")} | change)
    else:
        params = {**params, **change}
    # When
    response = vonage_post("vg-a", "inbound", params)
    # Then
    assert_error(response, 401, code)
    assert not Conversation.objects.exists()


@pytest.mark.parametrize("method", ["sha256", "sha512", "md5", "sha1"])
def test_a_vonage_source_may_use_an_hmac_signature_method(providers, vonage_a, monkeypatch, method):
    # Given
    monkeypatch.setenv("CEA_SOURCE_VG_A_SIGNATURE_METHOD", method)
    params = vonage_params(
        {"msisdn": CUSTOMER[1:], "to": OUR_NUMBER[1:], "messageId": "M1", "text": "a=b&c"}, method=method
    )
    # When
    response = vonage_post("vg-a", "inbound", params)
    # Then
    assert response.status_code == 204, response.content
    assert Message.objects.get().body == "a=b&c"
