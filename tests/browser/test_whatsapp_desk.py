"""WhatsApp on the desk, in a real browser: after 24 hours without a word from the customer the desk says the
window is closed and a free reply is refused with that reason; the agent sends an approved template instead,
filling in its values, and it goes to the (loopback) Graph API and shows on the conversation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from engagement.adapters.models import MessageTemplate, TemplateStatus
from engagement.conversations.models import Message
from tests.browser.helpers import Desk, sign_in
from tests.engagement.desktop_support import customer_says, on_desk
from tests.engagement.factories import WebhookSourceFactory
from tests.engagement.meta_support import ACCESS_TOKEN, APP_SECRET, PHONE_NUMBER_ID, Graph
from tests.records.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CUSTOMER = "+447700900123"


@pytest.fixture
def graph(settings, monkeypatch):
    server = Graph()
    settings.CEA_META_GRAPH_URL = server.graph_url
    monkeypatch.setenv("CEA_SOURCE_WA_DESK_ACCESS_TOKEN", ACCESS_TOKEN)
    monkeypatch.setenv("CEA_SOURCE_WA_DESK_APP_SECRET", APP_SECRET)
    yield server
    server.stop()


def test_the_agent_sends_a_template_when_the_window_is_closed(new_context, asgi_server, settings, graph, team_a, agent):
    # Given a WhatsApp conversation on the agent's desk whose customer last wrote 25 hours ago
    settings.CEA_PUBLIC_URL = asgi_server.url
    source = WebhookSourceFactory(
        name="wa-desk", channel="social", provider="whatsapp", sender_id=PHONE_NUMBER_ID, team=team_a
    )
    MessageTemplate.objects.create(
        source=source,
        name="order_update",
        language="en_GB",
        body="Hello {{1}}, your order {{2}} has shipped.",
        params=2,
        status=TemplateStatus.APPROVED,
    )
    graph.add_template("order_update", "Hello {{1}}, your order {{2}} has shipped.")
    customer = CustomerFactory(team=team_a, given_name="Ada", family_name="Lovelace", phone=CUSTOMER)
    conversation = on_desk(
        agent,
        channel="social",
        customer=customer,
        contact_kind="phone",
        contact_value=CUSTOMER,
        external_id=f"wa-desk:{CUSTOMER}:1",
    )
    said = customer_says(conversation, "Where is my order?")
    Message.objects.filter(pk=said.pk).update(
        created_at=timezone.now() - timedelta(hours=25), sent_at=timezone.now() - timedelta(hours=25)
    )
    page = new_context().new_page()
    sign_in(page, agent, next_path="/desk/")
    desk = Desk(page)
    expect(desk.connection).to_have_attribute("data-state", "open")
    panel = desk.panel(conversation.pk)

    # Then the desk says the window is closed
    window = panel.get_by_test_id("whatsapp-window")
    expect(window).to_have_attribute("data-window-open", "false")
    expect(panel.get_by_test_id("whatsapp-window-note")).to_contain_text("24-hour window is closed")

    # When the agent tries a free reply
    panel.locator(".reply-form textarea[name=body]").fill("Are you still there?")
    panel.locator(".reply-form button[type=submit]").first.click()
    # Then it is refused, saying to send a template
    expect(panel.locator(".reply-form .form-errors").first).to_contain_text("approved message template")

    # When they fill in the template's values and send it
    template = panel.get_by_test_id("whatsapp-template")
    values = template.get_by_test_id("whatsapp-template-param")
    values.nth(0).fill("Ada")
    values.nth(1).fill("A-1")
    template.get_by_role("button", name="Send template").click()
    # Then it shows on the conversation, sent, and Meta received the template with its values
    message = panel.locator(".messages .message[data-author-kind=agent]", has_text="Hello Ada, your order A-1")
    expect(message.get_by_test_id("message-delivery")).to_have_attribute("data-delivery", "sent")
    [sent] = graph.sent
    assert sent["to"] == CUSTOMER.lstrip("+") and sent["template"]["name"] == "order_update"
    assert [p["text"] for p in sent["template"]["components"][0]["parameters"]] == ["Ada", "A-1"]
