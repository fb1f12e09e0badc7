"""TeamBoardReads: one read of a team's board per push, shared by the team's sockets of one event loop.

The read function is the test's own (it counts and can be held), so what is asserted is which asks
share a read and which start one, not how long anything takes.
"""

from __future__ import annotations

import asyncio

import pytest

from insights.wallboard.reads import TeamBoardReads


class Boards:
    """Reads that return ``(team id, read number)``, and wait while ``held`` is clear."""

    def __init__(self) -> None:
        self.count = 0
        self.held = asyncio.Event()
        self.held.set()
        self.fail_next = False

    async def __call__(self, team_id: int) -> tuple[int, int]:
        self.count += 1
        number = self.count
        await self.held.wait()
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("database away")
        return team_id, number


def test_sockets_that_heard_one_push_share_its_read_even_after_it_started():
    async def scenario():
        boards = Boards()
        reads = TeamBoardReads(boards)
        # Given: three sockets of team 1 hear push p1, one after the other, while its read is under way
        boards.held.clear()
        first = asyncio.ensure_future(reads.board(team_id=1, push="p1", since=reads.stamp()))
        await asyncio.sleep(0)
        late = [asyncio.ensure_future(reads.board(team_id=1, push="p1", since=reads.stamp())) for _ in range(2)]
        boards.held.set()
        # Then: one read for the three
        assert await asyncio.gather(first, *late) == [(1, 1)] * 3
        assert reads.reads_started == 1
        # When: another team's socket hears the same push, it gets its own team's board
        assert await reads.board(team_id=2, push="p1", since=reads.stamp()) == (2, 2)
        # When: a later push is heard, the old read does not do
        assert await reads.board(team_id=1, push="p2", since=reads.stamp()) == (1, 3)

    asyncio.run(scenario())


def test_without_a_push_id_a_read_started_after_the_change_is_shared_and_an_older_one_is_not():
    async def scenario():
        reads = TeamBoardReads(Boards())
        joined = reads.stamp()  # a socket joins, then its snapshot read starts
        assert await reads.board(team_id=1, push=None, since=joined) == (1, 1)
        # A second socket that joined before that read started shares it
        assert await reads.board(team_id=1, push=None, since=joined) == (1, 1)
        # A socket that joins (or resyncs) after it needs a read of its own
        assert await reads.board(team_id=1, push=None, since=reads.stamp()) == (1, 2)

    asyncio.run(scenario())


def test_a_failed_read_is_not_kept_and_a_cancelled_asker_does_not_cancel_the_others():
    async def scenario():
        boards = Boards()
        reads = TeamBoardReads(boards)
        boards.fail_next = True
        with pytest.raises(ConnectionError):
            await reads.board(team_id=1, push="p1", since=reads.stamp())
        # The next asker of the same push reads again
        assert await reads.board(team_id=1, push="p1", since=reads.stamp()) == (1, 2)
        # A socket closing while the read is under way leaves it to the others
        boards.held.clear()
        closing = asyncio.ensure_future(reads.board(team_id=1, push="p2", since=reads.stamp()))
        staying = asyncio.ensure_future(reads.board(team_id=1, push="p2", since=reads.stamp()))
        await asyncio.sleep(0)
        closing.cancel()
        boards.held.set()
        assert await staying == (1, 3)

    asyncio.run(scenario())
