"""Delivery receipts reach the desk live: the conversation's followers get ``conversation.delivery``;
an agent of another team cannot follow the conversation, so gets nothing."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from cea.common.channels import Direction
from engagement.adapters.models import ProviderSend
from engagement.adapters.outbox import receipt_record
from engagement.adapters.webhooks import sms_ingest
from engagement.conversations.models import AuthorKind
from engagement.conversations.services import message_add
from tests.engagement.factories import WebhookSourceFactory
from tests.engagement.websockets import QUIET, isolated_redis, receive, run, signed_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _redis(settings):
    yield from isolated_redis(settings)


@pytest.fixture
def sent_reply(team_a, agent):
    """A reply sent through team A's Twilio source, waiting for its receipts."""
    source = WebhookSourceFactory(name="tw-ws", provider="twilio", sender_id="+442079460123", team=team_a)
    conversation = sms_ingest(
        source=source, message_id="SMin", sender="+447911123456", to="+442079460123", text="Hi", sent_at=timezone.now()
    ).conversation
    message, _ = message_add(
        conversation=conversation,
        direction=Direction.OUTBOUND,
        author_kind=AuthorKind.AGENT,
        author=agent,
        body="Hello",
        payload={"delivery": "sent", "source": "tw-ws", "to": "+447911123456"},
    )
    now = timezone.now()
    ProviderSend.objects.create(
        message=message, source=source, provider_message_id="SMout", status="sent", queued_at=now, sent_at=now
    )
    return source, message


async def follow(communicator, conversation_id: int) -> dict:
    await communicator.send_json_to({"action": "subscribe", "scope": "conversation_messages", "id": conversation_id})
    return await receive(communicator)


def test_the_desk_following_the_conversation_sees_the_receipt(sent_reply, agent, agent_b):
    source, message = sent_reply

    async def scenario():
        # Given: team A's agent and team B's agent both try to follow the conversation
        mine = await signed_in(agent)
        theirs = await signed_in(agent_b)
        followed = await follow(mine, message.conversation_id)
        refused = await follow(theirs, message.conversation_id)
        # When: the provider reports the reply delivered
        await database_sync_to_async(receipt_record)(source=source, status="delivered", provider_message_id="SMout")
        # Then
        pushed = await receive(mine, "conversation.delivery")
        assert followed["type"] == "subscribed"
        assert (refused["type"], refused["code"]) == ("error", "forbidden")
        assert (pushed["conversation"], pushed["message"], pushed["delivery"], pushed["error"]) == (
            message.conversation_id,
            message.pk,
            "delivered",
            None,
        )
        assert set(pushed["receipts"]) == {"queued", "sent", "delivered"}
        assert await theirs.receive_nothing(timeout=QUIET)

    run(scenario)
