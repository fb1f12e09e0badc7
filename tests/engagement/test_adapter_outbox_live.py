"""The SMS round trip over real sockets both ways: a loopback Twilio posts a signed inbound SMS to CEA
(served by a live server), the agent's reply reaches the loopback Twilio's Messages API, and its signed
status callbacks come back to CEA until the message shows delivered."""

from __future__ import annotations

import httpx
import pytest

from engagement.conversations.models import Message
from tests.engagement.adapter_support import isolate_redis, make_customer, session_client
from tests.engagement.factories import WebhookSourceFactory
from tests.engagement.provider_support import (
    TWILIO_SID,
    TWILIO_TOKEN,
    Providers,
    twilio_inbound_params,
    twilio_request,
    twilio_status_params,
)

CUSTOMER = "+447911123456"
OUR_NUMBER = "+442079460123"


@pytest.fixture(autouse=True)
def _isolated_redis(settings):
    yield from isolate_redis(settings)


@pytest.fixture
def twilio(settings, monkeypatch):
    server = Providers()
    settings.CEA_TWILIO_API_URL = server.url
    monkeypatch.setenv("CEA_SOURCE_TW_LIVE_ACCOUNT_SID", TWILIO_SID)
    monkeypatch.setenv("CEA_SOURCE_TW_LIVE_AUTH_TOKEN", TWILIO_TOKEN)
    yield server
    server.stop()


def provider_posts(url: str, params: dict) -> httpx.Response:
    """The provider's side: a signed, form-encoded POST over HTTP."""
    return httpx.post(url, data=params, headers=twilio_request(url, params), timeout=30)


def test_inbound_sms_reply_out_and_delivery_receipt_over_http(
    live_server, transactional_db, settings, twilio, eager_tasks, team_a, agent
):
    # Given: CEA is reachable at the live server; a Twilio number points at it
    settings.CEA_PUBLIC_URL = live_server.url
    WebhookSourceFactory(name="tw-live", provider="twilio", sender_id=OUR_NUMBER, team=team_a, queue="SMS")
    make_customer(team_a, phone=CUSTOMER)
    # When: the customer texts in
    inbound = provider_posts(
        f"{live_server.url}/api/v1/engagement/providers/twilio/tw-live/sms/",
        twilio_inbound_params(sid="SMin0001", sender=CUSTOMER, to=OUR_NUMBER, body="Is my order shipped?"),
    )
    # Then
    assert inbound.status_code == 200, inbound.text
    conversation = Message.objects.get(external_id="tw-live:SMin0001").conversation
    # When: the agent replies on the desk's API (the send task runs on commit)
    reply = session_client(agent).post(
        f"/api/v1/engagement/conversations/{conversation.pk}/reply/", {"body": "Yes, it left today."}, format="json"
    )
    # Then: the provider received it
    assert reply.status_code == 201, reply.content
    [sent] = twilio.sent
    assert (sent["To"], sent["From"], sent["Body"]) == (CUSTOMER, OUR_NUMBER, "Yes, it left today.")
    # When: the provider reports its progress to the StatusCallback it was given
    for status in ("sent", "delivered"):
        answer = provider_posts(sent["StatusCallback"], twilio_status_params(sent, status))
        assert answer.status_code == 204, answer.text
    # Then: the message shows delivered, with the time of each step
    messages = session_client(agent).get(f"/api/v1/engagement/conversations/{conversation.pk}/messages/").json()
    shown = next(m for m in messages["results"] if m["id"] == reply.json()["id"])
    assert shown["payload"]["delivery"] == "delivered"
    assert set(shown["payload"]["receipts"]) == {"queued", "sent", "delivered"}
