"""The access re-checks of many live sockets, coalesced (engagement/context/rechecks.py, issue 17).

A push heard by many desks re-checks each subscription; the checks are batched, and each verdict
must be the one ``subscription_check`` gives alone.
"""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cea.common.errors import ApplicationError
from engagement.context.consumers import subscription_check
from engagement.context.rechecks import subscription_checks
from engagement.context.services import context_write
from tests.accounts.factories import UserFactory
from tests.engagement.websockets import QUIET, accepted, desktop, isolated_redis, receive, run
from tests.records.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _redis(settings):
    yield from isolated_redis(settings)


def alone(user_id: int, scope: str, object_id: str) -> str | None:
    """What ``subscription_check`` says of one subscription on its own: ``None`` or the refusal's code."""
    try:
        subscription_check(user_id=user_id, scope=scope, object_id=object_id)
    except ApplicationError as refusal:
        return refusal.code
    return None


def test_a_batch_gives_each_subscription_the_verdict_it_gets_alone(agent, agent_b, team_a, team_b, admin_user):
    # Given: customers of two teams, a deactivated agent, a missing customer, a conversation scope
    customer_a, customer_b = CustomerFactory(team=team_a), CustomerFactory(team=team_b)
    gone = UserFactory(username="gone", teams=[team_a])
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    checks = [
        (user.pk, "customer", str(customer.pk))
        for user in (agent, agent_b, admin_user, gone)
        for customer in (customer_a, customer_b)
    ]
    checks += [(agent.pk, "customer", "999999999"), (agent.pk, "conversation", "999999999")]
    # When
    verdicts = subscription_checks(checks, subscription_check)
    # Then: the same verdicts as one by one
    assert {check: verdict and verdict.code for check, verdict in verdicts.items()} == {
        check: alone(*check) for check in checks
    }
    assert verdicts[(agent.pk, "customer", str(customer_a.pk))] is None
    assert verdicts[(agent.pk, "customer", str(customer_b.pk))].code == "forbidden"
    assert verdicts[(gone.pk, "customer", str(customer_a.pk))].code == "not_authenticated"


def test_a_batch_of_customer_checks_reads_the_database_a_fixed_number_of_times(team_a):
    # Given: fifty agents of a team following one customer
    customer = CustomerFactory(team=team_a)
    agents = [UserFactory(username=f"desk{n}", teams=[team_a]) for n in range(50)]
    checks = [(user.pk, "customer", str(customer.pk)) for user in agents]
    # When
    with CaptureQueriesContext(connection) as queries:
        verdicts = subscription_checks(checks, subscription_check)
    # Then: users, their teams and the customer, once each; every agent allowed
    assert len(queries) == 3
    assert set(verdicts.values()) == {None}


def test_a_push_heard_by_many_desks_is_rechecked_for_each_and_stops_only_where_access_went(team_a, team_b, settings):
    # Given: four agents of team A following a customer of team A, access re-checked at every push
    settings.CEA_WS_ACCESS_RECHECK_SECONDS = 0
    customer = CustomerFactory(team=team_a)
    stays = [UserFactory(username=f"stays{n}", teams=[team_a]) for n in range(3)]
    moves = UserFactory(username="moves", teams=[team_a])
    sessions = {}
    for user in [*stays, moves]:
        client = Client()
        client.force_login(user)
        sessions[user.pk] = client.cookies["sessionid"].value

    def write(values: dict) -> None:
        context_write(actor=None, scope="customer", context_id=customer.pk, values=values, customer_id=customer.pk)

    async def scenario():
        sockets = {}
        for user_id, session in sessions.items():
            socket = await accepted(desktop(session))
            await socket.send_json_to({"action": "subscribe", "scope": "customer", "id": customer.pk})
            assert (await receive(socket))["type"] == "subscribed"
            sockets[user_id] = socket
        # When: one agent leaves the team without a service telling the sockets, then the context changes
        await database_sync_to_async(lambda: moves.teams.set([team_b]))()
        await database_sync_to_async(write)({"plan": "gold"})
        # Then: the others get the change; the one who moved is told the subscription is gone
        for user in stays:
            frame = await receive(sockets[user.pk])
            assert (frame["type"], frame["values"]) == ("context.changed", {"plan": "gold"})
        frame = await receive(sockets[moves.pk])
        assert (frame["type"], frame["code"]) == ("unsubscribed", "forbidden")
        assert await sockets[moves.pk].receive_nothing(timeout=QUIET)

    run(scenario)
