"""The live wallboard of a team: ``ws/insights/wallboard/<team id>/`` (session-authenticated, origin-checked in
cea/asgi.py).

On connect: not signed in → an error frame and close 4401; not a supervisor of the team nor an
admin → close 4403. Otherwise the first frame is the whole board, read after joining the groups
(so a change in between arrives as an update, never lost)::

    {"type": "wallboard.snapshot", "board": {...TeamBoardSerializer}, "html": "<the board, rendered>"}

then, whenever routing's live state changes (``routing.changed``, engagement/routing/live.py), the
board again, whole: ``{"type": "wallboard.update", "board", "html"}``, at most once a second
(``PUSH_INTERVAL_SECONDS``, one ``Throttle`` per socket: a burst of changes is one update, and
the last change is always in an update) and only when a figure changed. The sockets of one team in
one process share one read of the board per push (``insights.wallboard.reads``): N screens of a
team cost one read, not N; each socket still checks its own user's access before it is sent one.
Every ``RESYNC_SECONDS`` the board is read again without a change too (the last 15 minutes slide). A reconnecting client
gets the snapshot first, so it is right again whatever it missed. ``{"action": "ping"}`` →
``{"type": "pong"}``.

Access is re-checked before each update (at most every ``CEA_WS_ACCESS_RECHECK_SECONDS``), and the
socket closes on a sign-out or a change of the user's role or teams (``user.<id>``), as on
ws/context/ (engagement/context/consumers.py, whose machinery this consumer reuses).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from cea.accounts.models import Team
from cea.accounts.selectors import active_user
from cea.common.consumer_db import consumer_db
from cea.common.languages import scope_language
from cea.common.live import Throttle
from engagement.consumers import CLOSE_FORBIDDEN, CLOSE_NOT_AUTHENTICATED
from engagement.context.consumers import LiveContextConsumer
from engagement.routing.live import ROUTING_CHANGED_GROUP
from insights.access import access_wallboard_team
from insights.realtime.selectors import team_board
from insights.realtime.serializers import TeamBoardSerializer
from insights.wallboard.reads import for_this_loop

logger = logging.getLogger("insights.wallboard")

PUSH_INTERVAL_SECONDS = 1.0
RESYNC_SECONDS = 30.0
BOARD = "board"  # the throttle's one key


def wallboard_check(*, user_id: int, team_id: int) -> None:
    """The user (as the database has them now) may see the team's wallboard, else ``ApplicationError``."""
    access_wallboard_team(active_user(user_id=user_id), team_id)


def wallboard_snapshot(*, team_id: int) -> dict[str, Any]:
    """The team's board now: its figures and its rendered HTML (templates/insights/wallboard/partials/board.html),
    in each of the interface's languages (``html_by_language``; ``html``: the default language's)."""
    board = team_board(team=Team.objects.get(pk=team_id))
    html = {}
    for code, _name in settings.LANGUAGES:  # one read serves every socket of the team, whatever its language
        with translation.override(code):
            html[code] = render_to_string("insights/wallboard/partials/board.html", {"board": board})
    return {"board": TeamBoardSerializer(board).data, "html": html[settings.LANGUAGE_CODE], "html_by_language": html}


def wallboard_read(team_id: int) -> tuple[dict[str, Any], str]:
    """The team's board now (``wallboard_snapshot``) and its ``fingerprint``: one read, shared by the
    team's sockets (``TeamBoardReads``)."""
    snapshot = wallboard_snapshot(team_id=team_id)
    return snapshot, fingerprint(snapshot["board"])


def fingerprint(board: dict[str, Any]) -> str:
    """What an update must differ in to be sent: the figures, not the time they were read at (waits age
    in the browser from ``oldest_enqueued_at``; the last 15 minutes start 15 minutes before it)."""
    figures = {**board, "computed_at": None}
    figures["queues"] = [
        {**queue, "longest_wait_seconds": None, "last_15_minutes": {**queue["last_15_minutes"], "since": None}}
        for queue in board["queues"]
    ]
    return json.dumps(figures, sort_keys=True, default=str)


