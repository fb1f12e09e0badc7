"""The Next best action card on the desk, in a real browser: a strategy's action reaches the card of the
customer in the agent's open conversation (pushed live), and accepting it there records it."""

from __future__ import annotations

import contextlib
import re

import pytest
from django.urls import reverse
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from engagement.recommendations.models import RecommendedAction
from engagement.recommendations.services import recommendation_offer
from tests.browser.helpers import Desk, eventually, live_desk, sign_in
from tests.engagement.desktop_support import on_desk
from tests.records.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def offer(customer, source_key: str, title: str, score: float) -> RecommendedAction:
    return recommendation_offer(
        actor=None,
        customer=customer,
        source_key=source_key,
        title=title,
        detail="Mention the loyalty programme.",
        reasons=["churn risk 0.81", "3 complaints this quarter"],
        score=score,
    )


def ada_on_a_live_desk(new_context, team, agent):
    """A chat with Ada on the agent's desk, open in a browser and live: Ada, the chat, the page, her card."""
    customer = CustomerFactory(team=team, given_name="Ada", family_name="Lovelace")
    conversation = on_desk(agent, customer=customer)
    desk = live_desk(new_context, agent)
    card = desk.panel(conversation.pk).locator("[data-testid=next-best-action]")
    expect(card.get_by_test_id("no-recommendations")).to_be_visible()  # loaded before anything is offered
    return customer, conversation, desk.page, card


def test_an_offered_action_appears_on_the_desk_card_and_accepting_it_records_it(
    new_context, asgi_server, team_a, agent
):
    # Given an agent with a chat with Ada on their desk, the desk open and live
    customer, conversation, _page, card = ada_on_a_live_desk(new_context, team_a, agent)

    # When a strategy offers an action for Ada, then a better one
    offer(customer, "strategy:retention", "Offer a loyalty discount", 0.6)
    expect(card.get_by_test_id("recommendation")).to_have_count(1)
    offer(customer, "strategy:upgrade", "Offer the premium plan", 0.9)

    # Then the card shows both without a reload, best first, with their reasons and scores
    actions = card.get_by_test_id("recommendation")
    expect(actions).to_have_count(2)
    expect(actions.locator(".recommendation-title")).to_have_text(
        ["Offer the premium plan", "Offer a loyalty discount"]
    )
    expect(actions.first.locator(".score")).to_have_text("0.90")
    expect(actions.first.locator(".reasons li")).to_have_text(["churn risk 0.81", "3 complaints this quarter"])

    # When the agent accepts the best one
    actions.first.get_by_test_id("recommendation-accept").click()

    # Then the card says so and keeps the other; the action is recorded accepted, by them, in this conversation
    expect(card.locator("[role=status]")).to_have_text("Accepted: Offer the premium plan.")
    expect(card.get_by_test_id("recommendation")).to_have_count(1)
    accepted = eventually(
        lambda: RecommendedAction.objects.filter(source_key="strategy:upgrade", status="accepted").first(),
        what="the action accepted",
    )
    assert (accepted.decided_by_id, accepted.conversation_id) == (agent.pk, conversation.pk)


def test_a_decision_made_while_the_card_reads_itself_again_keeps_its_answer(new_context, asgi_server, team_a, agent):
    # Given an agent's desk whose card shows one action for Ada, and the browser's requests to the card
    # held until the test lets them go
    customer, _conversation, page, card = ada_on_a_live_desk(new_context, team_a, agent)
    offer(customer, "strategy:retention", "Offer a loyalty discount", 0.6)
    expect(card.get_by_test_id("recommendation")).to_have_count(1)
    expect(card).not_to_have_class(re.compile(r"\bhtmx-"))  # no read of the card still under way
    held: dict[str, list] = {"GET": [], "POST": []}
    card_urls = ("**/desk/customers/*/next-best-action/", "**/desk/recommendations/*/*/")
    for url in card_urls:
        page.route(url, lambda route: held[route.request.method].append(route))

    def until_held(method: str) -> None:
        eventually(lambda: page.wait_for_timeout(20) or held[method], what=f"the card's {method} held")

    # When another action is offered (the card starts reading itself again: held), the agent accepts
    # the one shown (held too), and the read's answer comes back before the decision's
    offer(customer, "strategy:upgrade", "Offer the premium plan", 0.9)
    until_held("GET")
    card.get_by_test_id("recommendation").filter(has_text="Offer a loyalty discount").get_by_test_id(
        "recommendation-accept"
    ).click()
    until_held("POST")
    for route in held["GET"]:
        with contextlib.suppress(PlaywrightError):  # the decision aborted the read: nothing to let go
            route.continue_()
    held["POST"][0].continue_()
    for url in card_urls:
        page.unroute(url)

    # Then the card shows the decision's answer: its notice, and the other action still open
    expect(card.locator("[role=status]")).to_have_text("Accepted: Offer a loyalty discount.")
    expect(card.locator(".recommendation-title")).to_have_text(["Offer the premium plan"])


def test_from_the_360_page_the_agent_texts_the_customer_and_the_conversation_opens_on_the_desk(
    new_context, asgi_server, settings, team_a, agent
):
    from engagement.conversations.models import Conversation
    from engagement.idv import senders
    from records.customers.services import customer_set_consent

    settings.CEA_SMS_SENDER = "engagement.idv.senders.LocmemSmsSender"
    senders.outbox.clear()
    customer = CustomerFactory(team=team_a, given_name="Ada", family_name="Lovelace", phone="+447911123456")
    customer_set_consent(actor=None, customer=customer, channel="sms", purpose="service", granted=True)
    offer(customer, "strategy:retention", "Offer a loyalty discount", 0.6)
    page = new_context().new_page()
    sign_in(page, agent, next_path=reverse("records:customer-360", args=[customer.pk]))
    # When the agent follows the 360 page's link to the desk
    page.get_by_test_id("open-on-desk").click()
    desk = Desk(page)
    expect(desk.connection).to_have_attribute("data-state", "open")
    # Then the customer's tab shows the card and the form, with the consented channel
    panel = page.locator(f".customer-only-panel[data-customer-id='{customer.pk}']")
    expect(panel.get_by_test_id("recommendation").locator(".recommendation-title")).to_have_text(
        ["Offer a loyalty discount"]
    )
    form = panel.locator("form.outbound-start")
    form.locator("select[name=option]").select_option("sms:service")
    form.locator("textarea[name=text]").fill("Shall we call you about your renewal?")
    form.locator("button[type=submit]").click()
    # Then the SMS goes out and the new conversation opens in its own tab
    expect(panel.locator(".desk-outbound [role=status]")).to_contain_text("is on your desk")
    conversation = eventually(lambda: Conversation.objects.filter(customer=customer).first(), what="the conversation")
    expect(desk.tab(conversation.pk)).to_be_visible()
    assert [(sms.to, sms.text) for sms in senders.outbox] == [
        ("+447911123456", "Shall we call you about your renewal?")
    ]
