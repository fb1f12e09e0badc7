"""Reading the customer access log: who read a customer, what a user read, and unusual access.

Supervisors see the reads of their teams' customers and by their teams' members; administrators
see everything. Agents and integration clients are refused (``PermissionDenied``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from cea.common.errors import PermissionDenied
from cea.common.roles import Role, is_admin, role_of, team_ids_of
from records.audit.models import CustomerAccess

# A day is unusual when the user read at least this many customers and more than
# VOLUME_FACTOR times their own median day (over the BASELINE_DAYS before it) or their peers' median that day.
VOLUME_FLOOR = 20
VOLUME_FACTOR = 3
BASELINE_DAYS = 28


def require_access_auditor(user) -> None:
    """Only supervisors and administrators read the access log."""
    if role_of(user) not in (Role.SUPERVISOR, Role.ADMIN):
        raise PermissionDenied("Only a supervisor or an administrator may read the customer access log.")


def _team_member_ids(user) -> QuerySet:
    return get_user_model().objects.filter(teams__in=team_ids_of(user)).values("id")


def customer_accesses(
    *, viewer, customer_id: int | None = None, user_id: int | None = None
) -> QuerySet[CustomerAccess]:
    """The reads ``viewer`` may see, newest first, narrowed to a customer and/or a reader."""
    require_access_auditor(viewer)
    rows = CustomerAccess.objects.all()
    if not is_admin(viewer):
        rows = rows.filter(Q(customer_team_id__in=team_ids_of(viewer)) | Q(user_id__in=_team_member_ids(viewer)))
    if customer_id is not None:
        rows = rows.filter(customer_id=customer_id)
    if user_id is not None:
        rows = rows.filter(user_id=user_id)
    return rows.order_by("-at", "-id")


@dataclass(frozen=True)
class UnusualDay:
    user_id: int
    username: str
    day: dt.date
    customers: int  # distinct customers read that day
    own_median: float | None  # the user's median day over the baseline before it (None: no history)
    peer_median: float  # the median day of every reader that day
    outside_teams: int  # distinct customers read outside the user's teams
    reasons: tuple[str, ...]


_UNUSUAL_SQL = """
WITH daily AS (
    SELECT user_id, MAX(username) AS username, (at AT TIME ZONE 'UTC')::date AS day,
           COUNT(DISTINCT customer_id) AS customers,
           COUNT(DISTINCT customer_id) FILTER (WHERE outside_teams) AS outside
    FROM {table}
    WHERE user_id IS NOT NULL AND at >= %(baseline_from)s
    GROUP BY user_id, (at AT TIME ZONE 'UTC')::date
),
peers AS (
    SELECT day, percentile_cont(0.5) WITHIN GROUP (ORDER BY customers) AS median FROM daily GROUP BY day
),
scored AS (
    SELECT d.*, p.median AS peer_median,
           (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY b.customers) FROM daily b
             WHERE b.user_id = d.user_id AND b.day < d.day AND b.day >= d.day - %(baseline_days)s) AS own_median
    FROM daily d JOIN peers p ON p.day = d.day
    WHERE d.day >= %(since)s
)
SELECT user_id, username, day, customers, own_median, peer_median, outside FROM scored
WHERE outside > 0
   OR (customers >= %(floor)s AND (customers > %(factor)s * own_median OR customers > %(factor)s * peer_median))
ORDER BY day DESC, customers DESC, user_id
"""


def unusual_access(*, viewer, days: int = 14, floor: int = VOLUME_FLOOR) -> list[UnusualDay]:
    """Readers' days that stand out in the last ``days`` days: a volume far above their own baseline
    or their peers' that day, or any read of a customer outside their teams.

    Supervisors get their teams' members only (measured against every reader); administrators everyone.
    """
    require_access_auditor(viewer)
    today = timezone.now().astimezone(dt.UTC).date()
    since = today - dt.timedelta(days=days - 1)
    params: dict[str, Any] = {
        "baseline_from": dt.datetime.combine(since - dt.timedelta(days=BASELINE_DAYS), dt.time(), tzinfo=dt.UTC),
        "baseline_days": BASELINE_DAYS,
        "since": since,
        "floor": floor,
        "factor": VOLUME_FACTOR,
    }
    with connection.cursor() as cursor:
        cursor.execute(_UNUSUAL_SQL.format(table=connection.ops.quote_name(CustomerAccess._meta.db_table)), params)
        rows = cursor.fetchall()
    allowed = None if is_admin(viewer) else set(_team_member_ids(viewer).values_list("id", flat=True))
    found = []
    for user_id, username, day, customers, own_median, peer_median, outside in rows:
        if allowed is not None and user_id not in allowed:
            continue
        reasons = []
        if customers >= floor and own_median is not None and customers > VOLUME_FACTOR * own_median:
            reasons.append(f"{customers} customers, over {VOLUME_FACTOR}× their usual {own_median:g}")
        if customers >= floor and customers > VOLUME_FACTOR * peer_median:
            reasons.append(f"{customers} customers, over {VOLUME_FACTOR}× the median reader's {peer_median:g}")
        if outside:
            reasons.append(f"{outside} customer(s) outside their teams")
        found.append(
            UnusualDay(user_id, username, day, customers, own_median, float(peer_median), outside, tuple(reasons))
        )
    return found
