"""The web chat widget in a real browser: the demo shop's visitor, self-service, an agent, a dropped socket.

The agent's side goes through the services the desktop calls (offer_accept, conversation_reply,
conversation_wrap_up); the agent desktop's own browser tests are in test_desktop.py.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from engagement.conversations.models import AuthorKind, Conversation, ConversationStatus, Message
from engagement.conversations.replies import conversation_reply
from engagement.orchestration import conversation_wrap_up
from engagement.routing.offers import offer_accept
from engagement.routing.presence import presence_set
from records.interactions.models import Interaction
from tests.browser.helpers import Widget, demo_shop_site, pending_offer, visitor_conversation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_site(asgi_server, team_a):
    return demo_shop_site(asgi_server.url, team=team_a)


def escalate_to_agent(widget: Widget, agent) -> Conversation:
    """The visitor asks for an agent; the router offers the chat to ``agent``, who accepts."""
    widget.say("I want to talk to an agent")
    widget.expect_status("queued")
    conversation = visitor_conversation()
    offer = pending_offer(conversation)
    assert offer.agent.user_id == agent.pk
    conversation = offer_accept(actor=agent, offer_id=offer.pk)
    widget.expect_status("active")
    return conversation


def test_a_visitor_chats_with_an_agent_from_the_demo_shop(new_context, demo_site, agent):
    presence_set(actor=agent, agent_user=agent, presence="available")
    page = new_context().new_page()
    page.goto("/demo/shop/")
    expect(page.get_by_test_id("demo-shop-header")).to_be_visible()
    widget = Widget(page)
    # Under the page's Content-Security-Policy, the shop's stylesheet and the widget's own styles
    # (added with the page's nonce) both apply.
    expect(page.get_by_test_id("demo-shop-header")).to_have_css("background-color", "rgb(61, 90, 64)")
    expect(page.get_by_test_id("cea-chat-button")).to_have_css("border-radius", "50%")

    # Self-service answers first.
    widget.open()
    widget.say("Where is my order?")
    expect(widget.message("customer", "Where is my order?")).to_have_attribute("data-state", "sent")
    expect(widget.page.locator("[data-testid=cea-chat-message][data-author=bot]").first).to_be_visible()
    widget.expect_status("self_service")

    # Asking for a person queues the chat; the router offers it to the free agent on commit.
    conversation = escalate_to_agent(widget, agent)

    conversation_reply(actor=agent, conversation=conversation, body="Your parcel arrives tomorrow.")
    expect(widget.message("agent", "Your parcel arrives tomorrow.")).to_be_visible()
    widget.say("Thank you!")
    expect(widget.message("customer", "Thank you!")).to_have_attribute("data-state", "sent")

    conversation_wrap_up(actor=agent, conversation=conversation, wrap_up_code="resolved", notes="Delivery date given")
    widget.expect_status("ended")
    expect(page.get_by_test_id("cea-chat-restart")).to_be_visible()

    interaction = Interaction.objects.get(external_id=f"conversation-{conversation.pk}")
    assert interaction.agent_id == agent.pk
    assert interaction.wrap_up_code == "resolved"
    bodies = [(line["author"], line["body"]) for line in interaction.transcript]
    assert ("customer", "Where is my order?") in bodies
    assert ("agent", "Your parcel arrives tomorrow.") in bodies
    assert ("customer", "Thank you!") in bodies
    assert interaction.context_snapshot["agent"]["id"] == agent.pk
    assert interaction.context_snapshot["verification_level"] == "anonymous"
    assert interaction.context_snapshot["handover"]["reason"] == "The customer asked for an agent."


class DroppableSocket:
    """Routes the widget's websocket through Playwright, so that a test can cut it like a network drop."""

    def __init__(self) -> None:
        self.down = False
        self.sides = None
        self.connections = 0

    def route(self, ws) -> None:
        if self.down:
            ws.close()  # no network: the connection attempt fails
            return
        self.sides = (ws, ws.connect_to_server())
        self.connections += 1

    def drop(self) -> None:
        self.down = True
        page_side, server_side = self.sides
        server_side.close()
        page_side.close()

    def restore(self) -> None:
        self.down = False


def test_the_widget_reconnects_after_a_drop_and_gets_what_it_missed(new_context, demo_site, agent):
    presence_set(actor=agent, agent_user=agent, presence="available")
    context = new_context()
    page = context.new_page()
    socket = DroppableSocket()
    page.route_web_socket(re.compile(r"/ws/webchat/"), socket.route)
    page.goto("/demo/shop/")
    widget = Widget(page)
    widget.open()
    widget.say("Hello")
    expect(widget.message("customer", "Hello")).to_have_attribute("data-state", "sent")
    conversation = escalate_to_agent(widget, agent)
    conversation_reply(actor=agent, conversation=conversation, body="Hi, how can I help?")
    expect(widget.message("agent", "Hi, how can I help?")).to_be_visible()

    # The network drops: the agent's next reply is sent meanwhile, and the visitor types on.
    context.set_offline(True)
    socket.drop()
    widget.expect_status("offline")
    conversation_reply(actor=agent, conversation=conversation, body="Are you still there?")
    widget.say("Sorry, my train went into a tunnel")
    expect(widget.message("customer", "my train went into a tunnel")).to_have_attribute("data-state", "pending")

    # Back online: the widget reconnects, resends what was not acknowledged and resumes.
    socket.restore()
    context.set_offline(False)
    widget.expect_status("active")
    expect(widget.message("agent", "Are you still there?")).to_have_count(1)
    expect(widget.message("customer", "my train went into a tunnel")).to_have_attribute("data-state", "sent")
    expect(widget.message("agent", "Hi, how can I help?")).to_have_count(1)
    assert socket.connections >= 2

    stored = Message.objects.filter(conversation=conversation, author_kind=AuthorKind.CUSTOMER)
    assert list(stored.order_by("id").values_list("body", flat=True)) == [
        "Hello",
        "I want to talk to an agent",
        "Sorry, my train went into a tunnel",
    ]
    assert Conversation.objects.get(pk=conversation.pk).status == ConversationStatus.ACTIVE
