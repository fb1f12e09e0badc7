"""The desk hears of a customer's new recommended actions over its real websocket (ws/desktop/), after commit."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from engagement.recommendations.services import recommendation_decide, recommendation_offer
from tests.engagement.desktop_support import on_desk
from tests.engagement.websockets import QUIET, accepted, desk, receive, run, session_cookie
from tests.records.factories import CustomerFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("routing_env", "eager_tasks")]


def offer(customer, source_key="strategy:retention"):
    return recommendation_offer(
        actor=None,
        customer=customer,
        source_key=source_key,
        title="Offer a loyalty discount",
        detail="",
        reasons=["churn risk 0.8"],
        score=0.8,
    )


async def desk_following(user, customer):
    """The desk of ``user`` past its state frame, subscribed to ``customer`` (as a panel of theirs is)."""
    communicator = await accepted(desk(await database_sync_to_async(session_cookie)(user)))
    await receive(communicator, "desk.state")
    await communicator.send_json_to({"action": "subscribe", "scope": "customer", "id": customer.pk})
    await receive(communicator, "subscribed")
    return communicator


def test_a_new_action_for_the_customer_in_an_open_conversation_is_pushed_to_the_desk(team_a, agent):
    customer = CustomerFactory(team=team_a)
    on_desk(agent, customer=customer)

    async def scenario():
        communicator = await desk_following(agent, customer)
        # When a strategy offers an action for the customer
        action = await database_sync_to_async(offer)(customer)
        # Then the desk is told to read the card again
        assert await receive(communicator, "recommendations.changed") == {
            "type": "recommendations.changed",
            "customer": customer.pk,
            "decided": None,
        }
        # And when it is dismissed, again, naming the action decided (the card that decision's answer
        # rendered is current; every other desk following the customer reads its card again)
        await database_sync_to_async(recommendation_decide)(actor=agent, recommendation_id=action.pk, accepted=False)
        assert await receive(communicator, "recommendations.changed") == {
            "type": "recommendations.changed",
            "customer": customer.pk,
            "decided": action.pk,
        }

    run(scenario)


def test_a_desk_following_another_customer_hears_nothing(team_a, agent):
    followed, other = CustomerFactory(team=team_a), CustomerFactory(team=team_a)

    async def scenario():
        communicator = await desk_following(agent, followed)
        await database_sync_to_async(offer)(other)
        assert await communicator.receive_nothing(timeout=QUIET)

    run(scenario)


def test_another_teams_agent_cannot_follow_the_customer_so_hears_nothing(team_a, agent_b):
    customer = CustomerFactory(team=team_a)

    async def scenario():
        communicator = await accepted(desk(await database_sync_to_async(session_cookie)(agent_b)))
        await receive(communicator, "desk.state")
        await communicator.send_json_to({"action": "subscribe", "scope": "customer", "id": customer.pk})
        assert (await receive(communicator, "error"))["code"] == "forbidden"
        await database_sync_to_async(offer)(customer)
        assert await communicator.receive_nothing(timeout=QUIET)

    run(scenario)
