"""Check, then do: what each user may see of insights' figures.

Admins and integration clients (limited by their token's ``insights:read`` scope) see every
figure; supervisors the figures of their teams; agents only their own (the contacts they handled).
Pages, APIs, websockets and tasks of insights ask here; the selectors read without checking.
"""

from __future__ import annotations

from django.db.models import Q

from cea.common.roles import Role, role_of, sees_everything, team_ids_of
from records.access import require_signed_in


def contact_rollups_scope(user) -> Q:
    """The rollup rows ``user`` may read, as a filter on ``ContactRollup`` (``PermissionDenied`` if not signed in)."""
    require_signed_in(user)
    if sees_everything(user):
        return Q()
    if role_of(user) == Role.SUPERVISOR:
        return Q(team_id__in=sorted(team_ids_of(user)))
    return Q(agent_id=user.pk)
