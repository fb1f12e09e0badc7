"""Accessibility: axe-core's WCAG 2 A/AA audit of the desk, the chat widget, a customer's 360 page and the reports.

Each page is audited as people use it: the desk with a web chat open (its messages, the readable
live context), the widget open with a chat going, the 360 page of a customer with a history, the
reports with figures. Any violation fails the test with the rule and the elements it found.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from cea.common.channels import Channel
from engagement.context.models import ContextScope
from engagement.context.services import context_write
from insights.kpis.rollup import contact_rollup_rebuild
from tests.accounts.factories import TeamFactory, UserFactory
from tests.browser.accessibility import assert_accessible
from tests.browser.helpers import Desk, Widget, demo_shop_site, sign_in
from tests.engagement.desktop_support import customer_says, on_desk
from tests.insights.factories import T0, contact
from tests.records.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_desk_with_a_chat_open_passes_the_audit(new_context, asgi_server, routing_defaults, team_a, agent):
    # Given a web chat on the agent's desk, with self-service's state and a handover in its context
    customer = CustomerFactory(team=team_a, given_name="Ada", family_name="Lovelace")
    conversation = on_desk(agent, channel=Channel.CHAT, customer=customer, team=team_a)
    for n in range(30):
        customer_says(conversation, f"Message {n}: where is my order?")
    context_write(
        actor=None,
        scope=ContextScope.CONVERSATION,
        context_id=conversation.pk,
        values={
            "selfservice": {"flow": "order_status", "step": "ask_order", "retries": 1, "greeted": True},
            "answers": {"order_number": "A-1001", "postcode": "NW1"},
            "handover": {
                "reason": "asked for a person",
                "answered": ["order_number"],
                "at": "2026-03-01T10:15:00+00:00",
            },
        },
        source="selfservice",
    )
    page = new_context().new_page()
    sign_in(page, agent, next_path="/desk/")
    desk = Desk(page)
    expect(desk.connection).to_have_attribute("data-state", "open")
    expect(desk.panel(conversation.pk)).to_be_visible()
    # When / Then
    assert_accessible(page)


def test_the_chat_widget_open_with_a_chat_passes_the_audit(new_context, asgi_server, team_a):
    # Given the demo shop, its widget open, a chat going
    demo_shop_site(asgi_server.url, team=team_a)
    page = new_context().new_page()
    page.goto("/demo/shop/")
    widget = Widget(page)
    widget.open()
    widget.say("Where is my order?")
    expect(widget.message("customer", "Where is my order?")).to_have_attribute("data-state", "sent")
    expect(page.locator("[data-testid=cea-chat-message][data-author=bot]").first).to_be_visible()
    # When / Then: the widget (the shop page around it is a stand-in for a customer's site)
    assert_accessible(page, within="[data-testid=cea-chat]")


def test_the_chat_button_is_a_picture_with_a_name_not_a_character(new_context, asgi_server, team_a):
    demo_shop_site(asgi_server.url, team=team_a)
    page = new_context().new_page()
    page.goto("/demo/shop/")
    button = page.get_by_test_id("cea-chat-button")
    # Then: an inline SVG (no glyph a font may lack) and an accessible name
    expect(button.locator("svg")).to_have_count(1)
    expect(button).to_have_accessible_name("Chat with us")
    assert (
        button.evaluate("b => Array.from(b.childNodes).filter(n => n.nodeType === 3 && n.textContent.trim()).length")
        == 0
    )


def test_a_customers_360_page_passes_the_audit(new_context, asgi_server, team_a, agent):
    # Given a customer with a history
    customer = CustomerFactory(team=team_a, given_name="Ada", family_name="Lovelace", email="ada@example.com")
    contact(team=team_a, agent=agent, customer=customer, channel="chat", talk=120)
    page = new_context().new_page()
    sign_in(page, agent, next_path="/")
    # When
    page.goto(reverse("records:customer-360", args=[customer.pk]))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_test_id("outreach")).to_be_visible()  # the "Start a conversation" panel, loaded after
    # Then
    assert_accessible(page)


@pytest.mark.parametrize(
    "path",
    [
        "/insights/reports/?kpis=handled&kpis=aht&start=2026-03-02&end=2026-03-02&interval=day",
        "/insights/reports/contacts/?kpi=handled&start=2026-03-02&end=2026-03-02",
        "/insights/reports/agents/?start=2026-03-02&end=2026-03-02",
    ],
)
def test_the_reports_pass_the_audit(new_context, asgi_server, path):
    # Given a team's contacts, rolled up, and its supervisor
    north = TeamFactory(name="north")
    anna = UserFactory(username="anna", teams=[north])
    contact(team=north, agent=anna, talk=120)
    contact(team=north, agent=anna, queued_at=T0 - dt.timedelta(days=1), talk=60)
    contact_rollup_rebuild(now=T0 + dt.timedelta(hours=1))
    lead = UserFactory(role="supervisor", teams=[north])
    page = new_context().new_page()
    sign_in(page, lead, next_path="/insights/reports/")
    # When
    page.goto(path)
    expect(page.locator("main")).to_be_visible()
    page.wait_for_load_state("networkidle")
    # Then
    assert_accessible(page)
