"""One read of a team's board per push, shared by the team's wallboard sockets in this process.

Every wallboard socket of a team shows the same board, and every one of them is told of the same
``routing.changed`` push: were each to read the board, N screens of one team would make N
identical reads a push (five statements, a serializer and a template each, bench/wallboard.py).
Instead the sockets of one event loop (one server process) ask ``TeamBoardReads`` for the board,
and a read already made or under way is shared when it covers what the asker knows of:

- it was started for the push the asker last heard of (``push``: the id every member's copy of one
  coalesced push carries, ``cea.common.live``): it began after that push's change was committed;
- or it started after the asker last heard of a change (``since``, a stamp of this object's
  counter), which covers a push without an id, the periodic resync and the snapshot of a socket
  that has just joined ``routing.changed`` (a read that began after it joined misses nothing).

Otherwise a new read starts, and is the one later askers share. The reads hold no one's access:
each socket checks its user may see the team before it asks, and asks only for its own team.
A failed read is not kept: the next asker reads again. Each team's latest read is kept (one board
per team), but an old one is never taken for a newer change: it covers neither a later push nor a
later stamp.
"""

from __future__ import annotations

import asyncio
import itertools
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Board = Any  # what ``read_board`` returns


@dataclass
class BoardRead:
    """One read of a team's board: started at ``stamp``, for ``push`` (``None``: no push), its result."""

    stamp: int
    push: str | None
    result: asyncio.Future[Board]

    def covers(self, *, push: str | None, since: int) -> bool:
        return (push is not None and push == self.push) or self.stamp > since


class TeamBoardReads:
    """The latest read of each team's board on this event loop, shared as the module docstring says.

    ``read_board(team_id)`` reads one team's board (in a thread: it is sync Django code). Not
    thread-safe: one event loop owns it (``for_this_loop``).
    """

    def __init__(self, read_board: Callable[[int], Any]) -> None:
        self.read_board = read_board
        self.counter = itertools.count(1)
        self.latest: dict[int, BoardRead] = {}
        self.reads_started = 0  # how many reads this object started (bench/wallboard.py, the tests)

    def stamp(self) -> int:
        """Now, in this object's order of events: a change heard of, or a read started."""
        return next(self.counter)

    async def board(self, *, team_id: int, push: str | None, since: int) -> Board:
        """The team's board as of a read that covers ``push`` or started after ``since`` (see the module)."""
        read = self.latest.get(team_id)
        if read is None or not read.covers(push=push, since=since):
            read = BoardRead(stamp=self.stamp(), push=push, result=asyncio.ensure_future(self.read_board(team_id)))
            self.reads_started += 1
            self.latest[team_id] = read
            read.result.add_done_callback(self._forget_failure(team_id, read))
        # Shielded: one asker's cancellation (its socket closing) does not cancel the others' read.
        return await asyncio.shield(read.result)

    def _forget_failure(self, team_id: int, read: BoardRead) -> Callable[[asyncio.Future[Board]], None]:
        def forget(result: asyncio.Future[Board]) -> None:
            if (result.cancelled() or result.exception() is not None) and self.latest.get(team_id) is read:
                del self.latest[team_id]

        return forget


_reads: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, TeamBoardReads] = weakref.WeakKeyDictionary()


def for_this_loop(read_board: Callable[[int], Any]) -> TeamBoardReads:
    """The running event loop's ``TeamBoardReads`` (made on first use with ``read_board``)."""
    loop = asyncio.get_running_loop()
    reads = _reads.get(loop)
    if reads is None:
        reads = _reads[loop] = TeamBoardReads(read_board)
    return reads
