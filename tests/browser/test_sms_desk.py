"""SMS on the desk, in a real browser: the reply box counts characters, encoding and segments as the agent
types; a reply sent goes to the (loopback) Twilio, and its delivery shows on the message, updated live as
the provider's receipts arrive."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import Desk, sign_in
from tests.engagement.desktop_support import on_desk
from tests.engagement.factories import WebhookSourceFactory
from tests.engagement.provider_support import TWILIO_SID, TWILIO_TOKEN, Providers, twilio_request, twilio_status_params
from tests.records.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CUSTOMER = "+447700900123"


@pytest.fixture
def twilio(settings, monkeypatch):
    server = Providers()
    settings.CEA_TWILIO_API_URL = server.url
    monkeypatch.setenv("CEA_SOURCE_TW_DESK_ACCOUNT_SID", TWILIO_SID)
    monkeypatch.setenv("CEA_SOURCE_TW_DESK_AUTH_TOKEN", TWILIO_TOKEN)
    yield server
    server.stop()


def test_the_agent_sees_segments_as_they_type_and_the_replys_delivery_live(
    new_context, asgi_server, settings, twilio, team_a, agent
):
    # Given an SMS conversation from a Twilio number on the agent's desk
    settings.CEA_PUBLIC_URL = asgi_server.url
    WebhookSourceFactory(name="tw-desk", provider="twilio", sender_id="+442079460123", team=team_a)
    customer = CustomerFactory(team=team_a, given_name="Ada", family_name="Lovelace", phone=CUSTOMER)
    conversation = on_desk(
        agent,
        channel="sms",
        customer=customer,
        contact_kind="phone",
        contact_value=CUSTOMER,
        external_id=f"tw-desk:{CUSTOMER}:1",
    )
    page = new_context().new_page()
    sign_in(page, agent, next_path="/desk/")
    desk = Desk(page)
    expect(desk.connection).to_have_attribute("data-state", "open")
    panel = desk.panel(conversation.pk)
    box = panel.locator(".reply-form textarea[name=body]")
    counter = panel.get_by_test_id("sms-counter")

    # When the agent types a text with Cyrillic letters, 71 of them
    box.fill("ж" * 71)
    # Then the counter says it goes as UCS-2 in two segments
    expect(counter).to_have_text("71 characters · UCS-2 · 2 segments (63 left)")

    # When they send a short reply instead
    box.fill("Your engineer arrives at 10:00.")
    panel.locator(".reply-form button[type=submit]").click()
    # Then Twilio receives it and the message shows it sent
    message = panel.locator(".messages .message[data-author-kind=agent]", has_text="Your engineer arrives")
    tag = message.get_by_test_id("message-delivery")
    expect(tag).to_have_attribute("data-delivery", "sent")
    [sent] = twilio.sent
    assert sent["To"] == CUSTOMER

    # When Twilio reports it delivered
    params = twilio_status_params(sent, "delivered")
    answer = httpx.post(sent["StatusCallback"], data=params, headers=twilio_request(sent["StatusCallback"], params))
    assert answer.status_code == 204, answer.text
    # Then the desk shows it delivered without a reload
    expect(tag).to_have_attribute("data-delivery", "delivered")
    expect(tag).to_have_text("delivered")
