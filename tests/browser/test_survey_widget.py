"""A visitor answers a CSAT survey in the web chat widget after the agent ends the chat."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from engagement.conversations.replies import conversation_reply
from engagement.orchestration import conversation_wrap_up
from engagement.routing.offers import offer_accept
from engagement.routing.presence import presence_set
from insights.surveys.models import Survey, SurveyConfig
from records.interactions.models import Interaction
from tests.browser.helpers import Widget, demo_shop_site, eventually, pending_offer, visitor_conversation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_visitor_rates_the_chat_five_stars_with_a_comment_after_the_agent_ends_it(
    new_context, asgi_server, team_a, agent
):
    # Given a CSAT survey for every web chat, and a visitor chatting with an agent on the demo shop
    demo_shop_site(asgi_server.url, team=team_a)
    SurveyConfig.objects.create(channel="chat", kind="csat", sample_percent=100)
    presence_set(actor=agent, agent_user=agent, presence="available")
    page = new_context().new_page()
    page.goto("/demo/shop/")
    widget = Widget(page)
    widget.open()
    widget.say("I want to talk to an agent")
    widget.expect_status("queued")
    conversation = offer_accept(actor=agent, offer_id=pending_offer(visitor_conversation()).pk)
    widget.expect_status("active")
    conversation_reply(actor=agent, conversation=conversation, body="All sorted!")
    expect(widget.message("agent", "All sorted!")).to_be_visible()

    # When the agent ends the chat
    conversation_wrap_up(actor=agent, conversation=conversation, wrap_up_code="resolved")
    widget.expect_status("ended")

    # Then the widget asks the CSAT question; the visitor picks five stars and writes a comment
    survey = page.get_by_test_id("cea-survey")
    expect(survey).to_have_attribute("data-state", "open")
    expect(page.get_by_test_id("cea-survey-question")).to_have_text(
        "How satisfied are you with the service you received?"
    )
    page.get_by_test_id("cea-survey-score-5").click()
    expect(page.get_by_test_id("cea-survey-score-5")).to_have_attribute("aria-pressed", "true")
    page.get_by_test_id("cea-survey-comment").fill("Quick and friendly")
    page.get_by_test_id("cea-survey-send").click()
    expect(page.get_by_test_id("cea-survey-thanks")).to_be_visible()

    # And the answer is stored, tied to the interaction and the agent, and written back as its CSAT
    stored = eventually(
        lambda: Survey.objects.filter(status="answered").first(), what="the survey's answer to be stored"
    )
    interaction = Interaction.objects.get(external_id=f"conversation-{conversation.pk}")
    assert (stored.kind, stored.score, stored.comment, stored.channel) == ("csat", 5, "Quick and friendly", "chat")
    assert (stored.interaction_id, stored.agent_id, stored.team_id) == (interaction.pk, agent.pk, team_a.pk)
    interaction.refresh_from_db()
    assert interaction.satisfaction == 5
