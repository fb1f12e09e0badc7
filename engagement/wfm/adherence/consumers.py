"""The supervisor's live adherence socket: ``ws/wfm/adherence/`` (session-authenticated, origin-checked in cea/asgi.py).

Supervisors, admins (and signed-in integration users) only: an agent is refused (4403), an anonymous
socket 4401. A supervisor's socket joins the adherence group of each of their teams, an admin's the
group of every team (``engagement.wfm.adherence.live``), so a row never reaches a supervisor of
another team. Pushes::

    {"type": "adherence.ready", "teams": [1, 2] | "all"}
    {"type": "adherence.changed", "agents": [<live row>, ...]}

Before a push the user's access is checked again (at most every ``CEA_WS_ACCESS_RECHECK_SECONDS``);
a change of their role or teams closes the socket (``LiveContextConsumer``), and the page reconnects
to the groups it may join now.
"""

from __future__ import annotations

from cea.accounts.selectors import active_user
from cea.common.consumer_db import consumer_db
from cea.common.roles import sees_everything, team_ids_of
from engagement.consumers import CLOSE_FORBIDDEN
from engagement.context.consumers import LiveContextConsumer
from engagement.wfm.access import require_wfm_reader
from engagement.wfm.adherence.live import ADHERENCE_ALL_GROUP, adherence_team_group


def reader_check(*, user_id: int) -> None:
    """The user as the database has them now reads planning figures (else ``PermissionDenied``)."""
    require_wfm_reader(active_user(user_id=user_id))


def adherence_groups(*, user_id: int) -> list[str]:
    """The adherence groups the user's socket joins: every team's for those who see all, else their teams'."""
    user = active_user(user_id=user_id)
    require_wfm_reader(user)
    if sees_everything(user):
        return [ADHERENCE_ALL_GROUP]
    return [adherence_team_group(team_id) for team_id in sorted(team_ids_of(user))]


class AdherenceConsumer(LiveContextConsumer):
    async def connect(self) -> None:
        self.subscriptions: set[tuple[str, str]] = set()
        self.adherence_groups: list[str] = []
        user_id = await self.admitted(reader_check)
        if user_id is None:
            return
        groups = await consumer_db(adherence_groups)(user_id=user_id)
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        self.adherence_groups = groups
        await self.accept()
        self.let_in = True
        teams = "all" if groups == [ADHERENCE_ALL_GROUP] else [int(group.rsplit(".", 1)[1]) for group in groups]
        await self.send_json({"type": "adherence.ready", "teams": teams})

    async def disconnect(self, code) -> None:
        for group in getattr(self, "adherence_groups", []):
            await self.channel_layer.group_discard(group, self.channel_name)
        await super().disconnect(code)

    async def adherence_changed(self, event: dict) -> None:
        if self.shut:
            return
        refusal = await self.refused_now(("adherence", ""), reader_check)
        if refusal is not None:
            await self.shut_for(CLOSE_FORBIDDEN, refusal.code, refusal.message)
            return
        await self.send_json({"type": "adherence.changed", "agents": event.get("agents", [])})
