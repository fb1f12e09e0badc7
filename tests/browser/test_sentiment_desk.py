"""Sentiment live on the desk: a visitor's angry message shows its score, the conversation's running
sentiment and the strongly negative turn's alert at the agent's desk without a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import demo_shop_site, visitor_conversation
from tests.browser.test_desktop import agent_desk, visitor_on_the_shop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_angry_message_s_sentiment_reaches_the_desk_live(new_context, asgi_server, team_a, agent):
    # Given a chat the agent accepted
    demo_shop_site(asgi_server.url, team=team_a)
    desk = agent_desk(new_context, agent)
    widget = visitor_on_the_shop(new_context)
    widget.say("I want to talk to an agent")
    widget.expect_status("queued")
    conversation = visitor_conversation()
    offer = desk.offer_for(conversation.pk)
    expect(offer).to_be_visible()
    offer.locator("button.offer-accept").click()
    panel = desk.panel(conversation.pk)
    expect(panel).to_be_visible()
    widget.expect_status("active")
    # When the visitor writes an angry message
    widget.say("This is absolutely terrible, I hate this awful service!")
    # Then the desk shows its score, the running sentiment and the alert, live
    message = panel.locator(".messages .message[data-author-kind=customer]", has_text="absolutely terrible")
    expect(message).to_be_visible()
    expect(message.locator("[data-testid=message-sentiment]")).to_have_text("-0.90")
    expect(panel.locator("[data-testid=conversation-sentiment-value]")).to_contain_text("negative")
    expect(panel.locator("[data-testid=conversation-sentiment-alert]")).to_contain_text("Strongly negative turn")
