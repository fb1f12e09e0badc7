"""Starting a conversation from the customer 360 page, in a real browser: the panel offers the channels
the customer consented to (the others disabled with the reason), counts an SMS's segments as the agent
types, sends it through the (loopback) Twilio, and links to the conversation, open on the agent's desk."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cea.common.channels import Channel
from records.customers.services import customer_set_consent
from tests.browser.helpers import Desk, sign_in
from tests.engagement.factories import WebhookSourceFactory
from tests.engagement.provider_support import TWILIO_SID, TWILIO_TOKEN, Providers
from tests.records.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CUSTOMER = "+447700900123"


@pytest.fixture
def twilio(settings, monkeypatch):
    server = Providers()
    settings.CEA_TWILIO_API_URL = server.url
    monkeypatch.setenv("CEA_SOURCE_TW_360_ACCOUNT_SID", TWILIO_SID)
    monkeypatch.setenv("CEA_SOURCE_TW_360_AUTH_TOKEN", TWILIO_TOKEN)
    yield server
    server.stop()


@pytest.mark.usefixtures("routing_defaults")
def test_an_agent_starts_an_sms_from_the_360_page_and_finds_it_on_the_desk(
    new_context, asgi_server, settings, twilio, team_a, agent
):
    # Given a customer who agreed to service messages by SMS (not by email), and the team's Twilio number
    settings.CEA_PUBLIC_URL = asgi_server.url
    WebhookSourceFactory(name="tw-360", provider="twilio", sender_id="+442079460123", team=team_a)
    customer = CustomerFactory(
        team=team_a, given_name="Ada", family_name="Lovelace", phone=CUSTOMER, email="ada@example.com"
    )
    customer_set_consent(actor=None, customer=customer, channel=Channel.SMS, purpose="service", granted=True)
    page = new_context().new_page()
    sign_in(page, agent, next_path=f"/customers/{customer.pk}/")

    # When the 360 page has loaded the panel
    panel = page.get_by_test_id("outreach")
    expect(panel).to_be_visible()
    # Then email is disabled with its reason, and SMS is chosen
    expect(panel.locator("input[name=channel][value=email]")).to_be_disabled()
    expect(panel.get_by_test_id("outreach-reason-email")).to_have_text("No consent to service messages by Email.")
    expect(panel.locator("input[name=channel][value=sms]")).to_be_checked()

    # When the agent types a long text
    panel.get_by_test_id("outreach-text").fill("Your new card is ready. " * 8)
    # Then the panel counts two segments
    expect(panel.get_by_test_id("outreach-preview")).to_contain_text("2 segments")

    # When they send a short one
    panel.get_by_test_id("outreach-text").fill("Your new card is ready. Shall we post it?")
    panel.get_by_test_id("outreach-send").click()
    # Then the panel says it started, and Twilio received it from the team's number
    link = page.get_by_test_id("outreach-open-on-desk")
    expect(link).to_be_visible()
    [sent] = twilio.sent
    assert (sent["To"], sent["From"]) == (CUSTOMER, "+442079460123")

    # When the agent follows the link
    link.click()
    desk = Desk(page)
    expect(desk.connection).to_have_attribute("data-state", "open")
    # Then the conversation is on their desk, with the message
    conversation_id = int(page.url.rpartition("=")[2])
    expect(desk.tab(conversation_id)).to_have_attribute("aria-selected", "true")
    expect(desk.message(conversation_id, "agent", "Shall we post it?")).to_be_visible()
