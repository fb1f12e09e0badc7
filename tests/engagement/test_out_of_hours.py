"""Out-of-hours answers per queue and channel, and the callback a customer books from one."""

from __future__ import annotations

import datetime as dt
from datetime import UTC

import pytest
from django.core import mail
from django.test import Client, TestCase
from django.utils import timezone

from cea.common.channels import Channel
from engagement.adapters.email import email_ingest
from engagement.backoffice.models import OutOfHoursAnswer
from engagement.backoffice.out_of_hours import callback_offer_token, next_opening, queue_open_at
from engagement.conversations.models import AuthorKind, Conversation
from engagement.conversations.services import conversation_start
from engagement.orchestration import conversation_escalate
from engagement.outbound.models import Callback, CallbackStatus
from engagement.routing.models import WorkItem, WorkStatus
from tests.engagement.desktop_support import parse
from tests.engagement.factories import QueueFactory
from tests.engagement.routing_support import closed_today_and_tomorrow
from tests.support import assert_error, make_customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routing_env", "eager_tasks")]

OFFERED = "/api/v1/engagement/callbacks/offered/"
ANSWER = "We are closed right now."


@pytest.fixture
def closed_today():
    """Open 09:00-17:00 UTC every day, but closed all of today and tomorrow (UTC)."""
    return closed_today_and_tomorrow()


@pytest.fixture
def support(team_a, closed_today):
    queue = QueueFactory(name="support", team=team_a, business_hours=closed_today)
    for channel in (Channel.CHAT, Channel.EMAIL, Channel.VOICE):
        OutOfHoursAnswer.objects.create(queue=queue, channel=channel, text=ANSWER)
    return queue


@pytest.fixture
def customer(team_a):
    return make_customer(team_a, given_name="Ada", family_name="Lovelace", phone="+447911123456")


def day_after_tomorrow_at_nine() -> dt.datetime:
    day = timezone.now().astimezone(UTC).date() + dt.timedelta(days=2)
    return dt.datetime.combine(day, dt.time(9), tzinfo=UTC)


