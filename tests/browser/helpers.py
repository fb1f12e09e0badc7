"""Helpers of the browser tests (not collected as tests): waiting on the database, the widget's page."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from playwright.sync_api import expect

# Generous: two shared cores run the browser, the server, PostgreSQL and Redis at once.
TIMEOUT_MS = 20_000

T = TypeVar("T")


def eventually(check: Callable[[], T], *, what: str, timeout: float = TIMEOUT_MS / 1000) -> T:
    """Poll ``check`` (a database read) until it returns something truthy; fail after ``timeout``.

    For state no page shows. Never a measurement: the timeout only bounds a hang.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"Still waiting after {timeout:.0f} s for {what}")
        time.sleep(0.05)


class Widget:
    """The web chat widget on a page, through its ``data-testid`` hooks (static/engagement/widget.js)."""

    def __init__(self, page) -> None:
        self.page = page
        self.panel = page.get_by_test_id("cea-chat-panel")
        self.status = page.get_by_test_id("cea-chat-status")
        self.input = page.get_by_test_id("cea-chat-input")
        self.messages = page.get_by_test_id("cea-chat-message")

    def open(self) -> None:
        self.page.get_by_test_id("cea-chat-button").click()
        expect(self.panel).to_be_visible()

    def say(self, text: str) -> None:
        self.input.fill(text)
        self.input.press("Enter")

    def message(self, author: str, text: str) -> Any:
        """The message of ``author`` (customer, bot, agent) containing ``text``."""
        return self.page.locator(f"[data-testid=cea-chat-message][data-author={author}]", has_text=text)

    def expect_status(self, status: str) -> None:
        expect(self.status).to_have_attribute("data-status", status)


def sign_in(page, user, *, next_path: str = "/") -> None:
    """Sign ``user`` in through the sign-in page (their factory password), landing on ``next_path``."""
    from tests.accounts.factories import PASSWORD

    page.goto(f"/accounts/login/?next={next_path}")
    form = page.get_by_test_id("login-form")
    form.locator("input[name=username]").fill(user.username)
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("input[name=password]").press("Enter")
    expect(page).to_have_url(re.compile(re.escape(next_path) + "$"))


class Desk:
    """The agent desktop at /desk/, through the DOM its template and desktop.js keep."""

    def __init__(self, page) -> None:
        self.page = page
        self.connection = page.locator("#desk-connection")
        self.presence = page.locator("select#presence")
        self.presence_state = page.locator("#presence-state")
        self.offers = page.locator("#offers .offer")
        self.tabs = page.locator("#conversation-tabs .conversation-tab")

    def open(self) -> None:
        self.page.goto("/desk/")
        expect(self.connection).to_have_attribute("data-state", "open")

    def set_presence(self, value: str) -> None:
        self.presence.select_option(value)
        expect(self.presence_state).to_have_attribute("data-presence", value.partition(":")[0])

    def offer_for(self, conversation_id: int) -> Any:
        return self.page.locator(f"#offers .offer[data-conversation-id='{conversation_id}']")

    def tab(self, conversation_id: int) -> Any:
        return self.page.locator(f"#conversation-tabs .conversation-tab[data-conversation-id='{conversation_id}']")

    def panel(self, conversation_id: int) -> Any:
        return self.page.locator(f".conversation-panel[data-conversation-id='{conversation_id}']")

    def message(self, conversation_id: int, author_kind: str, text: str) -> Any:
        return self.panel(conversation_id).locator(
            f".messages .message[data-author-kind={author_kind}] .message-body", has_text=text
        )


def live_desk(new_context, agent) -> Desk:
    """``agent`` signed in on /desk/ in a browser context of their own, its websocket open."""
    page = new_context().new_page()
    sign_in(page, agent, next_path="/desk/")
    desk = Desk(page)
    expect(desk.connection).to_have_attribute("data-state", "open")
    return desk


def demo_shop_site(origin: str, *, team, queue: str = "web-chat"):
    """The demo shop's site key, allowing ``origin``; its chats go to ``queue`` (made for ``team`` if new)."""
    from engagement.routing.models import Queue, WrapUpCode
    from engagement.webchat.services import demo_site_ensure

    Queue.objects.get_or_create(name=queue, defaults={"label": queue.replace("-", " ").capitalize(), "team": team})
    # Rows of the data migrations are gone after another transactional test's flush.
    WrapUpCode.objects.get_or_create(code="resolved", defaults={"label": "Resolved"})
    site, _, _ = demo_site_ensure(origins=[origin], team=team, queue=queue)
    return site


def visitor_conversation():
    """The one web chat conversation of the test."""
    from engagement.conversations.models import Conversation

    return Conversation.objects.exclude(visitor="").get()


def pending_offer(conversation):
    """The router's pending offer of ``conversation``, once it is made."""
    from engagement.routing.models import Offer, OfferStatus

    return eventually(
        lambda: (
            Offer.objects.select_related("agent")
            .filter(work_item__conversation=conversation, status=OfferStatus.PENDING)
            .first()
        ),
        what="the router's offer of the chat",
    )


@dataclass
class AcceptedChat:
    """A visitor's chat on the demo shop that an available agent accepted: both pages, and its panel."""

    desk_page: Any
    desk: Desk
    visitor_page: Any
    widget: Widget
    conversation: Any
    panel: Any


def accepted_chat(new_context, origin: str, *, team, agent) -> AcceptedChat:
    """The agent signs in and becomes available, a visitor on the demo shop asks for a person, and the
    agent accepts the offer: the conversation's panel is open and the widget says it is with an agent."""
    demo_shop_site(origin, team=team)
    desk = live_desk(new_context, agent)
    desk.set_presence("available")
    visitor_page = new_context().new_page()
    visitor_page.goto("/demo/shop/")
    widget = Widget(visitor_page)
    widget.open()
    widget.say("I want to talk to an agent")
    widget.expect_status("queued")
    conversation = visitor_conversation()
    desk.offer_for(conversation.pk).locator("button.offer-accept").click()
    panel = desk.panel(conversation.pk)
    expect(panel).to_be_visible()
    widget.expect_status("active")
    return AcceptedChat(desk.page, desk, visitor_page, widget, conversation, panel)
