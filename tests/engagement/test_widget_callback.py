"""The chat widget's out-of-hours offer: what the visitor is shown, and booking the callback from a site.

The widget's side in a browser is tests/browser/test_widget_callback.py.
"""

from __future__ import annotations

import pytest
from django.test import TestCase

from cea.common.channels import Channel
from engagement.backoffice.models import OutOfHoursAnswer
from engagement.conversations.models import Conversation
from engagement.conversations.services import conversation_start
from engagement.orchestration import conversation_escalate
from engagement.outbound.models import Callback
from engagement.webchat.models import SiteKey
from engagement.webchat.selectors import CALLBACK_NEEDS_CUSTOMER, visitor_messages_after
from tests.engagement.factories import QueueFactory
from tests.engagement.routing_support import closed_today_and_tomorrow
from tests.support import assert_error, make_customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routing_env", "eager_tasks")]

OFFERED = "/api/v1/engagement/callbacks/offered/"
CALLBACKS = "/api/v1/engagement/callbacks/"
SHOP = "https://shop.example"
OTHER_SHOP = "https://other-shop.example"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def closed_support(team_a):
    """Queue ``support`` of team A: closed today and tomorrow, with an answer on chat offering both."""
    hours = closed_today_and_tomorrow()
    queue = QueueFactory(name="support", team=team_a, business_hours=hours)
    OutOfHoursAnswer.objects.create(queue=queue, channel=Channel.CHAT, text="We are closed right now.")
    return queue


@pytest.fixture
def sites(team_a, team_b):
    shop = SiteKey.objects.create(name="Shop", allowed_origins=[SHOP], queue="support", team=team_a)
    other = SiteKey.objects.create(name="Other shop", allowed_origins=[OTHER_SHOP], queue="other", team=team_b)
    return shop, other


def ada(team):
    return make_customer(team, given_name="Ada", family_name="Lovelace", phone="+447911123456")


def chat(visitor: str, **fields) -> Conversation:
    """A visitor's chat reaching the closed queue, committed (the out-of-hours answer goes once it commits)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        conversation, _ = conversation_start(channel=Channel.CHAT, queue="support", visitor=visitor, **fields)
        return conversation_escalate(conversation=conversation, queue="support")


def widget_offer(conversation: Conversation, visitor: str) -> dict:
    """The offer under the out-of-hours answer, as the visitor's widget gets it (history)."""
    shown, _ = visitor_messages_after(conversation_id=conversation.pk, visitor=visitor, after=0)
    (answer,) = [message for message in shown if "offer" in message]
    assert answer["author_kind"] == "system" and "payload" not in answer
    return answer["offer"]


def book(client, token: str, *, site: str = "", origin: str = "", phone: str = ""):
    headers = {"HTTP_ORIGIN": origin} if origin else {}
    body = f"token={token}&phone={phone.replace('+', '%2B')}&site_key={site}"
    return client.post(OFFERED, body, content_type=FORM, **headers)


def test_an_anonymous_visitor_is_offered_the_message_and_told_plainly_why_not_a_callback(closed_support, client):
    # Given a visitor CEA does not know, whose chat reaches the closed queue
    conversation = chat("visitor-1")
    # When the widget shows the answer
    offer = widget_offer(conversation, "visitor-1")
    # Then it offers to leave a message, and no callback, saying why
    assert offer["leave_message"] is True
    assert offer["callback"] is None
    assert offer["callback_unavailable"] == CALLBACK_NEEDS_CUSTOMER
    # And the answer's text promises no callback link, nor does its marker hold a token
    (answer,) = conversation.messages.filter(payload__has_key="out_of_hours")
    assert "call you back" not in answer.body
    assert answer.payload["out_of_hours"]["callback_token"] == ""
    assert answer.payload["out_of_hours"]["customer_known"] is False