def arrive(channel: str, queue: str = "support", **fields) -> Conversation:
    """A contact that reaches ``queue``, committed (the out-of-hours answer goes once it commits)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        conversation, _ = conversation_start(channel=channel, queue=queue, **fields)
        return conversation_escalate(conversation=conversation, queue=queue)


def answers(conversation: Conversation) -> list:
    return list(conversation.messages.filter(payload__has_key="out_of_hours"))


def test_a_chat_reaching_a_closed_queue_is_answered_live_and_keeps_waiting(support, customer):
    assert queue_open_at(queue=support, at=timezone.now()) is False
    assert next_opening(queue=support, after=timezone.now()) == day_after_tomorrow_at_nine()
    # When a chat escalates to the closed queue
    conversation = arrive(Channel.CHAT, customer=customer)
    # Then it gets the configured answer, with the opening time, the message and the callback offers
    (answer,) = answers(conversation)
    assert (answer.author_kind, answer.payload["delivery"]) == (AuthorKind.SYSTEM, "live")
    lines = answer.body.splitlines()
    assert lines[0] == ANSWER and lines[1].startswith("We open again at ")
    assert lines[2] == "You can leave us a message here: we will answer it when we open."
    offer = answer.payload["out_of_hours"]
    assert lines[3] == f"Or ask us to call you back: {offer['callback_url']}"
    assert (offer["queue"], offer["opens_at"]) == ("support", day_after_tomorrow_at_nine().isoformat())
    # And the chat keeps waiting in the queue (the message is answered when it opens); once only
    assert WorkItem.objects.get(conversation=conversation).status == WorkStatus.WAITING
    conversation.status = "self_service"
    conversation.save(update_fields=["status"])
    conversation_escalate(conversation=conversation, queue="support")
    assert len(answers(conversation)) == 1


def test_an_email_gets_an_auto_reply_and_a_call_a_spoken_message(support, customer, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    # When an email reaches the closed queue
    with django_capture_on_commit_callbacks(execute=True):
        email = arrive(
            Channel.EMAIL, contact_kind="email", contact_value="ada@example.com", subject="Where is my order"
        )
    # Then an auto-reply goes out by email, threaded as a reply
    (sent,) = mail.outbox
    assert (sent.to, sent.subject, sent.body.splitlines()[0]) == (["ada@example.com"], "Re: Where is my order", ANSWER)
    assert answers(email)[0].payload["delivery"] == "sent"
    # When a call reaches it, the answer is kept for the call-control webhook to say
    call = arrive(Channel.VOICE, contact_kind="phone", contact_value="+447911123456")
    (spoken,) = answers(call)
    assert (spoken.payload["spoken"], spoken.body.splitlines()[0]) == (True, ANSWER)


def raw_email(message_id: str, *headers: str, sender: str = "ada@example.com") -> bytes:
    return (
        f"Message-ID: <{message_id}>\r\nFrom: {sender}\r\nTo: support@cea.example\r\nSubject: Order\r\n"
        + "".join(f"{header}\r\n" for header in headers)
        + "\r\nWhere is my order?\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("headers", "sender"),
    [
        (("Auto-Submitted: auto-replied",), "helpdesk@example.net"),  # another system's auto-reply (RFC 3834)
        (("Precedence: bulk",), "news@example.net"),
        (("List-Id: <deals.example.net>",), "deals@example.net"),
        ((), "MAILER-DAEMON@example.net"),  # a bounce
    ],
)
def test_mail_sent_by_a_machine_gets_no_automatic_answer(support, headers, sender, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    # When an auto-reply, a bulk or list mail, or a bounce reaches the closed queue
    with django_capture_on_commit_callbacks(execute=True):
        ingested = email_ingest(raw=raw_email("auto-1@example.net", *headers, sender=sender), queue="support")
    # Then it waits for an agent, unanswered: two auto-responders never answer each other forever
    assert ingested.message.payload["automatic"] is True
    assert answers(ingested.conversation) == [] and mail.outbox == []


def test_the_automatic_answer_says_it_is_one(support, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    # When a person's email reaches the closed queue
    with django_capture_on_commit_callbacks(execute=True):
        ingested = email_ingest(raw=raw_email("person-1@example.com", "Auto-Submitted: no"), queue="support")
    # Then the answer is marked auto-replied, so other systems do not answer it in turn
    (sent,) = mail.outbox
    assert sent.extra_headers["Auto-Submitted"] == "auto-replied"
    assert sent.extra_headers["In-Reply-To"] == "<person-1@example.com>"  # after the person's own message
    assert "automatic" not in ingested.message.payload


def test_no_answer_while_open_nor_on_a_channel_without_one(team_a, customer, support):
    # An SMS has no answer configured for the closed queue: none is sent
    assert answers(arrive(Channel.SMS, contact_kind="phone", contact_value="+447911123456")) == []
    # A queue without business hours is always open
    QueueFactory(name="always", team=team_a)
    assert answers(arrive(Channel.CHAT, queue="always", customer=customer)) == []


def test_the_customer_books_the_offered_callback_for_the_opening_once(support, customer, client):
    conversation = arrive(Channel.CHAT, customer=customer)
    token = answers(conversation)[0].payload["out_of_hours"]["callback_token"]
    # When the customer books it through the API (anonymous: the token is the permission)
    response = client.post(OFFERED, {"token": token}, content_type="application/json")
    # Then a callback of the customer waits for the queue's opening
    assert response.status_code == 201, response.content
    callback = Callback.objects.get(pk=response.json()["id"])
    assert (callback.customer, callback.queue, callback.status, callback.due_at) == (
        customer,
        "support",
        CallbackStatus.SCHEDULED,
        day_after_tomorrow_at_nine(),
    )
    # And booking again from the same answer is a conflict; a forged token is refused
    assert_error(
        client.post(OFFERED, {"token": token}, content_type="application/json"), 409, "callback_already_booked"
    )
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert_error(client.post(OFFERED, {"token": forged}, content_type="application/json"), 403)
    assert_error(client.post(OFFERED, {"token": token, "phone": "call me"}, content_type="application/json"), 400)
    assert Callback.objects.count() == 1


def test_an_anonymous_visitor_is_asked_to_leave_a_message_and_the_page_books_for_a_known_one(support, customer):
    client = Client(enforce_csrf_checks=False)
    anonymous = arrive(Channel.CHAT, visitor="visitor-1")
    offer = answers(anonymous)[0].payload["out_of_hours"]
    # An unidentified contact is offered no callback (there is no customer to call) …
    assert (offer["callback_token"], offer["customer_known"]) == ("", False)
    # … and a token for its conversation (forged by whoever could sign one) books nothing
    token = callback_offer_token(conversation_id=anonymous.pk)
    response = client.post(OFFERED, {"token": token}, content_type="application/json")
    assert_error(response, 409, "customer_unknown")
    # The public page books for a known customer, on the number they give
    known = arrive(Channel.CHAT, customer=customer)
    page_url = f"/callback/{callback_offer_token(conversation_id=known.pk)}/"
    assert parse(client.get(page_url)).find("button").text == "Call me back"
    booked = parse(client.post(page_url, {"phone": "+447700900123"}))
    assert booked.find(data_testid="callback-offer-booked").text.startswith("Thank you: we will call you from")
    assert Callback.objects.get().phone == "+447700900123"
    assert client.get("/callback/forged-token/").status_code == 403


def test_only_admins_configure_out_of_hours_answers_in_the_console(support, supervisor, admin_user):
    supervisor.is_staff = admin_user.is_staff = True
    supervisor.save(update_fields=["is_staff"])
    admin_user.save(update_fields=["is_staff"])
    console = Client()
    console.force_login(supervisor)
    assert console.get("/admin/engagement/outofhoursanswer/").status_code == 200
    assert console.get("/admin/engagement/outofhoursanswer/add/").status_code == 403
    console.force_login(admin_user)
    response = console.post(
        "/admin/engagement/outofhoursanswer/add/",
        {"queue": support.pk, "channel": "sms", "text": "Closed", "offer_callback": "on", "is_active": "on"},
    )
    assert response.status_code == 302, response.content
    assert OutOfHoursAnswer.objects.filter(queue=support, channel="sms").count() == 1


def test_an_sms_answer_goes_through_the_reply_path(support):
    # Given an answer for SMS on the closed queue
    OutOfHoursAnswer.objects.create(queue=support, channel=Channel.SMS, text=ANSWER, offer_callback=False)
    # When an SMS arrives, the answer is a reply on the SMS path (recorded not sent without a sender)
    (answer,) = answers(arrive(Channel.SMS, contact_kind="phone", contact_value="+447911123456"))
    assert (answer.author_kind, answer.payload["delivery"], answer.payload["out_of_hours"]["callback_url"]) == (
        AuthorKind.SYSTEM,
        "not_sent",
        "",
    )
    assert "call you back" not in answer.body
