"""The live wallboard's websocket, ws/insights/wallboard/<team>/, with real Channels and Redis.

A snapshot first (after every reconnect too), then whole-board updates when routing changes, at most
one per second per socket however many changes come (the throttle is held by the test, not timed),
refused to agents and to other teams' supervisors, closed when the user's access changes.
"""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from cea.accounts.services import user_set_teams
from engagement.routing.live import ROUTING_CHANGED, ROUTING_CHANGED_GROUP
from insights.wallboard.consumers import WallboardConsumer, wallboard_read
from insights.wallboard.reads import for_this_loop
from tests.accounts.factories import UserFactory
from tests.engagement.factories import QueueFactory
from tests.engagement.routing_support import waiting
from tests.engagement.websockets import (
    QUIET,
    accepted,
    closed_with,
    desktop,
    receive,
    run,
    session_cookie,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("wallboard_env", "eager_tasks")]


@pytest.fixture
def billing(team_a):
    return QueueFactory(name="billing", label="Billing", team=team_a)


def wallboard(session: str | None, team_id: int):
    return desktop(session, path=f"/ws/insights/wallboard/{team_id}/")


async def opened(user, team_id: int):
    return await accepted(wallboard(await database_sync_to_async(session_cookie)(user), team_id))


def queue_row(frame: dict, name: str) -> dict:
    (row,) = [queue for queue in frame["board"]["queues"] if queue["name"] == name]
    return row


async def enqueue(queue, count: int = 1) -> None:
    for _ in range(count):
        await database_sync_to_async(waiting)(queue)


def test_the_first_frame_is_the_whole_board(supervisor, team_a, billing):
    waiting(billing)

    async def scenario():
        socket = await opened(supervisor, team_a.pk)
        frame = await receive(socket, "wallboard.snapshot")
        assert frame["board"]["team_id"] == team_a.pk
        assert frame["board"]["team"] == "Team A"
        assert queue_row(frame, "billing")["waiting"] == 1
        assert 'data-queue="billing"' in frame["html"]
        assert set(frame["board"]["agents"]) >= {"available", "busy", "after_contact", "away", "offline"}

    run(scenario)


def test_a_new_contact_in_a_queue_moves_the_board(supervisor, team_a, billing):
    async def scenario():
        socket = await opened(supervisor, team_a.pk)
        assert queue_row(await receive(socket, "wallboard.snapshot"), "billing")["waiting"] == 0
        await enqueue(billing)  # engagement tells routing.changed on commit
        update = await receive(socket, "wallboard.update")
        assert queue_row(update, "billing")["waiting"] == 1
        assert queue_row(update, "billing")["today"]["queued"] == 1

    run(scenario)


def updates_held(monkeypatch) -> tuple[list[float], asyncio.Event]:
    """Every socket's wait before an update is held until the test sets the event; the list gets the
    seconds each wait was asked for."""
    held: list[float] = []
    let_go = asyncio.Event()

    async def hold(seconds: float) -> None:
        held.append(seconds)
        await let_go.wait()

    monkeypatch.setattr(WallboardConsumer, "wait", staticmethod(hold))
    return held, let_go


def test_many_changes_within_the_throttle_window_make_one_update(supervisor, team_a, billing, monkeypatch):
    """Updates wait for the throttle; the test holds that wait until it lets go, so no timing is asserted."""
    held, let_go = updates_held(monkeypatch)
    layer = get_channel_layer()

    async def scenario():
        socket = await opened(supervisor, team_a.pk)
        await receive(socket, "wallboard.snapshot")
        await enqueue(billing, 3)  # three changes, each told to routing.changed
        for _ in range(5):  # and five more notices of change
            await layer.group_send(ROUTING_CHANGED_GROUP, ROUTING_CHANGED)
        while not held:
            await asyncio.sleep(0.01)
        assert await socket.receive_nothing(QUIET)
        assert len(held) == 1  # one update due for all of them
        # within a second of the snapshot, which was this second's push (none left to wait when the
        # first change came a second or more after it, as on a slow machine)
        assert 0 <= held[0] <= 1.0
        let_go.set()
        update = await receive(socket, "wallboard.update")
        assert queue_row(update, "billing")["waiting"] == 3
        # Notices still in flight find nothing new: no frame.
        assert await socket.receive_nothing(QUIET)

    run(scenario)


def test_a_change_while_an_update_is_read_makes_another_update(supervisor, team_a, billing, monkeypatch):
    async def no_wait(seconds: float) -> None:
        return None

    monkeypatch.setattr(WallboardConsumer, "wait", staticmethod(no_wait))

    async def scenario():
        socket = await opened(supervisor, team_a.pk)
        await receive(socket, "wallboard.snapshot")
        await enqueue(billing)
        assert queue_row(await receive(socket, "wallboard.update"), "billing")["waiting"] == 1
        await enqueue(billing)
        assert queue_row(await receive(socket, "wallboard.update"), "billing")["waiting"] == 2

    run(scenario)


def test_a_reconnect_starts_from_a_snapshot_with_what_changed_meanwhile(supervisor, team_a, billing):
    async def scenario():
        session = await database_sync_to_async(session_cookie)(supervisor)
        first = await accepted(wallboard(session, team_a.pk))
        assert queue_row(await receive(first, "wallboard.snapshot"), "billing")["waiting"] == 0
        await first.disconnect()
        await enqueue(billing, 2)  # missed while disconnected
        again = await accepted(wallboard(session, team_a.pk))
        snapshot = await receive(again, "wallboard.snapshot")
        assert queue_row(snapshot, "billing")["waiting"] == 2

    run(scenario)


