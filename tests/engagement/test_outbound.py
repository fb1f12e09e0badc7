"""Proactive outbound conversations: consent and address checks, delivery by email and SMS, the journey,
who may start one, the REST API and the desk's form."""

from __future__ import annotations

import json

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from cea.common.channels import Channel
from cea.common.errors import Conflict, PermissionDenied, ValidationFailed
from engagement.adapters.email import email_ingest
from engagement.conversations.models import Conversation, ConversationStatus
from engagement.idv import senders
from engagement.outbound.services import outbound_start
from records.customers.services import customer_set_consent
from records.journey.models import JourneyEvent
from tests.engagement.desktop_support import parse
from tests.support import assert_error, make_customer, session_client, token_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routing_env", "eager_tasks", "sms_outbox")]

OUTBOUND = "/api/v1/engagement/conversations/outbound/"


@pytest.fixture
def sms_outbox(settings):
    settings.CEA_SMS_SENDER = "engagement.idv.senders.LocmemSmsSender"
    senders.outbox.clear()
    yield senders.outbox
    senders.outbox.clear()


@pytest.fixture
def customer(team_a):
    customer = make_customer(
        team_a, given_name="Ada", family_name="Lovelace", email="ada@example.com", phone="+447911123456"
    )
    customer_set_consent(actor=None, customer=customer, channel=Channel.EMAIL, purpose="service", granted=True)
    customer_set_consent(actor=None, customer=customer, channel=Channel.SMS, purpose="service", granted=True)
    customer_set_consent(actor=None, customer=customer, channel=Channel.EMAIL, purpose="marketing", granted=False)
    return customer


def start(customer, *, actor=None, channel=Channel.EMAIL, purpose="service", text="Your card is on its way.", **kw):
    return outbound_start(
        actor=actor,
        customer=customer,
        channel=channel,
        text=text,
        purpose=purpose,
        source=kw.pop("source", "agent"),
        **kw,
    )


# --- Refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "purpose", "code"),
    [(Channel.SMS, "marketing", "consent_missing"), (Channel.EMAIL, "marketing", "consent_withdrawn")],
)
def test_without_a_granted_consent_nothing_is_sent(
    customer, agent, channel, purpose, code, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Conflict) as refused:
        start(customer, actor=agent, channel=channel, purpose=purpose)
    assert refused.value.code == code
    assert purpose in refused.value.message
    assert (Conversation.objects.count(), len(mail.outbox), len(senders.outbox)) == (0, 0, 0)


def test_without_an_address_for_the_channel_nothing_is_sent(team_a, agent):
    customer = make_customer(team_a, given_name="No", family_name="Phone", email="no.phone@example.com")
    customer_set_consent(actor=None, customer=customer, channel=Channel.SMS, purpose="service", granted=True)
    with pytest.raises(Conflict) as refused:
        start(customer, actor=agent, channel=Channel.SMS)
    assert refused.value.code == "no_contact_address"
    assert Conversation.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"channel": Channel.VOICE}, "channel"),
        ({"text": "   "}, "text"),
        ({"channel": Channel.SMS, "text": "x" * 1601}, "text"),
        ({"purpose": "gossip"}, "purpose"),
        ({"source": ""}, "source"),
    ],
)
def test_bad_input_is_refused_by_field(customer, agent, fields, field):
    with pytest.raises(ValidationFailed) as refused:
        start(customer, actor=agent, **fields)
    assert list(refused.value.fields) == [field]
    assert Conversation.objects.count() == 0


def test_another_teams_agent_may_not_contact_the_customer(customer, agent_b):
    with pytest.raises(PermissionDenied):
        start(customer, actor=agent_b)
    assert Conversation.objects.count() == 0


# --- Sending --------------------------------------------------------------------------------------


def test_an_agent_starts_an_email_conversation_delivered_and_on_their_desk(
    customer, agent, django_capture_on_commit_callbacks
):
    # When the agent writes to the customer by email
    with django_capture_on_commit_callbacks(execute=True):
        conversation = start(customer, actor=agent, subject="Your new card")
    # Then the email went out, threaded by its Message-ID
    [email] = mail.outbox
    assert (email.to, email.subject, email.body) == (["ada@example.com"], "Your new card", "Your card is on its way.")
    message = conversation.messages.get()
    assert email.extra_headers["Message-ID"] == f"<{message.external_id}>"
    assert (message.direction, message.author_kind, message.author, message.payload["delivery"]) == (
        "outbound",
        "agent",
        agent,
        "sent",
    )
    # And the conversation is outbound, active with the agent, in the customer's journey
    conversation.refresh_from_db()
    assert (conversation.direction, conversation.status, conversation.agent, conversation.customer) == (
        "outbound",
        ConversationStatus.ACTIVE,
        agent,
        customer,
    )
    event = JourneyEvent.objects.get(customer=customer, kind="conversation.started")
    assert event.payload == {"conversation_id": conversation.pk, "direction": "outbound"}