def test_an_identified_visitor_books_the_callback_from_the_widget_of_an_allowed_site(
    closed_support, sites, team_a, client
):
    shop, _ = sites
    customer = ada(team_a)
    conversation = chat("visitor-2", customer=customer)
    offer = widget_offer(conversation, "visitor-2")
    assert offer["callback"]["book_url"] == OFFERED and offer["callback_unavailable"] == ""
    # When the widget on the shop's page books it, form-encoded with a number for this callback
    response = book(client, offer["callback"]["token"], site=shop.key, origin=SHOP, phone="+44 20 7946 0000")
    # Then a callback of the customer waits in the chat's queue for the opening, to the number given
    assert response.status_code == 201, response.content
    # The anonymous caller is told when, never whom (no customer, conversation or attempt log)
    assert set(response.json()) == {"id", "queue", "due_at", "status"}
    callback = Callback.objects.get(pk=response.json()["id"])
    source = f"out_of_hours:{conversation.pk}"
    assert (callback.customer, callback.queue, callback.source) == (customer, "support", source)
    assert callback.phone == "+442079460000"
    # And the shop's page may read the answer (no cookie is involved)
    assert response["Access-Control-Allow-Origin"] == SHOP
    # And a second press is a clear conflict, still readable by the page
    again = book(client, offer["callback"]["token"], site=shop.key, origin=SHOP)
    assert_error(again, 409, "callback_already_booked")
    assert again["Access-Control-Allow-Origin"] == SHOP


def test_a_bad_number_is_a_field_error_and_nothing_is_booked(closed_support, sites, team_a, client):
    shop, _ = sites
    customer = ada(team_a)
    offer = widget_offer(chat("visitor-3", customer=customer), "visitor-3")
    # When the visitor types something that is not a phone number
    error = assert_error(book(client, offer["callback"]["token"], site=shop.key, origin=SHOP, phone="call me"), 400)
    # Then the phone field says what is wanted, and no callback exists
    assert "phone" in error["fields"]
    assert not Callback.objects.exists()


def test_only_the_site_keys_own_origins_read_the_answer(closed_support, sites, team_a, client):
    shop, other = sites
    customer = ada(team_a)
    token = widget_offer(chat("visitor-4", customer=customer), "visitor-4")["callback"]["token"]
    # A page of another site, naming the shop's key, cannot read the answer; nor with its own key
    assert "Access-Control-Allow-Origin" not in book(client, "x", site=shop.key, origin=OTHER_SHOP)
    assert "Access-Control-Allow-Origin" not in book(client, "x", site=other.key, origin=SHOP)
    # An inactive site key opens nothing
    shop.is_active = False
    shop.save(update_fields=["is_active"])
    response = book(client, token, site=shop.key, origin=SHOP)
    assert response.status_code == 201 and "Access-Control-Allow-Origin" not in response
    # A forged token is refused whichever site asks
    assert_error(book(client, token[:-3] + "abc", site=other.key, origin=OTHER_SHOP), 403)


def test_a_visitor_sees_only_their_own_offer(closed_support, team_a):
    customer = ada(team_a)
    conversation = chat("visitor-5", customer=customer)
    # Another visitor (of any site) asking for this conversation's messages gets nothing
    assert visitor_messages_after(conversation_id=conversation.pk, visitor="visitor-6", after=0) == ([], False)


def test_the_booked_callback_is_seen_by_the_queues_team_only(
    closed_support, sites, team_a, client, supervisor, supervisor_b
):
    shop, _ = sites
    customer = ada(team_a)
    token = widget_offer(chat("visitor-7", customer=customer), "visitor-7")["callback"]["token"]
    booked = book(client, token, site=shop.key, origin=SHOP).json()["id"]
    # Team A's supervisor sees it among their callbacks; team B's does not
    client.force_login(supervisor)
    assert [row["id"] for row in client.get(CALLBACKS).json()["results"]] == [booked]
    client.force_login(supervisor_b)
    assert client.get(CALLBACKS).json()["results"] == []
