"""The chat widget against a closed queue: the out-of-hours answer's "Call me back" and "Leave a message".

The booking API's own tests (sites, teams, bad input) are in tests/engagement/test_widget_callback.py.
"""

from __future__ import annotations

import datetime as dt
from datetime import UTC

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cea.common.channels import Channel
from engagement.backoffice.models import OutOfHoursAnswer
from engagement.outbound.models import Callback, CallbackStatus
from engagement.routing.hours import ClosedDays, WeeklyRange
from engagement.routing.models import Queue
from engagement.routing.services import business_hours_create
from tests.browser.accessibility import assert_accessible
from tests.browser.helpers import Widget, demo_shop_site, eventually, visitor_conversation
from tests.support import make_customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ANSWER = "We are closed right now."


@pytest.fixture
def closed_shop(asgi_server, team_a):
    """The demo shop, whose chats go to queue ``web-chat``: closed today and tomorrow, with a chat answer."""
    today = timezone.now().astimezone(UTC).date()
    hours = business_hours_create(
        actor=None,
        name="office",
        time_zone="UTC",
        ranges=[WeeklyRange(day, dt.time(9), dt.time(17)) for day in range(7)],
        closures=[ClosedDays("Stocktake", today, today + dt.timedelta(days=1))],
    )
    queue = Queue.objects.create(name="web-chat", label="Web chat", team=team_a, business_hours=hours)
    OutOfHoursAnswer.objects.create(queue=queue, channel=Channel.CHAT, text=ANSWER)
    return demo_shop_site(asgi_server.url, team=team_a)


def open_chat(new_context) -> Widget:
    page = new_context().new_page()
    page.goto("/demo/shop/")
    widget = Widget(page)
    widget.open()
    widget.say("Hello")
    expect(widget.message("customer", "Hello")).to_have_attribute("data-state", "sent")
    return widget


def ask_for_agent(widget: Widget):
    widget.say("I want to talk to an agent")
    widget.expect_status("queued")
    offer = widget.page.get_by_test_id("cea-chat-offer")
    expect(offer).to_be_visible()
    return offer


def test_an_anonymous_visitor_leaves_a_message_and_is_told_why_no_callback(new_context, closed_shop):
    # Given a visitor CEA does not know, chatting on the shop while the queue is closed
    widget = open_chat(new_context)
    # When they ask for an agent
    offer = ask_for_agent(widget)
    # Then the answer shows, with "Leave a message" and a plain reason instead of "Call me back"
    expect(widget.message("system", ANSWER)).to_be_visible()
    expect(offer.get_by_role("button", name="Call me back")).to_have_count(0)
    expect(offer.get_by_test_id("cea-offer-note")).to_contain_text("We can only call back customers we know")
    assert_accessible(widget.page, within="[data-testid=cea-chat]")
    # When they choose to leave a message, the chat's box has the focus and says what happens
    offer.get_by_role("button", name="Leave a message").click()
    expect(widget.input).to_be_focused()
    note = offer.get_by_test_id("cea-offer-note")
    expect(note).to_have_text("Write your message below: we will answer it when we open.")
    widget.say("Please call me about order 1234")
    expect(widget.message("customer", "order 1234")).to_have_attribute("data-state", "sent")
    # And the chat stays open, waiting in the queue for the opening
    widget.expect_status("queued")
    assert not Callback.objects.exists()


def test_an_identified_visitor_books_a_callback_from_the_widget(new_context, closed_shop, team_a):
    widget = open_chat(new_context)
    # Given the visitor is known (as after an identity check in the chat)
    customer = make_customer(team_a, given_name="Ada", family_name="Lovelace", phone="+447911123456")
    conversation = visitor_conversation()
    conversation.customer = customer
    conversation.save(update_fields=["customer"])
    offer = ask_for_agent(widget)
    # When they press "Call me back", the phone field opens with the focus
    call = offer.get_by_role("button", name="Call me back")
    call.click()
    expect(call).to_have_attribute("aria-expanded", "true")
    phone = offer.get_by_label("Your phone number")
    expect(phone).to_be_focused()
    assert_accessible(widget.page, within="[data-testid=cea-chat]")
    # A number that is not one is refused beside the field
    phone.fill("call me")
    offer.get_by_role("button", name="Book the callback").click()
    expect(offer.get_by_test_id("cea-offer-error")).to_be_visible()
    expect(phone).to_have_attribute("aria-invalid", "true")
    # When they give a number and book
    phone.fill("+44 20 7946 0000")
    offer.get_by_role("button", name="Book the callback").click()
    # Then the widget confirms (the confirmation has the focus) and the callback waits for the opening
    note = offer.get_by_test_id("cea-offer-note")
    expect(note).to_contain_text("Booked: we will call you back")
    expect(note).to_be_focused()
    expect(call).to_be_hidden()
    callback = eventually(lambda: Callback.objects.filter(customer=customer).first(), what="the booked callback")
    assert (callback.queue, callback.status, callback.phone) == ("web-chat", CallbackStatus.SCHEDULED, "+442079460000")