def test_an_admin_opens_any_teams_wallboard(admin_user, team_b):
    async def scenario():
        socket = await opened(admin_user, team_b.pk)
        assert (await receive(socket, "wallboard.snapshot"))["board"]["team_id"] == team_b.pk

    run(scenario)


@pytest.mark.parametrize("who", ["agent", "other_supervisor"])
def test_agents_and_other_teams_supervisors_are_refused(who, agent, team_a, team_b):
    user = agent if who == "agent" else UserFactory(username="supervisor.b", role="supervisor", teams=[team_b])

    async def scenario():
        socket = await opened(user, team_a.pk)
        assert (await receive(socket, "error"))["code"] == "forbidden"
        assert await closed_with(socket) == 4403

    run(scenario)


def test_an_unknown_team_and_an_anonymous_user_are_refused(supervisor):
    async def scenario():
        unknown = await opened(supervisor, 999_999)
        assert (await receive(unknown, "error"))["code"] == "not_found"
        assert await closed_with(unknown) == 4403
        anonymous = await accepted(wallboard(None, 1))
        assert (await receive(anonymous, "error"))["code"] == "not_authenticated"
        assert await closed_with(anonymous) == 4401

    run(scenario)


def test_a_change_of_the_supervisors_teams_closes_the_wallboard(supervisor, team_a, team_b):
    async def scenario():
        socket = await opened(supervisor, team_a.pk)
        await receive(socket, "wallboard.snapshot")
        await database_sync_to_async(user_set_teams)(user=supervisor, teams=[team_b])
        assert (await receive(socket, "error"))["code"] == "teams_changed"
        assert await closed_with(socket) == 4409

    run(scenario)


def test_access_lost_without_notice_stops_the_updates(supervisor, team_a, billing, settings):
    settings.CEA_WS_ACCESS_RECHECK_SECONDS = 0

    async def scenario():
        socket = await opened(supervisor, team_a.pk)
        await receive(socket, "wallboard.snapshot")
        await database_sync_to_async(supervisor.teams.clear)()  # no service: no user.<id> notice
        await enqueue(billing)
        assert (await receive(socket, "error"))["code"] == "forbidden"
        assert await closed_with(socket) == 4403

    run(scenario)


def test_ping_is_answered_and_other_actions_refused(supervisor, team_a):
    async def scenario():
        socket = await opened(supervisor, team_a.pk)
        await receive(socket, "wallboard.snapshot")
        await socket.send_json_to({"action": "ping"})
        await receive(socket, "pong")
        await socket.send_json_to({"action": "subscribe", "scope": "customer", "id": 1})
        assert (await receive(socket, "error"))["code"] == "unknown_action"

    run(scenario)


def test_a_change_nobody_announced_shows_at_the_next_resync(supervisor, team_a, billing, monkeypatch):
    monkeypatch.setattr("insights.wallboard.consumers.RESYNC_SECONDS", 0.2)

    async def scenario():
        socket = await opened(supervisor, team_a.pk)
        await receive(socket, "wallboard.snapshot")
        # Written past the services: no routing.changed (the last 15 minutes sliding is such a change too).
        await database_sync_to_async(
            lambda: QueueFactory(name="quiet-arrival", team=team_a)  # a new queue of the team
        )()
        update = await receive(socket, "wallboard.update")
        assert "quiet-arrival" in {queue["name"] for queue in update["board"]["queues"]}

    run(scenario)


def test_the_sockets_of_one_team_share_one_read_a_push_and_each_gets_only_its_teams_board(
    supervisor, team_a, team_b, billing, monkeypatch
):
    """Three screens of team A and one of team B hear one push: team A's board is read once for its
    three sockets, team B's once for its own; team B's screen shows nothing of team A's. The updates
    are held until every socket is due (no timing asserted)."""
    held, let_go = updates_held(monkeypatch)
    boss_b = UserFactory(username="boss.b", role="supervisor", teams=[team_b])
    layer = get_channel_layer()

    async def scenario():
        # Given: three sockets of team A, one of team B, each with its snapshot
        screens_a = [await opened(supervisor, team_a.pk) for _ in range(3)]
        screen_b = await opened(boss_b, team_b.pk)
        for screen in [*screens_a, screen_b]:
            await receive(screen, "wallboard.snapshot")
        reads = for_this_loop(database_sync_to_async(wallboard_read))
        before = reads.reads_started
        # When: a queue of team A opens (past the services: no push of its own) and one push is heard
        await database_sync_to_async(lambda: QueueFactory(name="returns", team=team_a))()
        await layer.group_send(ROUTING_CHANGED_GROUP, {**ROUTING_CHANGED, "push": "push-1"})
        while len(held) < 4:
            await asyncio.sleep(0.01)
        let_go.set()
        # Then: each screen of team A shows it, from one read of team A's board
        for screen in screens_a:
            update = await receive(screen, "wallboard.update")
            assert (update["board"]["team_id"], "returns" in {q["name"] for q in update["board"]["queues"]}) == (
                team_a.pk,
                True,
            )
        # and team B's screen, read once for team B, has nothing new to show
        assert await screen_b.receive_nothing(QUIET)
        assert reads.reads_started - before == 2

    run(scenario)
