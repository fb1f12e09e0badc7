"""Check, then do: what each user may see of insights' figures.

Admins and integration clients (limited by their token's ``insights:read`` scope) see every
figure; supervisors the figures of their teams; agents only their own (the contacts they handled),
and none of the team-wide real-time figures. Pages, APIs, websockets and tasks of insights ask
here; the selectors read without checking.

Historical KPIs (``contact_rollups_scope``): the rollup rows a user may read.

Real-time figures (the wallboard and ``/api/v1/insights/realtime/``): a team's wallboard is for
its supervisors and admins (``access_wallboard_team``, ``wallboard_teams_visible_to``); the
real-time queue figures list the queues of the reader's teams and the queues of no team
(``realtime_team_ids_of``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from cea.accounts.models import Team
from cea.accounts.types import Actor, AnyUser
from cea.common.errors import NotFound, PermissionDenied
from cea.common.roles import Role, role_of, sees_everything, team_ids_of
from records.access import require_signed_in, row_id

# --- Historical KPIs (the rollups) ------------------------------------------------------------


@dataclass(frozen=True)
class FiguresScope:
    """Whose figures a user may read: ``team_ids`` (``None``: every team) and ``agent_id`` (``None``: every agent)."""

    team_ids: frozenset[int] | None
    agent_id: int | None


def figures_scope(user: Actor) -> FiguresScope:
    """The historical figures and contacts ``user`` may read (``PermissionDenied`` if not signed in):
    admins and clients everything, supervisors their teams', agents the contacts they handled."""
    require_signed_in(user)
    if sees_everything(user):
        return FiguresScope(team_ids=None, agent_id=None)
    if role_of(user) == Role.SUPERVISOR:
        return FiguresScope(team_ids=team_ids_of(user), agent_id=None)
    return FiguresScope(team_ids=None, agent_id=user.pk if user is not None else None)  # signed in: never None


def contact_rollups_scope(user: Actor) -> Q:
    """The rollup rows ``user`` may read, as a filter on ``ContactRollup`` (``PermissionDenied`` if not signed in)."""
    scope = figures_scope(user)
    if scope.team_ids is not None:
        return Q(team_id__in=sorted(scope.team_ids))
    if scope.agent_id is not None:
        return Q(agent_id=scope.agent_id)
    return Q()


# --- Real-time figures (the wallboard, the real-time API) ------------------------------------

REALTIME_READERS = (Role.SUPERVISOR, Role.ADMIN, Role.INTEGRATION)
WALLBOARD_VIEWERS = (Role.SUPERVISOR, Role.ADMIN)
MAX_ROW_ID = 2**63  # PostgreSQL's bigint: a larger id names no row (and must not reach the query)


def require_realtime_reader(user: AnyUser) -> None:
    """Real-time queue figures are for supervisors, admins and integration clients (agents: 403)."""
    require_signed_in(user)
    if role_of(user) not in REALTIME_READERS:
        raise PermissionDenied("Real-time queue figures are for supervisors and administrators.")


def require_wallboard_viewer(user: AnyUser) -> None:
    """The wallboard pages are for supervisors and admins (agents: 403)."""
    require_signed_in(user)
    if role_of(user) not in WALLBOARD_VIEWERS:
        raise PermissionDenied("The wallboard is for supervisors and administrators.")


def wallboard_teams_visible_to(user: AnyUser) -> QuerySet[Team]:
    """The teams whose wallboard ``user`` may open: all for admins, their own for supervisors."""
    require_wallboard_viewer(user)
    teams = Team.objects.all().order_by("name")
    return teams if sees_everything(user) else teams.filter(pk__in=team_ids_of(user))


def access_wallboard_team(user: AnyUser, team_id: object) -> Team:
    """The team whose wallboard ``user`` opens: ``NotFound`` if there is none, ``PermissionDenied`` if not theirs."""
    require_wallboard_viewer(user)
    pk = row_id(team_id)
    team = Team.objects.filter(pk=pk).first() if pk is not None and pk < MAX_ROW_ID else None
    if team is None:
        raise NotFound(f"No team with id {team_id}.")
    if not sees_everything(user) and team.pk not in team_ids_of(user):
        raise PermissionDenied("This wallboard belongs to a team you do not supervise.")
    return team


def realtime_team_ids_of(user: AnyUser) -> frozenset[int] | None:
    """The teams whose queues ``user`` reads real-time figures of: ``None`` for all (admins, clients)."""
    require_realtime_reader(user)
    return None if sees_everything(user) else team_ids_of(user)


# --- Customer insight: journey maps, personas, strategies, models, engagement metrics ----------
# Figures about whole customer bases: supervisors read their teams' customers, admins and integration
# clients every customer, agents none. Model runs and persona discovery are computed over every
# customer and name none, so every reader sees the same runs.

CUSTOMER_INSIGHT_READERS = (Role.SUPERVISOR, Role.ADMIN, Role.INTEGRATION)
CUSTOMER_INSIGHT_PAGE_VIEWERS = (Role.SUPERVISOR, Role.ADMIN)  # clients have the API


def require_customer_insight_reader(user: Actor, what: str = "Customer insight figures") -> None:
    """``PermissionDenied`` (naming ``what``) unless a supervisor, an admin or an integration client."""
    require_signed_in(user)
    if role_of(user) not in CUSTOMER_INSIGHT_READERS:
        raise PermissionDenied(f"{what} are for supervisors and administrators.")


def require_customer_insight_page_viewer(user: Actor, what: str) -> None:
    """``PermissionDenied`` (naming ``what``) unless a supervisor or an admin: the pages' readers."""
    require_signed_in(user)
    if role_of(user) not in CUSTOMER_INSIGHT_PAGE_VIEWERS:
        raise PermissionDenied(f"{what} are for supervisors and administrators.")


def customer_insight_team_ids(user: Actor, what: str = "Customer insight figures") -> frozenset[int] | None:
    """The teams whose customers ``user`` reads figures of (``None``: every customer, for admins and
    clients); ``PermissionDenied`` for anyone else, as ``require_customer_insight_reader``."""
    require_customer_insight_reader(user, what)
    return None if sees_everything(user) else team_ids_of(user)


def require_persona_editor(user: Actor) -> None:
    """Persona definitions are global configuration: only administrators write them (the system may)."""
    if user is None:
        return
    require_signed_in(user)
    if role_of(user) != Role.ADMIN:
        raise PermissionDenied("Only an administrator may change personas.")
