import pytest
from celery import current_app

from cea.common.channels import Channel
from engagement.conversations.models import ConversationStatus
from engagement.conversations.services import conversation_escalate, conversation_start
from engagement.routing.models import Offer, OfferStatus, WorkItem, WorkStatus
from engagement.routing.offers import offer_accept
from engagement.routing.presence import presence_set
from engagement.routing.work import conversation_wrap_up
from tests.support import isolated_redis


@pytest.fixture(autouse=True)
def _redis(settings):
    yield from isolated_redis(settings)


@pytest.fixture
def eager():
    conf = current_app.conf
    before = conf.task_always_eager, conf.task_eager_propagates
    conf.task_always_eager, conf.task_eager_propagates = True, True
    yield
    conf.task_always_eager, conf.task_eager_propagates = before


@pytest.mark.django_db(transaction=True)
def test_smoke(agent, eager, routing_defaults):
    presence_set(actor=agent, agent_user=agent, presence="available")
    conversation, _ = conversation_start(channel=Channel.CHAT, visitor="v1")
    conversation_escalate(conversation=conversation)
    offer = Offer.objects.get()
    assert offer.status == OfferStatus.PENDING
    offer_accept(actor=agent, offer_id=offer.pk)
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.ACTIVE
    interaction = conversation_wrap_up(actor=agent, conversation=conversation, wrap_up_code="resolved")
    assert interaction.wrap_up_code == "resolved"
    assert WorkItem.objects.get().status == WorkStatus.DONE
    agent.routing_profile.refresh_from_db()
    assert agent.routing_profile.load_units == 0
