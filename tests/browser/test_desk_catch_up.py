"""The desk catches up a message whose live push was lost while its socket stayed open (the server's
Redis restarting): the heartbeat's answer names the conversation's latest message, and desktop.js
fetches what it does not show, in a real browser; and a pushed message names the one before it, so
the desk fetches a lost one as soon as the next message arrives."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import live_desk
from tests.engagement.desktop_support import customer_says, customer_says_unpushed, on_desk
from tests.records.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def chat_on_a_live_desk(new_context, team, agent):
    """A chat on the agent's desk, open in a browser, its first message pushed and shown: the desk
    follows the conversation live. Returns the conversation and the desk."""
    conversation = on_desk(agent, customer=CustomerFactory(team=team))
    desk = live_desk(new_context, agent)
    customer_says(conversation, "Hello")
    expect(desk.message(conversation.pk, "customer", "Hello")).to_be_visible()
    return conversation, desk


def test_a_message_whose_push_was_lost_appears_at_the_next_heartbeat(new_context, asgi_server, team_a, agent, settings):
    # Given: an agent's desk, live, with a chat on it, beating every 5 seconds (the least it takes)
    settings.CEA_DESKTOP_HEARTBEAT_SECONDS = 5
    conversation, desk = chat_on_a_live_desk(new_context, team_a, agent)

    # When: the customer's next message is stored and its push never goes out
    customer_says_unpushed(conversation, "Are you still there?")

    # Then: the desk shows it after its next heartbeat, without a reload, once
    expect(desk.message(conversation.pk, "customer", "Are you still there?")).to_be_visible(timeout=15_000)
    expect(desk.panel(conversation.pk).locator(".messages .message[data-author-kind=customer]")).to_have_count(2)


def test_a_lost_push_shows_as_soon_as_the_next_message_arrives(new_context, asgi_server, team_a, agent, settings):
    # Given: an agent's desk, live, with a chat on it, whose heartbeat is far off
    settings.CEA_DESKTOP_HEARTBEAT_SECONDS = 600
    conversation, desk = chat_on_a_live_desk(new_context, team_a, agent)

    # When: one message's push never goes out, and the customer's next message is pushed
    customer_says_unpushed(conversation, "Are you still there?")
    customer_says(conversation, "Hello?")

    # Then: the desk shows both, in order, without waiting for its heartbeat
    messages = desk.panel(conversation.pk).locator(".messages .message[data-author-kind=customer] .message-body")
    expect(messages).to_have_text(["Hello", "Are you still there?", "Hello?"])
