"""The live wallboard in a real browser: it moves when a visitor starts a chat, and goes full screen.

A supervisor has the team's wallboard open; a visitor on the demo shop asks for a person; the chat
waits in the team's web chat queue and the board shows it without a reload (pushed over
ws/insights/wallboard/<team>/); an agent takes it and the board shows it answered.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from engagement.routing.offers import offer_accept
from engagement.routing.presence import presence_set
from tests.browser.helpers import Widget, demo_shop_site, pending_offer, sign_in, visitor_conversation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_wallboard_moves_when_a_visitor_starts_a_chat(new_context, asgi_server, team_a, supervisor, agent):
    demo_shop_site(asgi_server.url, team=team_a)
    board_page = new_context().new_page()
    sign_in(board_page, supervisor, next_path=f"/insights/wallboard/{team_a.pk}/")
    expect(board_page.get_by_test_id("wallboard-connection")).to_have_attribute("data-state", "open")
    web_chat = board_page.locator("[data-testid=wallboard-queue][data-queue=web-chat]")
    expect(web_chat.get_by_test_id("queue-waiting")).to_have_text("0")

    # A visitor asks for a person: the chat waits in the team's queue (no agent is available).
    visitor = new_context().new_page()
    visitor.goto("/demo/shop/")
    widget = Widget(visitor)
    widget.open()
    widget.say("I want to talk to an agent")
    widget.expect_status("queued")

    # The board moves by itself.
    expect(web_chat.get_by_test_id("queue-waiting")).to_have_text("1")
    expect(web_chat.get_by_test_id("queue-longest-wait")).not_to_have_text("–")

    # An agent becomes available and takes it: no one waits, one answered today.
    presence_set(actor=agent, agent_user=agent, presence="available")
    offer = pending_offer(visitor_conversation())
    offer_accept(actor=agent, offer_id=offer.pk)
    expect(web_chat.get_by_test_id("queue-waiting")).to_have_text("0")
    expect(web_chat.get_by_test_id("queue-answered")).to_contain_text("1")
    expect(board_page.get_by_test_id("agents-available")).to_have_text("1")


def test_the_wallboard_goes_full_screen_from_the_keyboard(new_context, asgi_server, team_a, supervisor):
    page = new_context().new_page()
    sign_in(page, supervisor, next_path=f"/insights/wallboard/{team_a.pk}/")
    button = page.get_by_test_id("wallboard-fullscreen")
    # The board's script is running (it opened its socket): its keys and buttons listen
    expect(page.get_by_test_id("wallboard-connection")).to_have_attribute("data-state", "open")

    button.focus()
    page.keyboard.press("Enter")

    expect(button).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("wallboard")).to_have_class("wallboard kiosk")
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-pressed", "false")

    # Or "f" anywhere on the page, and Esc to leave.
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("f")
    expect(button).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Escape")
    expect(button).to_have_attribute("aria-pressed", "false")
    expect(page.get_by_test_id("wallboard")).to_have_class("wallboard")


def test_a_key_pressed_again_before_the_browser_has_left_full_screen_keeps_the_kiosk(
    new_context, asgi_server, team_a, supervisor
):
    # Given a board in the kiosk and the browser's full screen
    page = new_context().new_page()
    sign_in(page, supervisor, next_path=f"/insights/wallboard/{team_a.pk}/")
    button = page.get_by_test_id("wallboard-fullscreen")
    board = page.get_by_test_id("wallboard")
    expect(page.get_by_test_id("wallboard-connection")).to_have_attribute("data-state", "open")
    page.keyboard.press("f")
    expect(page.locator("#wallboard:fullscreen")).to_have_count(1)
    # (the test writes down the browser's full-screen changes where a locator sees them: X left, E entered)
    page.evaluate(
        "document.body.dataset.changes = '';"
        "document.addEventListener('fullscreenchange', () => {"
        "  document.body.dataset.changes += document.fullscreenElement ? 'E' : 'X';"
        "})"
    )

    # When "f" is pressed twice, the second time before the browser has left full screen (both in one
    # task of the page, so the browser cannot settle between them)
    page.evaluate(
        "for (let i = 0; i < 2; i++) {"
        "  document.body.dispatchEvent(new KeyboardEvent('keydown', {key: 'f', bubbles: true}));"
        "}"
    )

    # Then the board ends as last asked once the browser settles: it left full screen and came back,
    # with the kiosk on
    expect(page.locator("body")).to_have_attribute("data-changes", "XE")
    expect(page.locator("#wallboard:fullscreen")).to_have_count(1)
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(board).to_have_class("wallboard kiosk")
