"""Stage assignment: journey events (and new holdings) since the watermark → stage visits, set-based.

One run (``stages_refresh``) reads the facts past the watermark into a temporary table, matches
each to the first stage rule it meets (lowest ``precedence``, then id), adds the lapses that the
inactivity rule finds in the gaps between a customer's facts, collapses consecutive matches of the
same stage, closes each moved customer's open visit and inserts the new visits; then the
inactivity sweep lapses the customers whose last fact is older than the rule's days, and the
changed current stages are written back through records' ``customers_set_journey_stages``.

Facts are read by id up to the last one recorded ``CEA_JOURNEY_STAGE_LAG_SECONDS`` before the run
(ids follow inserts, not commits: a transaction still open that long is assumed gone). The
assignment's own ``stage.*`` events are never facts. A fact older than the customer's current
visit counts at the visit's start (history only moves forward). Re-running reads nothing new and
changes nothing; ``stages_rebuild`` starts again from the first event and gives the same visits as
the runs that led here (tests/insights/test_journey_assignment.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from insights.journeys.models import StageVisit, StageWatermark
from insights.kpis.intervals import queryset_sql
from records.customers.selectors import customers_in_a_journey_stage
from records.customers.services import customers_clear_journey_stages, customers_set_journey_stages
from records.holdings.selectors import holding_last_id, holdings_added_between
from records.journey.selectors import journey_events_between, journey_last_id

WATERMARK = "stages"

# A run's two working tables are made by its first batch and emptied and refilled by the next ones:
# dropping and creating them per batch would hold a lock per dropped table until the run commits,
# and a long backlog read in small batches ran out of PostgreSQL's lock table (max_locks_per_transaction).
FACTS_SELECT = """
SELECT f.*, row_number() OVER (ORDER BY f.customer_id, f.occurred_at, f.event_id NULLS FIRST) * 2 AS seq
FROM (
    SELECT e.event_id, e.customer_id, e.occurred_at, e.kind, e.channel, e.payload
    FROM ({events}) AS e (event_id, customer_id, occurred_at, kind, channel, payload)
    UNION ALL
    SELECT NULL::bigint, h.customer_id, h.created_at, 'holding.added', '', jsonb_build_object('holding_kind', h.kind)
    FROM ({holdings}) AS h (id, customer_id, created_at, kind)
) AS f
"""

RULES_CTE = """
rules AS (
    SELECT r.id, s.key AS stage_key, r.kind_like, r.channel, r.payload_key, r.holding_kind, r.precedence
    FROM insights_stagerule r JOIN insights_journeystage s ON s.id = r.stage_id
    WHERE r.active AND r.source <> 'inactivity'
),
lapse_rule AS (
    SELECT r.id, s.key AS stage_key, make_interval(days => r.inactivity_days) AS span
    FROM insights_stagerule r JOIN insights_journeystage s ON s.id = r.stage_id
    WHERE r.active AND r.source = 'inactivity' ORDER BY r.precedence, r.id LIMIT 1
)"""

# The moves of this run, one row per stage entered: facts matched to rules, lapses in the gaps,
# consecutive matches of one stage collapsed (the customer's open visit counts as the first).
ENTRIES_SELECT = f"""
WITH {RULES_CTE},
open AS (
    SELECT v.customer_id, v.stage_key, v.entered_at, v.last_activity_at FROM insights_stagevisit v
    WHERE v.left_at IS NULL AND v.customer_id IN (SELECT customer_id FROM journey_stage_facts)
),
hits AS (
    SELECT DISTINCT ON (f.seq) f.seq, f.customer_id, f.occurred_at AS at, f.event_id, r.id AS rule_id,
        r.stage_key, false AS is_lapse
    FROM journey_stage_facts f
    JOIN rules r ON f.kind LIKE r.kind_like AND (r.channel = '' OR f.channel = r.channel)
        AND (r.payload_key = '' OR f.payload ? r.payload_key)
        AND (r.holding_kind = '' OR f.payload ->> 'holding_kind' = r.holding_kind)
    ORDER BY f.seq, r.precedence, r.id
),
activity AS (
    SELECT f.seq, f.customer_id, f.occurred_at, GREATEST(
        max(f.occurred_at) OVER (
            PARTITION BY f.customer_id ORDER BY f.seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ),
        o.last_activity_at
    ) AS previous
    FROM journey_stage_facts f LEFT JOIN open o ON o.customer_id = f.customer_id
),
lapses AS (
    SELECT a.seq - 1 AS seq, a.customer_id, a.previous + l.span AS at, NULL::bigint AS event_id, l.id AS rule_id,
        l.stage_key, true AS is_lapse
    FROM activity a CROSS JOIN lapse_rule l
    WHERE a.previous IS NOT NULL AND a.occurred_at > a.previous + l.span
),
moves AS (
    SELECT m.*, o.stage_key AS open_stage, o.entered_at AS open_entered,
        lag(m.stage_key) OVER w AS previous_stage,
        count(*) FILTER (WHERE NOT m.is_lapse) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS staged
    FROM (SELECT * FROM hits UNION ALL SELECT * FROM lapses) AS m
    LEFT JOIN open o ON o.customer_id = m.customer_id
    WINDOW w AS (PARTITION BY m.customer_id ORDER BY m.seq)
)
SELECT customer_id, seq, GREATEST(at, open_entered) AS at, event_id, rule_id, stage_key
FROM moves
WHERE stage_key IS DISTINCT FROM COALESCE(previous_stage, open_stage)
    AND NOT (is_lapse AND open_stage IS NULL AND staged = 0)