def test_the_customers_answer_to_an_outbound_email_threads_onto_its_conversation(
    customer, agent, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    with django_capture_on_commit_callbacks(execute=True):
        conversation = start(customer, actor=agent, subject="Your new card")
    ours = conversation.messages.get().external_id
    answer = (
        "Message-ID: <answer.1@mail.example.com>\r\n"
        f"In-Reply-To: <{ours}>\r\n"
        f"References: <{ours}>\r\n"
        "From: Ada Lovelace <ada@example.com>\r\n"
        "To: support@cea.example\r\n"
        "Subject: Re: Your new card\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "Thanks, it arrived.\r\n"
    ).encode()
    email_ingest(raw=answer)
    assert [(m.direction, m.body) for m in conversation.messages.order_by("id")] == [
        ("outbound", "Your card is on its way."),
        ("inbound", "Thanks, it arrived."),
    ]


def test_the_system_starts_an_sms_conversation_sent_through_the_configured_sender(
    customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        conversation = start(
            customer, channel=Channel.SMS, text="Your appointment is tomorrow.", source="strategy:remind"
        )
    assert [(sms.to, sms.text) for sms in senders.outbox] == [("+447911123456", "Your appointment is tomorrow.")]
    message = conversation.messages.get()
    assert (message.author_kind, message.author, message.payload["delivery"], message.payload["source"]) == (
        "system",
        None,
        "sent",
        "strategy:remind",
    )
    conversation.refresh_from_db()
    assert (conversation.channel, conversation.status, conversation.agent) == (
        Channel.SMS,
        ConversationStatus.SELF_SERVICE,
        None,
    )


# --- The REST API ---------------------------------------------------------------------------------


def body(customer, **fields):
    return {"customer": customer.pk, "channel": "email", "purpose": "service", "text": "Hello", **fields}


def test_an_integration_client_starts_one_with_the_conversations_write_scope(
    customer, integration_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = token_client(integration_user).post(OUTBOUND, body(customer, subject="Hi"), format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["direction"], response.json()["channel"], response.json()["customer"]) == (
        "outbound",
        "email",
        customer.pk,
    )
    assert [m.subject for m in mail.outbox] == ["Hi"]


def test_the_api_refuses_without_scope_consent_or_team(customer, integration_user, agent_b):
    reader = token_client(integration_user, scopes=("conversations:read",))
    assert_error(reader.post(OUTBOUND, body(customer), format="json"), 403)
    writer = token_client(integration_user)
    assert_error(writer.post(OUTBOUND, body(customer, purpose="marketing"), format="json"), 409, "consent_withdrawn")
    assert_error(writer.post(OUTBOUND, body(customer, channel="voice"), format="json"), 400)
    assert_error(writer.post(OUTBOUND, {**body(customer), "customer": 999999}, format="json"), 404)
    assert_error(session_client(agent_b).post(OUTBOUND, body(customer), format="json"), 403)
    assert Conversation.objects.count() == 0


# --- The desk's form ------------------------------------------------------------------------------


def test_the_desk_offers_the_consented_channels_and_sends(customer, agent, django_capture_on_commit_callbacks):
    client = Client()
    client.force_login(agent)
    page = parse(client.get(reverse("engagement:desk-customer", args=[customer.pk])))
    options = page.find(cls="desk-outbound").find("select", name="option").find_all("option")
    assert [option.attrs["value"] for option in options] == ["email:service", "sms:service"]
    # When the agent sends an SMS from the form
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("engagement:desk-outbound", args=[customer.pk]),
            {"option": "sms:service", "text": "Call us back?"},
            HTTP_HX_REQUEST="true",
        )
    # Then it is sent, and the page is told to open the conversation's tab
    assert response.status_code == 200
    conversation = Conversation.objects.get()
    assert json.loads(response["HX-Trigger"]) == {"desk:opened": {"conversation": conversation.pk}}
    assert [(sms.to, sms.text) for sms in senders.outbox] == [("+447911123456", "Call us back?")]


def test_the_desk_form_shows_a_refusal_in_place(customer, agent):
    client = Client()
    client.force_login(agent)
    response = client.post(
        reverse("engagement:desk-outbound", args=[customer.pk]), {"option": "email:marketing", "text": "Sale!"}
    )
    assert response.status_code == 409
    assert "withdrew their consent" in parse(response).find(cls="desk-outbound").text
    assert Conversation.objects.count() == 0


def test_the_360_page_links_agents_to_the_customer_on_the_desk(customer, agent, admin_user):
    for user, links in ((agent, 1), (admin_user, 0)):
        client = Client()
        client.force_login(user)
        page = parse(client.get(reverse("records:customer-360", args=[customer.pk])))
        found = page.find_all("a", data_testid="open-on-desk")
        assert len(found) == links
        if links:
            assert found[0].attrs["href"] == f"/desk/?customer={customer.pk}"
