"""Adherence, live: the Channels groups the supervisor's page listens on, and the hook on presence changes.

Pushes are team-scoped: each agent's live row goes to the group of each team they are in
(``adherence_team_group``) and to the group of those who see every team (``ADHERENCE_ALL_GROUP``:
admins). A supervisor's socket joins only their teams' groups, so a row never reaches a supervisor
of another team. The rows carry data (they are the API's rows); the page reads its fragment again.

Routing does not import workforce management: ``register`` (called from the app's ``ready``) puts
``presence_changed`` on ``engagement.hooks``, which routing calls after a presence change commits;
it sends the ``engagement.wfm.adherence.agent_refresh`` task, which re-reads the agent's state,
opens or closes their exception and pushes their row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from cea.common.live import push_on_commit

ADHERENCE_ALL_GROUP = "wfm.adherence.all"
ADHERENCE_EVENT = "adherence.changed"


def adherence_team_group(team_id: int) -> str:
    """The Channels group of the supervisors' adherence pages of one team."""
    return f"wfm.adherence.team.{int(team_id)}"


def adherence_push_on_commit(rows: Iterable[dict]) -> None:
    """Once the transaction commits, send the live rows (``selectors.live_json``) to their teams'
    groups (one push per group) and all of them to the group of those who see every team."""
    rows = list(rows)
    if not rows:
        return
    by_team: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        for team_id in row["teams"]:
            by_team[team_id].append(row)
    for team_id, team_rows in by_team.items():
        push_on_commit(adherence_team_group(team_id), {"type": ADHERENCE_EVENT, "agents": team_rows})
    push_on_commit(ADHERENCE_ALL_GROUP, {"type": ADHERENCE_EVENT, "agents": rows})


def presence_changed(agent_id: int) -> None:
    """The presence hook: refresh the agent's adherence in a task (the change has committed)."""
    from engagement.wfm.adherence.tasks import agent_refresh  # the tasks module imports the services

    agent_refresh.delay(agent_id)


def register() -> None:
    """Follow presence changes (called once from ``EngagementConfig.ready``)."""
    from engagement.hooks import register_presence_changed_hook

    register_presence_changed_hook(presence_changed)