class WallboardConsumer(LiveContextConsumer):
    """One team's wallboard: a full snapshot on connect, then throttled full updates on routing's changes."""

    @staticmethod
    async def wait(seconds: float) -> None:
        """Wait before an update (a test replaces it to hold updates until it lets them go)."""
        await asyncio.sleep(seconds)

    async def connect(self) -> None:
        self.subscriptions: set[tuple[str, str]] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        self.sent: str | None = None
        self.throttle = Throttle(PUSH_INTERVAL_SECONDS)
        self.reads = for_this_loop(consumer_db(wallboard_read))
        self.push: str | None = None  # the last push of routing.changed heard of
        self.team_id = int(self.scope["url_route"]["kwargs"]["team_id"])
        self.language = scope_language(self.scope)
        if await self.admitted(wallboard_check, team_id=self.team_id) is None:
            return
        # Join before reading the snapshot: a change in between then comes as an update.
        await self.channel_layer.group_add(ROUTING_CHANGED_GROUP, self.channel_name)
        self.heard = self.reads.stamp()  # the snapshot is a read started after the join
        self.following = True
        await self.accept()
        self.let_in = True
        self.throttle.fired(BOARD)  # the snapshot is this second's push
        await self.send_board("wallboard.snapshot")
        self.start(self.resync())

    def start(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def disconnect(self, code: int) -> None:
        for task in list(getattr(self, "tasks", ())):
            task.cancel()
        if getattr(self, "following", False):
            self.following = False
            await self.channel_layer.group_discard(ROUTING_CHANGED_GROUP, self.channel_name)
        await super().disconnect(code)

    async def receive_json(self, content: dict, **kwargs: Any) -> None:
        if content.get("action") == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.send_error("unknown_action", "Actions: ping.")

    # --- Updates ------------------------------------------------------------------------------

    async def routing_changed(self, event: dict) -> None:
        self.push, self.heard = event.get("push"), self.reads.stamp()
        self.changed()

    def changed(self) -> None:
        """Something the board shows may have changed: an update once the throttle allows, unless one is due."""
        if self.shut:
            return
        delay = self.throttle.change(BOARD)
        if delay is not None:
            self.start(self.update_after(delay))

    async def update_after(self, delay: float) -> None:
        await self.wait(delay)
        self.throttle.fired(BOARD)  # before reading: a change made while we read is a new change
        try:
            await self.send_board("wallboard.update")
        except Exception:  # a failed read (the database away a moment) waits for the next change or resync
            logger.exception("Wallboard update of team %s failed", self.team_id)

    async def resync(self) -> None:
        """Every ``RESYNC_SECONDS``: read the board again (the last 15 minutes slide without any change), and
        join ``routing.changed`` again, as channels-redis drops a member after its ``group_expiry`` (a day)
        and a wall TV stays connected for longer."""
        while not self.shut:
            await asyncio.sleep(RESYNC_SECONDS)
            await self.channel_layer.group_add(ROUTING_CHANGED_GROUP, self.channel_name)
            self.push, self.heard = None, self.reads.stamp()  # a read from now on: the time slid
            self.changed()

    async def send_board(self, frame_type: str) -> None:
        """Send the board (a snapshot always; an update only when a figure changed) if the user may still see it."""
        if self.shut:
            return
        refusal = await self.refused_now(("wallboard", str(self.team_id)), wallboard_check, team_id=self.team_id)
        if refusal is not None:
            close = CLOSE_NOT_AUTHENTICATED if refusal.code == "not_authenticated" else CLOSE_FORBIDDEN
            await self.shut_for(close, refusal.code, refusal.message)
            return
        snapshot, figures = await self.reads.board(team_id=self.team_id, push=self.push, since=self.heard)
        if frame_type != "wallboard.snapshot" and figures == self.sent:
            return
        self.sent = figures
        html = snapshot["html_by_language"].get(self.language, snapshot["html"])
        await self.send_json({"type": frame_type, "board": snapshot["board"], "html": html})
