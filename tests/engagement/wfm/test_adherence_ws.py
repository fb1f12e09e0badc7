"""The supervisor's live adherence socket, ws/wfm/adherence/: a presence change reaches the supervisors of
the agent's team at once (through the presence hook and the agent's task) and nobody else.

Real Channels with the Redis layer (tests/engagement/websockets.py); tasks run eagerly.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from engagement.routing.models import Presence
from engagement.routing.presence import presence_set
from engagement.wfm.adherence.models import AdherenceException
from engagement.wfm.adherence.services import adherence_sweep
from tests.accounts.factories import UserFactory
from tests.engagement.factories import AgentProfileFactory
from tests.engagement.websockets import QUIET, accepted, closed_with, desktop, receive, run, session_cookie
from tests.engagement.wfm.adherence_support import presence_history, published_shift

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("routing_env", "eager_tasks")]


def adherence_socket(session: str | None):
    return desktop(session, path="/ws/wfm/adherence/")


async def signed_in_to_adherence(user):
    communicator = await accepted(adherence_socket(await database_sync_to_async(session_cookie)(user)))
    return communicator


@pytest.fixture
def ann_on_shift(team_a):
    """Ann (team A) on a published shift around now, offline for 10 minutes: out, with an open exception."""
    now = timezone.now()
    ann = AgentProfileFactory(username="ann", teams=[team_a])
    published_shift(ann, team=team_a, starts_at=now - timedelta(hours=1), activities=[("work", 240)])
    presence_history(ann, [("available", "", now - timedelta(hours=1)), ("offline", "", now - timedelta(minutes=10))])
    adherence_sweep()
    return ann


def test_a_presence_change_reaches_the_agents_supervisor_and_not_another_team(
    ann_on_shift, supervisor, team_a, team_b, admin_user
):
    other = UserFactory(username="bea", role="supervisor", teams=[team_b])

    async def scenario():
        # Given: the supervisors of team A and team B, and an admin, on the adherence page
        mine = await signed_in_to_adherence(supervisor)
        assert (await receive(mine, "adherence.ready"))["teams"] == [team_a.pk]
        theirs = await signed_in_to_adherence(other)
        await receive(theirs, "adherence.ready")
        admins = await signed_in_to_adherence(admin_user)
        assert (await receive(admins, "adherence.ready"))["teams"] == "all"
        # When: Ann becomes available
        await database_sync_to_async(presence_set)(
            actor=ann_on_shift.user, agent_user=ann_on_shift.user, presence=Presence.AVAILABLE
        )
        # Then: her supervisor gets her row, back in adherence, her exception closed
        frame = await receive(mine, "adherence.changed")
        assert [(row["agent"], row["status"], row["actual"], row["open_exception"]) for row in frame["agents"]] == [
            (ann_on_shift.pk, "in", "work", None)
        ]
        # and so does the admin; the supervisor of team B gets nothing
        assert [row["agent"] for row in (await receive(admins, "adherence.changed"))["agents"]] == [ann_on_shift.pk]
        assert await theirs.receive_nothing(timeout=QUIET)

    run(scenario)
    assert AdherenceException.objects.get().ended_at is not None


def test_the_sweep_pushes_the_rows_of_each_team_to_that_team(ann_on_shift, supervisor, team_b):
    other = UserFactory(username="bea", role="supervisor", teams=[team_b])

    async def scenario():
        mine = await signed_in_to_adherence(supervisor)
        await receive(mine, "adherence.ready")
        theirs = await signed_in_to_adherence(other)
        await receive(theirs, "adherence.ready")
        # When
        await database_sync_to_async(adherence_sweep)()
        # Then
        frame = await receive(mine, "adherence.changed")
        assert [(row["agent"], row["status"]) for row in frame["agents"]] == [(ann_on_shift.pk, "out")]
        assert await theirs.receive_nothing(timeout=QUIET)

    run(scenario)


def test_agents_and_anonymous_sockets_are_refused(agent):
    async def scenario():
        refused = adherence_socket(await database_sync_to_async(session_cookie)(agent))
        await refused.connect()
        assert (await receive(refused, "error"))["code"] == "not_a_planner"
        assert await closed_with(refused) == 4403
        anonymous = adherence_socket(None)
        await anonymous.connect()
        await receive(anonymous, "error")
        assert await closed_with(anonymous) == 4401

    run(scenario)
