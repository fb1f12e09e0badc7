"""The supervisor's tools in the browser: a visitor chats with an agent, and a supervisor of the agent's team
monitors the chat, whispers to the agent (who sees it; the visitor does not) and barges in (the visitor is
told and sees the supervisor's message). Each person in their own browser context.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from engagement.supervision.models import SupervisorAction
from insights.sentiment.analyzer import label_of, score_text
from tests.accounts.factories import UserFactory
from tests.browser.helpers import Desk, Widget, demo_shop_site, sign_in, visitor_conversation
from tests.engagement.desktop_support import customer_says, customer_says_unpushed, on_desk
from tests.records.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_monitor_whisper_and_barge_in_a_live_chat(new_context, asgi_server, team_a, agent):
    demo_shop_site(asgi_server.url, team=team_a)
    boss = UserFactory(username="sam", role="supervisor", teams=[team_a], first_name="Sam", last_name="Super")

    # An agent at their desk takes the visitor's chat.
    desk_page = new_context().new_page()
    sign_in(desk_page, agent, next_path="/desk/")
    desk = Desk(desk_page)
    expect(desk.connection).to_have_attribute("data-state", "open")
    desk.set_presence("available")
    shop = new_context().new_page()
    shop.goto("/demo/shop/")
    widget = Widget(shop)
    widget.open()
    widget.say("I want to talk to an agent")
    widget.expect_status("queued")
    conversation = visitor_conversation()
    offer = desk.offer_for(conversation.pk)
    expect(offer).to_be_visible()
    offer.locator("button.offer-accept").click()
    expect(desk.panel(conversation.pk)).to_be_visible()
    widget.expect_status("active")

    # The supervisor sees the chat among their team's live conversations, and opens it.
    page = new_context().new_page()
    sign_in(page, boss, next_path="/desk/supervision/")
    row = page.locator(f"[data-testid=live-conversation][data-conversation-id='{conversation.pk}']")
    expect(row).to_be_visible()
    expect(row).to_have_attribute("data-status", "active")
    expect(row.get_by_test_id("live-agent")).to_have_text(agent.get_full_name())
    # The visitor's one message, scored by insights (VADER) as it arrived, is the chat's running sentiment.
    said = score_text("I want to talk to an agent", declared_language="en")
    expect(row.get_by_test_id("live-sentiment")).to_have_text(f"{said.score:.2f} · {label_of(said.score)}")
    row.get_by_test_id("monitor-link").click()
    expect(page.locator("#monitor-connection")).to_have_attribute("data-state", "open")
    messages = page.get_by_test_id("monitor-messages")
    expect(messages.locator(".message-body", has_text="I want to talk to an agent")).to_be_visible()

    # Monitoring is silent and live: the visitor writes, the supervisor sees it.
    widget.say("Is anyone there?")
    expect(messages.locator(".message-body", has_text="Is anyone there?")).to_be_visible()

    # A whisper reaches the agent's desk, marked internal.
    page.get_by_test_id("whisper-body").fill("Offer them a 10% voucher")
    page.get_by_test_id("whisper-send").click()
    expect(messages.locator(".message[data-internal=true]", has_text="Offer them a 10% voucher")).to_be_visible()
    whisper_on_desk = desk.panel(conversation.pk).locator(
        ".messages .message[data-internal=true] .message-body", has_text="Offer them a 10% voucher"
    )
    expect(whisper_on_desk).to_be_visible()

    # The supervisor barges in: the visitor is told, and gets their message.
    page.get_by_test_id("barge-in").click()
    page.get_by_test_id("say-body").fill("Hello, I'm Sam, the team's supervisor.")
    page.get_by_test_id("say-send").click()
    expect(widget.message("system", "Sam Super joined the conversation.")).to_be_visible()
    expect(widget.message("agent", "Hello, I'm Sam, the team's supervisor.")).to_be_visible()
    expect(desk.message(conversation.pk, "agent", "Hello, I'm Sam, the team's supervisor.")).to_be_visible()

    # The whisper, sent before both, never reached the visitor.
    expect(shop.get_by_test_id("cea-chat-message").filter(has_text="voucher")).to_have_count(0)
    assert sorted(SupervisorAction.objects.values_list("kind", flat=True)) == ["barge_in", "monitor", "whisper"]


@pytest.mark.usefixtures("routing_defaults")  # the reason codes, gone after another transactional test's flush
def test_a_supervisor_sets_an_agents_presence_and_the_desk_shows_who(new_context, asgi_server, team_a, agent):
    boss = UserFactory(username="sam", role="supervisor", teams=[team_a], first_name="Sam", last_name="Super")
    desk_page = new_context().new_page()
    sign_in(desk_page, agent, next_path="/desk/")
    desk = Desk(desk_page)
    expect(desk.connection).to_have_attribute("data-state", "open")
    desk.set_presence("available")

    page = new_context().new_page()
    sign_in(page, boss, next_path="/desk/supervision/")
    row = page.locator(f"[data-testid=supervised-agent][data-agent-id='{agent.pk}']")
    row.get_by_test_id("agent-presence").select_option("away:break")
    row.get_by_test_id("agent-presence-note").fill("Overdue break")
    row.get_by_test_id("set-presence").click()

    expect(page.locator(f"[data-testid=supervised-agent][data-agent-id='{agent.pk}']")).to_have_attribute(
        "data-presence", "away"
    )
    expect(desk.presence_state).to_have_attribute("data-presence", "away")
    expect(desk_page.get_by_test_id("presence-changed-by")).to_have_text("set by Sam Super")
    action = SupervisorAction.objects.get()
    assert (action.kind, action.agent_id, action.detail["note"]) == ("presence", agent.pk, "Overdue break")


def test_a_monitor_shows_a_lost_push_as_soon_as_the_next_message_arrives(
    new_context, asgi_server, team_a, agent, settings
):
    # Given: a supervisor monitoring a live chat of their team, whose heartbeat is far off
    settings.CEA_DESKTOP_HEARTBEAT_SECONDS = 600
    boss = UserFactory(username="sam", role="supervisor", teams=[team_a])
    conversation = on_desk(agent, customer=CustomerFactory(team=team_a))
    page = new_context().new_page()
    sign_in(page, boss, next_path=f"/desk/supervision/conversations/{conversation.pk}/")
    expect(page.locator("#monitor-connection")).to_have_attribute("data-state", "open")
    customer_says(conversation, "Hello")  # pushed: the monitor follows the conversation live
    bodies = page.get_by_test_id("monitor-messages").locator(".message[data-author-kind=customer] .message-body")
    expect(bodies).to_have_text(["Hello"])

    # When: one message's push never goes out, and the customer's next message is pushed
    customer_says_unpushed(conversation, "Are you still there?")
    customer_says(conversation, "Hello?")

    # Then: the monitor shows both, in order, without waiting for its heartbeat
    expect(bodies).to_have_text(["Hello", "Are you still there?", "Hello?"])
