"""What an agent writes at the desk is redacted before it is kept: a transfer's note, wrap-up notes."""

from __future__ import annotations

import pytest

from cea.common.pii import redact_text
from engagement.context.models import ContextScope
from engagement.context.services import context_read
from engagement.orchestration import conversation_transfer, conversation_wrap_up
from engagement.routing import engine
from engagement.routing.offers import offer_accept
from tests.engagement.factories import QueueFactory, RoutableAgentFactory
from tests.engagement.routing_support import fresh, pending_offer, waiting
from tests.support import make_customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routing_env")]

CARD = "4539-1488-0343-6467"
MASKED = redact_text("4539148803436467")


@pytest.fixture
def handled(agent, team_a):
    """A team A customer's chat that ``agent`` accepted."""
    support = QueueFactory(name="support", team=team_a)
    RoutableAgentFactory(user=agent, idle_minutes=60)
    item = waiting(support, customer=make_customer(team_a), age_seconds=30)
    engine.dispatch_queue(support.pk)
    offer_accept(actor=agent, offer_id=pending_offer(item).pk)
    return fresh(item)


def test_a_transfer_note_is_kept_and_handed_on_without_the_card(
    handled, agent, team_a, django_capture_on_commit_callbacks
):
    # When the agent transfers with a note quoting the card and its code
    with django_capture_on_commit_callbacks(execute=True):
        new = conversation_transfer(
            actor=agent,
            conversation=handled.conversation,
            to_queue=QueueFactory(name="billing", team=team_a),
            note=f"Card {CARD}, CVV 737 was charged twice",
        )
    # Then the new work item and the context the next agent reads hold the masked card, no code
    expected = redact_text(f"Card {CARD}, CVV 737 was charged twice")
    assert MASKED in expected and "737" not in expected
    assert fresh(new).note == expected
    context = context_read(scope=ContextScope.CONVERSATION, context_id=handled.conversation_id)
    assert context.values["transfer"]["note"] == expected


def test_wrap_up_notes_are_recorded_without_the_card(handled, agent):
    # When the agent wraps up with notes quoting the card
    interaction = conversation_wrap_up(
        actor=agent, conversation=handled.conversation, wrap_up_code="resolved", notes=f"Refunded to {CARD}"
    )
    # Then
    interaction.refresh_from_db()
    assert interaction.wrap_up_notes == f"Refunded to {MASKED}"
