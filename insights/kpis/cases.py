"""The case rollup: records' cases to ``CaseRollup`` rows, one named SQL statement.

Two events of a case count: its creation (``opened``, and its SLA compliance once decided) and its
resolution or closing (``resolved``). A run re-computes the intervals those events of the changed
cases fall in (delete, insert). A case reopened after it was resolved keeps counting as resolved in
its first resolution's interval until that interval is re-computed (the next rebuild).
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.db.models import Q

from insights.kpis.intervals import GRAIN, interval_floor, queryset_sql
from insights.kpis.models import CaseRollup
from records.cases.selectors import case_facts, cases_changed

# {cases}: id, team_id, assignee_id, created_at, done_at, first_response_due_at, first_responded_at,
# first_response_breached, resolution_due_at, resolved_at, resolution_breached.
CASE_ROLLUP_SQL = """
WITH cases AS ({cases}),
events AS (
    SELECT date_bin('15 minutes', created_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS interval_start,
        team_id, assignee_id, 1 AS opened, 0 AS resolved,
        (first_response_due_at IS NOT NULL AND (first_responded_at IS NOT NULL OR first_response_breached))::int
            AS fr_decided,
        (first_responded_at IS NOT NULL AND first_responded_at <= first_response_due_at)::int AS fr_met,
        (resolution_due_at IS NOT NULL AND (resolved_at IS NOT NULL OR resolution_breached))::int AS res_decided,
        (resolved_at IS NOT NULL AND resolved_at <= resolution_due_at)::int AS res_met
    FROM cases
    UNION ALL
    SELECT date_bin('15 minutes', done_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'), team_id, assignee_id, 0, 1, 0, 0, 0, 0
    FROM cases WHERE done_at IS NOT NULL
)
INSERT INTO {table} (interval_start, team_id, agent_id, opened, resolved, first_response_decided,
    first_response_met, resolution_decided, resolution_met)
SELECT interval_start, team_id, assignee_id, sum(opened), sum(resolved), sum(fr_decided), sum(fr_met),
    sum(res_decided), sum(res_met)
FROM events WHERE {where}
GROUP BY 1, 2, 3
"""
FACT_COLUMNS = (
    "id",
    "team_id",
    "assignee_id",
    "created_at",
    "done_at",
    "first_response_due_at",
    "first_responded_at",
    "first_response_breached",
    "resolution_due_at",
    "resolved_at",
    "resolution_breached",
)


def case_rollup_intervals(*, intervals: list[datetime] | None, since: datetime | None = None) -> int:
    """Re-compute these intervals (or every interval from ``since``; everything when both are None)
    in the caller's transaction; returns the rows written."""
    rows = CaseRollup.objects.all()
    params: tuple[object, ...]
    if intervals is not None:
        if not intervals:
            return 0
        rows, where, params = rows.filter(interval_start__in=intervals), "interval_start = ANY(%s)", (intervals,)
    elif since is not None:
        rows, where, params = rows.filter(interval_start__gte=since), "interval_start >= %s", (since,)
    else:
        where, params = "true", ()
    rows.delete()
    facts = case_facts()
    if intervals is not None:
        low, high = min(intervals), max(intervals) + GRAIN
        facts = facts.filter(Q(created_at__gte=low, created_at__lt=high) | Q(done_at__gte=low, done_at__lt=high))
    cases_sql, cases_params = queryset_sql(facts.values(*FACT_COLUMNS))  # type: ignore[misc]
    statement = CASE_ROLLUP_SQL.format(cases=cases_sql, table=CaseRollup._meta.db_table, where=where)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(statement, cases_params + params)
        return cursor.rowcount


def case_intervals_changed(*, after: datetime | None, until: datetime) -> list[datetime]:
    """The intervals of the creation and resolution of the cases changed in ``(after, until]``."""
    moments: set[datetime] = set()
    changed = case_facts().filter(pk__in=cases_changed(after=after, until=until).values("pk"))
    for created_at, done_at in changed.values_list("created_at", "done_at"):  # type: ignore[misc]
        moments.update(moment for moment in (created_at, done_at) if moment is not None)
    return sorted({interval_floor(moment) for moment in moments})
