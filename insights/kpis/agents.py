"""The agent rollup: presence and contacts to ``AgentRollup`` rows, one named SQL statement.

Per agent and 15-minute interval: time logged in (any presence but offline), available, away and
in after-contact work (from engagement's presence log), time on contacts (the union of the spans
from each contact's answer to its wrap-up, so concurrent chats count once), the part of it while
logged in, and idle time (available with no contact). Runs re-compute a contiguous window of intervals (delete, insert).
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection

from cea.accounts.selectors import first_team_of_users
from engagement.routing.selectors import interactions_released_since, interactions_with_routing, presence_spans
from insights.kpis.intervals import queryset_sql
from insights.kpis.models import AgentRollup
from records.interactions.selectors import interactions_handled_around

# {presence}: user_id, presence, started_at, until; {contacts}: agent_id, answered_at, ended_at,
# released_at; {teams}: user_id, first_team_id. The window's start and end are the first parameters.
# Each span is cut into the 15-minute intervals it overlaps (a lateral generate_series), so the
# work grows with the spans, not with spans × intervals.
AGENT_ROLLUP_SQL = """
WITH win AS (SELECT %s::timestamptz AS lo, %s::timestamptz AS hi),
presence AS ({presence}),
contacts AS ({contacts}),
teams AS ({teams}),
spans AS (
    SELECT p.user_id, p.presence, tstzrange(GREATEST(p.started_at, win.lo), LEAST(p.until, win.hi)) AS span
    FROM presence p, win
    WHERE p.presence <> 'offline' AND p.until > win.lo AND p.started_at < win.hi AND p.until > p.started_at
),
states AS (
    SELECT g.interval_start, s.user_id, s.presence,
        s.span * tstzrange(g.interval_start, g.interval_start + interval '15 minutes') AS span
    FROM spans s
    CROSS JOIN LATERAL generate_series(
        date_bin('15 minutes', lower(s.span), TIMESTAMPTZ '2000-01-01 00:00:00+00'),
        upper(s.span) - interval '1 microsecond',
        interval '15 minutes'
    ) AS g(interval_start)
),
state_spans AS (
    SELECT interval_start, user_id,
        range_agg(span) AS online,
        range_agg(span) FILTER (WHERE presence = 'available') AS available,
        range_agg(span) FILTER (WHERE presence = 'after_contact') AS after_contact,
        range_agg(span) FILTER (WHERE presence = 'away') AS away
    FROM states GROUP BY 1, 2
),
contact_spans AS (
    SELECT c.agent_id AS user_id, c.answered_at,
        tstzrange(GREATEST(c.answered_at, win.lo),
            LEAST(GREATEST(c.ended_at, COALESCE(c.released_at, c.ended_at)), win.hi), '[]') AS span
    FROM contacts c, win
    WHERE GREATEST(c.ended_at, COALESCE(c.released_at, c.ended_at)) >= win.lo AND c.answered_at < win.hi
),
busy AS (
    SELECT g.interval_start, c.user_id,
        range_agg(c.span * tstzrange(g.interval_start, g.interval_start + interval '15 minutes')) AS on_contact,
        count(*) FILTER (
            WHERE c.answered_at >= g.interval_start AND c.answered_at < g.interval_start + interval '15 minutes'
        ) AS handled
    FROM contact_spans c
    CROSS JOIN LATERAL generate_series(
        date_bin('15 minutes', lower(c.span), TIMESTAMPTZ '2000-01-01 00:00:00+00'),
        upper(c.span),
        interval '15 minutes'
    ) AS g(interval_start)
    WHERE g.interval_start < (SELECT hi FROM win)
    GROUP BY 1, 2
),
joined AS (
    SELECT COALESCE(s.interval_start, b.interval_start) AS interval_start,
        COALESCE(s.user_id, b.user_id) AS user_id,
        s.online, s.available, s.after_contact, s.away, b.on_contact, COALESCE(b.handled, 0) AS handled
    FROM state_spans s FULL JOIN busy b ON b.interval_start = s.interval_start AND b.user_id = s.user_id
)
INSERT INTO {table} (interval_start, agent_id, team_id, logged_in_seconds, available_seconds, idle_seconds,
    on_contact_seconds, logged_in_contact_seconds, after_contact_seconds, away_seconds, handled)
SELECT j.interval_start, j.user_id, t.first_team_id,
    insights_seconds(j.online), insights_seconds(j.available),
    insights_seconds(COALESCE(j.available, '{{}}'::tstzmultirange) - COALESCE(j.on_contact, '{{}}'::tstzmultirange)),
    insights_seconds(j.on_contact), insights_seconds(j.on_contact * j.online),
    insights_seconds(j.after_contact), insights_seconds(j.away), j.handled
FROM joined j LEFT JOIN teams t ON t.user_id = j.user_id
"""


def agent_rollup_window(*, start: datetime, end: datetime, now: datetime) -> int:
    """Re-compute the agent rows of the intervals in ``[start, end)`` (15-minute aligned), in the caller's
    transaction; returns the rows written."""
    if end <= start:
        return 0
    AgentRollup.objects.filter(interval_start__gte=start, interval_start__lt=end).delete()
    presence_sql, presence_params = queryset_sql(
        presence_spans(start=start, end=end, now=now).values(
            "user_id",  # type: ignore[misc]  # annotated by presence_spans
            "presence",
            "started_at",
            "until",
        )
    )
    # Only the contacts that reach the window (ended or released in it or after), through indexes:
    # an incremental run's few minutes read the contacts of those minutes, not a week of them.
    handled = interactions_handled_around(
        start=start, end=end, released_since_start=interactions_released_since(since=start)
    )
    contacts = interactions_with_routing(interactions=handled)
    contacts_sql, contacts_params = queryset_sql(
        contacts.values("agent_id", "answered_at", "ended_at", "released_at")  # type: ignore[misc]
    )
    teams_sql, teams_params = queryset_sql(first_team_of_users())
    statement = AGENT_ROLLUP_SQL.format(
        presence=presence_sql, contacts=contacts_sql, teams=teams_sql, table=AgentRollup._meta.db_table
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")  # it compiles for longer than the statement runs
        cursor.execute(statement, (start, end, *presence_params, *contacts_params, *teams_params))
        return cursor.rowcount