"""  # noqa: S608 - constant SQL, nothing from input

CLOSE_OPEN_SQL = """
UPDATE insights_stagevisit v SET left_at = first.at
FROM (SELECT DISTINCT ON (customer_id) customer_id, at FROM journey_stage_entries ORDER BY customer_id, seq) AS first
WHERE v.customer_id = first.customer_id AND v.left_at IS NULL
"""

INSERT_VISITS_SQL = """
INSERT INTO insights_stagevisit (customer_id, stage_key, entered_at, left_at, event_id, rule_id, last_activity_at)
SELECT e.customer_id, e.stage_key, e.at, e.left_at, e.event_id, e.rule_id,
    CASE WHEN e.left_at IS NULL THEN latest.at END
FROM (
    SELECT *, lead(at) OVER (PARTITION BY customer_id ORDER BY seq) AS left_at FROM journey_stage_entries
) AS e
LEFT JOIN LATERAL (
    SELECT max(f.occurred_at) AS at FROM journey_stage_facts f WHERE f.customer_id = e.customer_id
) AS latest ON e.left_at IS NULL
"""

# The latest fact of the customers who stayed where they were (those who moved got it above).
ACTIVITY_SQL = """
UPDATE insights_stagevisit v SET last_activity_at = GREATEST(v.last_activity_at, latest.at)
FROM (
    SELECT f.customer_id, max(f.occurred_at) AS at FROM journey_stage_facts f
    WHERE NOT EXISTS (SELECT FROM journey_stage_entries e WHERE e.customer_id = f.customer_id)
    GROUP BY f.customer_id
) AS latest
WHERE v.customer_id = latest.customer_id AND v.left_at IS NULL
"""

# Customers silent for the inactivity rule's days lapse at their last fact plus those days.
SWEEP_CLOSE_SQL = f"""
WITH {RULES_CTE}
UPDATE insights_stagevisit v SET left_at = v.last_activity_at + l.span
FROM lapse_rule l
WHERE v.left_at IS NULL AND v.stage_key <> l.stage_key AND v.last_activity_at + l.span <= %(now)s
RETURNING v.customer_id, v.left_at, v.last_activity_at, l.id, l.stage_key
"""  # noqa: S608 - constant SQL, nothing from input

SWEEP_OPEN_SQL = """
INSERT INTO insights_stagevisit (customer_id, stage_key, entered_at, left_at, event_id, rule_id, last_activity_at)
SELECT * FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[], %s::timestamptz[], %s::bigint[], %s::bigint[],
    %s::timestamptz[])
