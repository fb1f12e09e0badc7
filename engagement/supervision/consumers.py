"""The supervisors' overview socket: ``ws/supervision/`` (session-authenticated, origin-checked in cea/asgi.py).

Supervisors and admins only: anyone else is refused (4401 not signed in, 4403 not a supervisor).
The socket is ``ws/context/`` (``LiveContextConsumer``: subscriptions, access re-checks, closing
on a change of the user's access) plus the supervisors' group, whose pushes say only what changed::

    {"type": "supervision.changed", "what": "conversations" | "agents"}

and the page reads its permission-checked fragment again (static/engagement/supervision.js): no
conversation or agent travels on the group, so one group serves every team. The hints are coalesced
per kind (``cea.common.live.supervision_hint_on_commit``): at most one of each a second per process,
and one after the last change.
"""

from __future__ import annotations

from cea.accounts.selectors import active_user
from cea.common.live import SUPERVISION_CHANGES, SUPERVISION_GROUP
from engagement.access import require_supervisor
from engagement.consumers import CLOSE_FORBIDDEN
from engagement.context.consumers import LiveContextConsumer


def supervisor_check(*, user_id: int) -> None:
    """The user as the database has them now is a supervisor or an admin (else ``PermissionDenied``)."""
    require_supervisor(active_user(user_id=user_id))


class SupervisionConsumer(LiveContextConsumer):
    async def connect(self) -> None:
        self.subscriptions: set[tuple[str, str]] = set()
        self.in_group = False
        if await self.admitted(supervisor_check) is None:
            return
        await self.channel_layer.group_add(SUPERVISION_GROUP, self.channel_name)
        self.in_group = True
        await self.accept()
        self.let_in = True
        await self.send_json({"type": "supervision.ready"})

    async def disconnect(self, code) -> None:
        if getattr(self, "in_group", False):
            await self.channel_layer.group_discard(SUPERVISION_GROUP, self.channel_name)
        await super().disconnect(code)

    async def supervision_changed(self, event: dict) -> None:
        what = event.get("what")
        if self.shut or what not in SUPERVISION_CHANGES:
            return
        # Still a supervisor? (re-checked at most every CEA_WS_ACCESS_RECHECK_SECONDS)
        refusal = await self.refused_now(("supervision", ""), supervisor_check)
        if refusal is not None:
            await self.shut_for(CLOSE_FORBIDDEN, refusal.code, refusal.message)
            return
        await self.send_json({"type": "supervision.changed", "what": what})
