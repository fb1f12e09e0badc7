"""The desk's tools in the browser: a canned response by "/" and its shortcut, the knowledge panel
following the customer's messages, a macro's wrap-up code and note, and conversation search."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from engagement.canned.services import canned_create
from engagement.routing.models import WrapUpCode
from engagement.selfservice.services import knowledge_article_save
from tests.browser.helpers import demo_shop_site, visitor_conversation
from tests.browser.test_desktop import agent_desk, visitor_on_the_shop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_canned_responses_knowledge_and_search_at_the_desk(new_context, asgi_server, team_a, agent, supervisor):
    # Given a knowledge article, a shared canned response and a macro of the agent's team
    article = knowledge_article_save(
        title="Parking at our stores", body="Every store has free parking for two hours.", keywords="car park"
    )
    canned_create(
        actor=supervisor,
        team=team_a,
        title="Greeting",
        shortcut="hello",
        body="Hi, I am {{agent.first_name}} (ref {{conversation.id}}).",
    )
    code, _ = WrapUpCode.objects.get_or_create(code="info-given", defaults={"label": "Information given"})
    canned_create(
        actor=supervisor,
        team=team_a,
        title="Close with info",
        shortcut="info",
        body="Glad I could help.",
        note="Information given by {{agent.first_name}}.",
        wrap_up_code=code,
    )
    # and a chat the agent accepted
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
    box = panel.locator("form.reply-form textarea[name=body]")

    # When the agent types "/hel" in the reply box, the greeting is offered; Enter inserts it filled in
    box.click()
    box.press_sequentially("/hel")
    option = panel.locator("[data-testid=canned-option]", has_text="/hello")
    expect(option).to_be_visible()
    box.press("Enter")
    expect(box).to_have_value(f"Hi, I am {agent.first_name} (ref {conversation.pk}).")
    expect(panel.locator("[data-testid=canned-suggestions]")).to_be_hidden()

    # When the customer asks about parking, the knowledge panel suggests the article, live
    widget.say("Is there parking near the store?")
    suggestion = panel.locator(f"[data-testid=knowledge-article][data-article-id='{article.pk}']")
    expect(suggestion).to_be_visible()
    suggestion.locator("[data-testid=knowledge-insert-link]").click()
    greeting = re.escape(f"Hi, I am {agent.first_name} (ref {conversation.pk}).")
    expect(box).to_have_value(re.compile(greeting + rf"\nParking at our stores: http\S+/help/articles/{article.pk}/$"))

    # When the agent picks the macro from the picker: its text is inserted, its wrap-up code chosen and its note added
    panel.locator("[data-testid=canned-picker] summary").click()
    panel.locator("[data-testid=canned-all] [data-testid=canned-option]", has_text="/info").click()
    expect(panel.locator(".wrap-up-form select[name=wrap_up_code]")).to_have_value("info-given")
    note = panel.locator(".messages .message[data-internal=true]", has_text=f"Information given by {agent.first_name}.")
    expect(note).to_be_visible()
    expect(box).to_have_value(re.compile(r"Glad I could help\.$"))

    # And the tools, open with their lists, pass axe-core's WCAG 2 A/AA rules
    box.press_sequentially(" /")
    expect(panel.locator("[data-testid=canned-suggestions]")).to_be_visible()
    assert violations(desk.page, ".desk-tools") == []

    # When the agent searches their conversations for "parking", this conversation is found
    page = desk.page
    page.goto("/desk/search/conversations/?q=parking")
    expect(page.locator(f"[data-testid=conversation-result][data-conversation-id='{conversation.pk}']")).to_be_visible()
    assert violations(page, "main") == []
    # and their canned responses page passes too
    page.goto("/desk/canned/")
    expect(page.locator("[data-testid=canned-form]")).to_be_visible()
    assert violations(page, "main") == []


def violations(page, selector: str) -> list[tuple[str, list[str]]]:
    """axe-core's WCAG 2 A/AA violations inside ``selector``: (rule, the elements' selectors)."""
    results = Axe().run(
        page,
        context=selector,
        options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}},
    )
    return [
        (violation["id"], [node["target"][0] for node in violation["nodes"]])
        for violation in results.response["violations"]
    ]