"""

STAGELESS_SQL = """
SELECT c.id FROM ({staged}) AS c (id)
WHERE NOT EXISTS (SELECT FROM insights_stagevisit v WHERE v.customer_id = c.id AND v.left_at IS NULL)
"""

CURRENT_SQL = """
SELECT customer_id, stage_key, entered_at FROM insights_stagevisit
WHERE left_at IS NULL AND customer_id = ANY(%s::bigint[])
"""


@dataclass(frozen=True)
class StageRun:
    """What a run did: facts read, visits entered, customers whose current stage changed."""

    facts: int
    entries: int
    changed: int


def stages_refresh(*, now: datetime | None = None, batch: int | None = None) -> StageRun:
    """Assign stages from the facts past the watermark, in batches of ``batch`` event ids; idempotent.

    The watermark's row is locked for the run, so two runs never interleave.
    """
    now = now or timezone.now()
    batch = batch or settings.CEA_JOURNEY_STAGE_BATCH
    upto_before = now - timedelta(seconds=settings.CEA_JOURNEY_STAGE_LAG_SECONDS)
    facts = entries = changed = 0
    with transaction.atomic():
        watermark, _ = StageWatermark.objects.select_for_update().get_or_create(name=WATERMARK)
        last_event = journey_last_id(recorded_before=upto_before)
        last_holding = holding_last_id(created_before=upto_before)
        moved: set[int] = set()
        while True:
            upto_event = _batch_end(after=watermark.last_event_id, last=last_event, batch=batch)
            upto_holding = last_holding if upto_event == last_event else watermark.last_holding_id
            if upto_event == watermark.last_event_id and upto_holding == watermark.last_holding_id:
                break
            read, entered, customers = _assign(
                after_event=watermark.last_event_id,
                upto_event=upto_event,
                after_holding=watermark.last_holding_id,
                upto_holding=upto_holding,
            )
            facts, entries = facts + read, entries + entered
            moved |= customers
            watermark.last_event_id, watermark.last_holding_id = upto_event, upto_holding
        moved |= _sweep_inactive(now=now)
        changed = _write_back(customer_ids=moved)
        watermark.last_run_at = now
        watermark.last_changes = changed
        watermark.save()
    return StageRun(facts=facts, entries=entries, changed=changed)


def stages_rebuild(*, now: datetime | None = None, batch: int | None = None) -> StageRun:
    """Forget every visit and assign stages again from the first journey event (after a rule change).

    Customers whose stage no rule gives any more have it cleared.
    """
    with transaction.atomic():
        StageWatermark.objects.select_for_update().get_or_create(name=WATERMARK)
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE insights_stagevisit")
        StageWatermark.objects.filter(name=WATERMARK).update(last_event_id=0, last_holding_id=0)
        run = stages_refresh(now=now, batch=batch)
        staged_sql, staged_params = queryset_sql(customers_in_a_journey_stage().order_by().values_list("id"))
        with connection.cursor() as cursor:
            cursor.execute(STAGELESS_SQL.format(staged=staged_sql), staged_params)
            stageless = [row[0] for row in cursor.fetchall()]
        cleared = customers_clear_journey_stages(actor=None, customer_ids=stageless)
        return StageRun(facts=run.facts, entries=run.entries, changed=run.changed + cleared)


def _batch_end(*, after: int, last: int, batch: int) -> int:
    """The last event id of the batch after ``after``: ``batch`` ids from the next event recorded, so a run
    of ids without events (a purge; a test database's sequence) costs one look-up, not a batch per ``batch``
    ids."""
    following = journey_events_between(after_id=after, upto_id=last).order_by("id").values_list("id", flat=True).first()
    if following is None:
        return last
    return min(last, following - 1 + batch)


def _assign(*, after_event: int, upto_event: int, after_holding: int, upto_holding: int) -> tuple[int, int, set[int]]:
    events_sql, events_params = queryset_sql(
        journey_events_between(after_id=after_event, upto_id=upto_event)
        .exclude(kind__startswith="stage.")
        .order_by()
        .values_list("id", "customer_id", "occurred_at", "kind", "channel", "payload")
    )
    holdings_sql, holdings_params = queryset_sql(
        holdings_added_between(after_id=after_holding, upto_id=upto_holding)
        .order_by()
        .values_list("id", "customer_id", "created_at", "kind")
    )
    facts_select = FACTS_SELECT.format(events=events_sql, holdings=holdings_sql)
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('pg_temp.journey_stage_entries') IS NOT NULL")
        if cursor.fetchone()[0]:  # a later batch of the same run
            cursor.execute("TRUNCATE journey_stage_facts, journey_stage_entries")
            cursor.execute("INSERT INTO journey_stage_facts " + facts_select, events_params + holdings_params)
            facts = cursor.rowcount
            cursor.execute("ANALYZE journey_stage_facts")
            cursor.execute("INSERT INTO journey_stage_entries " + ENTRIES_SELECT)
            entries = cursor.rowcount
        else:
            cursor.execute(
                "CREATE TEMP TABLE journey_stage_facts ON COMMIT DROP AS " + facts_select,
                events_params + holdings_params,
            )
            facts = cursor.rowcount
            cursor.execute("ANALYZE journey_stage_facts")
            cursor.execute("CREATE TEMP TABLE journey_stage_entries ON COMMIT DROP AS " + ENTRIES_SELECT)
            entries = cursor.rowcount
            cursor.execute("CREATE INDEX ON journey_stage_facts (customer_id)")
        cursor.execute("ANALYZE journey_stage_entries")
        cursor.execute(CLOSE_OPEN_SQL)
        cursor.execute(INSERT_VISITS_SQL)
        cursor.execute(ACTIVITY_SQL)
        cursor.execute("SELECT DISTINCT customer_id FROM journey_stage_entries")
        customers = {row[0] for row in cursor.fetchall()}
    return facts, entries, customers


def _sweep_inactive(*, now: datetime) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(SWEEP_CLOSE_SQL, {"now": now})
        lapsed = cursor.fetchall()
        if lapsed:
            cursor.execute(
                SWEEP_OPEN_SQL,
                [
                    [row[0] for row in lapsed],
                    [row[4] for row in lapsed],
                    [row[1] for row in lapsed],
                    [None] * len(lapsed),
                    [None] * len(lapsed),
                    [row[3] for row in lapsed],
                    [row[2] for row in lapsed],
                ],
            )
    return {row[0] for row in lapsed}


def _write_back(*, customer_ids: set[int]) -> int:
    if not customer_ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(CURRENT_SQL, [sorted(customer_ids)])
        current = [(row[0], row[1], row[2]) for row in cursor.fetchall()]
    return customers_set_journey_stages(actor=None, stages=current)


def current_visits_count() -> int:
    """Customers with a current stage (for the command's summary)."""
    return StageVisit.objects.filter(left_at__isnull=True).count()
