"""Consent on agents' replies: a reply inside a conversation the customer started or answered is service
and needs none; a reply in an outbound conversation the customer has not answered needs their consent now."""

from __future__ import annotations

import pytest

from cea.common.channels import Channel
from cea.common.errors import Conflict
from engagement.conversations.models import ConversationStatus, Message
from engagement.conversations.replies import conversation_reply
from engagement.conversations.services import message_add
from engagement.idv import senders
from engagement.outbound.services import outbound_start
from records.customers.services import customer_set_consent
from tests.engagement.factories import ConversationFactory
from tests.support import make_customer, session_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routing_env", "sms_sender")]


@pytest.fixture
def sms_sender(settings):
    settings.CEA_SMS_SENDER = "engagement.idv.senders.LocmemSmsSender"
    senders.outbox.clear()
    yield
    senders.outbox.clear()


@pytest.fixture
def customer(team_a):
    customer = make_customer(team_a, email="ada@example.com", phone="+447911123456")
    customer_set_consent(actor=None, customer=customer, channel=Channel.SMS, purpose="marketing", granted=True)
    return customer


def _outbound(customer, agent):
    return outbound_start(
        actor=agent, customer=customer, channel=Channel.SMS, text="A new offer", purpose="marketing", source="agent"
    )


def test_a_reply_in_an_unanswered_outbound_conversation_needs_the_consent_still_granted(customer, agent):
    # Given: the agent started a marketing SMS conversation; the customer then withdrew the consent
    conversation = _outbound(customer, agent)
    customer_set_consent(actor=None, customer=customer, channel=Channel.SMS, purpose="marketing", granted=False)
    # When
    with pytest.raises(Conflict) as refused:
        conversation_reply(actor=agent, conversation=conversation, body="Did you see our offer?")
    # Then
    assert refused.value.code == "consent_withdrawn"
    assert conversation.messages.count() == 1


def test_the_reply_api_refuses_it_with_the_reason(customer, agent):
    # Given
    conversation = _outbound(customer, agent)
    customer_set_consent(actor=None, customer=customer, channel=Channel.SMS, purpose="marketing", granted=False)
    # When
    response = session_client(agent).post(
        f"/api/v1/engagement/conversations/{conversation.pk}/reply/", {"body": "Hello?"}, format="json"
    )
    # Then
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "consent_withdrawn"


def test_once_the_customer_answered_a_reply_is_service_and_needs_no_consent(customer, agent):
    # Given
    conversation = _outbound(customer, agent)
    message_add(
        conversation=conversation, direction="inbound", author_kind="customer", body="Tell me more", external_id="in-1"
    )
    customer_set_consent(actor=None, customer=customer, channel=Channel.SMS, purpose="marketing", granted=False)
    # When
    message, created = conversation_reply(actor=agent, conversation=conversation, body="Here it is")
    # Then
    assert created
    assert message.body == "Here it is"


def test_a_reply_in_a_conversation_the_customer_started_needs_no_consent(team_a, agent):
    # Given: no consent recorded at all
    customer = make_customer(team_a)
    conversation = ConversationFactory(
        customer=customer, channel=Channel.CHAT, status=ConversationStatus.ACTIVE, agent=agent
    )
    # When
    _message, created = conversation_reply(actor=agent, conversation=conversation, body="How can I help?")
    # Then
    assert created
    assert Message.objects.filter(conversation=conversation, direction="outbound").count() == 1
