"""The agent desktop and the web chat widget together, each in its own browser context.

A visitor on the demo shop asks for a person; the router offers the chat to an available agent's
desk; the agent accepts, replies, wraps up; the interaction is in records.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from engagement.routing.models import AgentSkill, Offer, Queue, RoutingStep, Skill
from engagement.routing.presence import agent_profile_for
from records.interactions.models import Interaction
from tests.accounts.factories import UserFactory
from tests.browser.helpers import Desk, Widget, demo_shop_site, pending_offer, sign_in, visitor_conversation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def agent_desk(new_context, user) -> Desk:
    """``user`` signed in at their desk, connected and available."""
    page = new_context().new_page()
    sign_in(page, user, next_path="/desk/")
    desk = Desk(page)
    expect(desk.connection).to_have_attribute("data-state", "open")
    desk.set_presence("available")
    expect(desk.presence_state).to_have_text("Available")
    return desk


def visitor_on_the_shop(new_context) -> Widget:
    page = new_context().new_page()
    page.goto("/demo/shop/")
    widget = Widget(page)
    widget.open()
    return widget


def test_a_chat_goes_from_the_widget_to_the_desk_and_into_records(new_context, asgi_server, team_a, agent):
    demo_shop_site(asgi_server.url, team=team_a)
    desk = agent_desk(new_context, agent)
    widget = visitor_on_the_shop(new_context)

    widget.say("Where is my order?")
    expect(widget.page.locator("[data-testid=cea-chat-message][data-author=bot]").first).to_be_visible()
    widget.say("I want to talk to an agent")
    widget.expect_status("queued")
    conversation = visitor_conversation()

    # The offer reaches the desk with its countdown; the agent accepts it.
    offer = desk.offer_for(conversation.pk)
    expect(offer).to_be_visible()
    expect(offer.locator(".offer-countdown")).not_to_be_empty()
    offer.locator("button.offer-accept").click()
    expect(desk.offers).to_have_count(0)
    expect(desk.tab(conversation.pk)).to_be_visible()
    panel = desk.panel(conversation.pk)
    expect(panel).to_be_visible()
    widget.expect_status("active")

    # What self-service learnt is on the desk: the visitor's messages, verification, live context.
    expect(desk.message(conversation.pk, "customer", "Where is my order?")).to_be_visible()
    expect(panel.locator(".customer-panel .verification-level")).to_have_text("Anonymous")
    expect(panel.locator(".customer-panel .live-context")).to_contain_text("handover")

    # They talk.
    reply = panel.locator("form.reply-form")
    reply.locator("textarea[name=body]").fill("Your parcel arrives tomorrow.")
    reply.locator("button[type=submit]").click()
    expect(desk.message(conversation.pk, "agent", "Your parcel arrives tomorrow.")).to_be_visible()
    expect(widget.message("agent", "Your parcel arrives tomorrow.")).to_be_visible()
    widget.say("Thank you!")
    expect(desk.message(conversation.pk, "customer", "Thank you!")).to_be_visible()

    # The agent wraps up: the conversation leaves the desk and the visitor sees the end.
    panel.locator("button.wrap-up-open").click()
    wrap_up = panel.locator("form.wrap-up-form")
    wrap_up.locator("select[name=wrap_up_code]").select_option("resolved")
    wrap_up.locator("input[name=disposition]").fill("delivery-date-given")
    wrap_up.locator("textarea[name=notes]").fill("Parcel due tomorrow.")
    wrap_up.locator("button[type=submit]").click()
    expect(desk.tab(conversation.pk)).to_have_count(0)
    expect(desk.panel(conversation.pk)).to_have_count(0)
    widget.expect_status("ended")

    interaction = Interaction.objects.get(external_id=f"conversation-{conversation.pk}")
    assert interaction.agent_id == agent.pk
    assert interaction.wrap_up_code == "resolved"
    assert interaction.disposition == "delivery-date-given"
    assert interaction.wrap_up_notes == "Parcel due tomorrow."
    said = [(line["author"], line["body"]) for line in interaction.transcript]
    assert ("customer", "Where is my order?") in said
    assert ("agent", "Your parcel arrives tomorrow.") in said
    assert ("customer", "Thank you!") in said
    snapshot = interaction.context_snapshot
    assert snapshot["verification_level"] == "anonymous"
    assert snapshot["agent"]["id"] == agent.pk
    assert snapshot["handover"]["reason"] == "The customer asked for an agent."


def test_a_queue_that_needs_a_skill_offers_the_chat_to_the_skilled_agent(new_context, asgi_server, team_a, agent):
    billing = Skill.objects.create(name="billing")
    queue = Queue.objects.create(name="billing-chat", label="Billing chat", team=team_a)
    RoutingStep.objects.create(queue=queue, position=0, skill=billing, min_proficiency=2)
    demo_shop_site(asgi_server.url, team=team_a, queue=queue.name)
    specialist = UserFactory(username="billing.specialist", role="agent", teams=[team_a])
    AgentSkill.objects.create(agent=agent_profile_for(specialist), skill=billing, proficiency=3)
    AgentSkill.objects.create(agent=agent_profile_for(agent), skill=billing, proficiency=1)

    # The generalist is available first: longest idle, they would be offered the chat were it not for the skill.
    generalist_desk = agent_desk(new_context, agent)
    specialist_desk = agent_desk(new_context, specialist)
    widget = visitor_on_the_shop(new_context)
    widget.say("I want to talk to an agent about my bill")
    widget.expect_status("queued")
    conversation = visitor_conversation()

    expect(specialist_desk.offer_for(conversation.pk)).to_be_visible()
    offer = pending_offer(conversation)
    assert offer.agent.user_id == specialist.pk
    expect(generalist_desk.offers).to_have_count(0)
    assert not Offer.objects.filter(agent__user=agent).exists()

    specialist_desk.offer_for(conversation.pk).locator("button.offer-accept").click()
    expect(specialist_desk.tab(conversation.pk)).to_be_visible()
    widget.expect_status("active")
    expect(generalist_desk.tabs).to_have_count(0)
