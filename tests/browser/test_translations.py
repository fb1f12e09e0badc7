"""Translations in a real browser (docs/translations.md): the widget speaks its host page's language,
and the header's language picker switches the desk to German, its scripts' strings included."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import Desk, Widget, demo_shop_site, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_site(asgi_server, team_a):
    return demo_shop_site(asgi_server.url, team=team_a)


def test_the_widget_on_a_german_page_is_in_german(new_context, demo_site):
    # Given the demo shop asked for in German: its page says <html lang="de">
    page = new_context(locale="de-DE").new_page()
    page.goto("/demo/shop/")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    widget = Widget(page)
    # When the visitor opens the chat
    expect(page.get_by_test_id("cea-chat-button")).to_have_attribute("aria-label", "Chatten Sie mit uns")
    widget.open()
    # Then the widget's own strings, and what the server says over its socket, are German
    expect(widget.input).to_have_attribute("placeholder", "Schreiben Sie Ihre Nachricht…")
    expect(page.get_by_test_id("cea-chat-send")).to_have_text("Senden")
    expect(page.get_by_test_id("cea-chat-end")).to_have_text("Chat beenden")
    widget.expect_status("self_service")
    expect(widget.status).to_have_text("Assistent")
    page.get_by_test_id("cea-chat-attach").click()  # no chat yet: the widget says so, in German
    expect(page.get_by_test_id("cea-chat-error")).to_have_text(
        "Senden Sie zuerst eine Nachricht; dann können Sie eine Datei anhängen."
    )


def test_the_widget_on_an_english_page_is_in_english(new_context, demo_site):
    # Given the demo shop asked for in English: its page says <html lang="en-gb">
    page = new_context(locale="en-GB").new_page()
    page.goto("/demo/shop/")
    expect(page.locator("html")).to_have_attribute("lang", "en-gb")
    widget = Widget(page)
    # When the visitor opens the chat
    widget.open()
    # Then the widget is in English
    expect(page.get_by_test_id("cea-chat-button")).to_have_attribute("aria-label", "Chat with us")
    expect(widget.input).to_have_attribute("placeholder", "Type your message…")
    expect(page.get_by_test_id("cea-chat-send")).to_have_text("Send")
    widget.expect_status("self_service")
    expect(widget.status).to_have_text("Assistant")


def test_the_language_picker_switches_the_desk_to_german(new_context, agent):
    # Given an agent on the desk, in a browser that asks for English
    page = new_context(locale="en-GB").new_page()
    sign_in(page, agent, next_path="/desk/")
    desk = Desk(page)
    desk.open()
    expect(page.locator(".offers-empty")).to_have_text("No offers waiting.")
    # When they pick Deutsch in the header's language picker
    page.get_by_test_id("language-select").select_option("de")
    page.get_by_test_id("language-apply").click()
    # Then the desk comes back in German: its page, and its scripts' strings (the JS catalog)
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator(".offers-empty")).to_have_text("Keine wartenden Anfragen.")
    expect(desk.connection).to_have_attribute("data-state", "open")
    assert page.evaluate("gettext('Reconnecting…')") == "Verbinde neu…"
    expect(page.get_by_test_id("language-select")).to_have_value("de")
    # and it stays German on the next page
    page.goto("/desk/search/conversations/")
    expect(page.locator("h1")).to_have_text("Gesprächssuche")
