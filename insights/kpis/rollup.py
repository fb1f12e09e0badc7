"""The contact rollup: one named SQL statement from interactions to ``ContactRollup`` rows.

``CONTACT_ROLLUP_SQL`` reads the contact facts (records' interactions, annotated with routing's
work items by engagement's selectors), routing's flow-outs and each queue's service-level settings,
and inserts one row per 15-minute interval and dimensions with additive counts and sums. The
interval of a contact is the one it was first queued in (its start, when it never queued). A
contact that flowed out of queues counts in each as queued and flowed out, and in the queue it
ended in as any contact (docs/kpis.md, "Flow-outs").

Runs are idempotent: a run deletes the intervals it re-computes and inserts them again in one
transaction, so re-running a window gives the same rows. ``contact_rollup_refresh`` finds the
intervals touched by interactions changed since its watermark (less the look-back
``CEA_INSIGHTS_ROLLUP_LOOKBACK_SECONDS``, which catches rows committed late and corrections) and
the intervals of earlier contacts a new one repeats (their first-contact resolution changed);
``contact_rollup_rebuild`` re-computes everything from a date on.

Each run then sums the contact rows it wrote into ``QueueRollup`` (per interval, queue, channel
and formula) and re-sums the UTC hours holding them into ``QueueHourRollup`` from all four of each
hour's quarters: the coarser tables the report selector reads when they answer the question.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min, QuerySet
from django.utils import timezone

from engagement.routing.selectors import (
    interaction_flow_outs,
    interactions_with_routing,
    queue_service_level_settings,
)
from insights.kpis.agents import agent_rollup_window
from insights.kpis.cases import case_intervals_changed, case_rollup_intervals
from insights.kpis.intervals import GRAIN, hour_floor, interval_floor, queryset_sql
from insights.kpis.models import AgentRollup, CaseRollup, ContactRollup, QueueHourRollup, QueueRollup, RollupWatermark
from records.interactions.models import Interaction
from records.interactions.selectors import interaction_facts, interactions_changed, interactions_repeated_by

WATERMARK = "contacts"
# Contacts queue at most this long after they start (self-service before the queue): the facts of
# an interval are read from the interactions started from this long before it (docs/kpis.md).
SELF_SERVICE_SPAN = timedelta(hours=2)
FACT_COLUMNS = (
    "id",
    "customer_id",
    "channel",
    "direction",
    "queue",
    "team_id",
    "agent_id",
    "wrap_up_code",
    "disposition",
    "started_at",
    "answered_at",
    "ended_at",
    "customer_tier",
    "contained",
    "repeated",
    "first_enqueued_at",
    "transferred",
    "released_at",
    "satisfaction",
)
ROLLUP_COLUMNS = (
    "interval_start",
    "queue",
    "channel",
    "team_id",
    "agent_id",
    "wrap_up_code",
    "customer_tier",
    "sl_variant",
    "contacts",
    "inbound",
    "queued",
    "answered",
    "handled",
    "abandoned",
    "short_abandoned",
    "callbacks",
    "answered_within",
    "abandoned_within",
    "callbacks_within",
    "flowed_out",
    "sl_numerator",
    "sl_denominator",
    "transferred",
    "contained",
    "fcr_eligible",
    "fcr_resolved",
    "answer_wait_seconds",
    "abandon_wait_seconds",
    "talk_seconds",
    "hold_seconds",
    "acw_seconds",
    "csat_responses",
    "csat_satisfied",
)

# {facts} and {queues} are the selectors' SQL; {where} picks the intervals written. Defaults for a
# queue name no Queue has (imported history): Connect's formula, 20 s target, 5 s short abandons.
CONTACT_ROLLUP_SQL = """
WITH facts AS ({facts}),
queues AS ({queues}),
flow_outs AS ({flow_outs}),
-- A contact that flowed out counts in each queue it left (queued there, flowed out, neither answered
-- nor abandoned there) and, as every contact, in its last queue (docs/kpis.md, "Flow-outs").
flow_legs AS (
    SELECT interaction_id, queue, flowed_out_at, true AS is_flowed_out FROM flow_outs
    UNION ALL
    SELECT DISTINCT interaction_id, final_queue, NULL::timestamptz, false FROM flow_outs
),
legs AS (
    SELECT f.id, f.customer_id, f.channel, f.direction, f.team_id, f.disposition, f.started_at,
        f.customer_tier, f.repeated, f.first_enqueued_at,
        COALESCE(l.is_flowed_out, false) AS is_flowed_out,
        COALESCE(l.queue, f.queue) AS queue,
        CASE WHEN l.is_flowed_out THEN NULL ELSE f.agent_id END AS agent_id,
        CASE WHEN l.is_flowed_out THEN '' ELSE f.wrap_up_code END AS wrap_up_code,
        CASE WHEN l.is_flowed_out THEN NULL ELSE f.answered_at END AS answered_at,
        CASE WHEN l.is_flowed_out THEN l.flowed_out_at ELSE f.ended_at END AS ended_at,
        CASE WHEN l.is_flowed_out THEN false ELSE f.contained END AS contained,
        CASE WHEN l.is_flowed_out THEN false ELSE f.transferred END AS transferred,
        CASE WHEN l.is_flowed_out THEN NULL ELSE f.released_at END AS released_at,
        CASE WHEN l.is_flowed_out THEN NULL ELSE f.satisfaction END AS satisfaction
    FROM facts f LEFT JOIN flow_legs l ON l.interaction_id = f.id
),
contacts AS (
    SELECT f.*,
        COALESCE(f.first_enqueued_at, f.started_at) AS anchor_at,
        COALESCE(f.contained, false) AS is_contained,
        -- Routing's transfers, or a disposition recorded as such (imported history, the demo).
        (f.transferred OR f.disposition = 'transferred') AS is_transferred,
        (f.direction = 'inbound' AND NOT COALESCE(f.contained, false)
            AND (f.queue <> '' OR f.first_enqueued_at IS NOT NULL)) AS is_queued,
        COALESCE(q.service_level_seconds, 20) AS target,
        COALESCE(q.short_abandon_seconds, 5) AS short_threshold,
        COALESCE(q.service_level_formula, 'connect') AS formula,
        COALESCE(q.sl_counts_answered_after_target, true) AS t_after,
        COALESCE(q.sl_counts_abandons, true) AS t_abandons,
        COALESCE(q.sl_excludes_short_abandons, false) AS t_short,
        COALESCE(q.sl_counts_flow_outs, false) AS t_flowouts
    FROM legs f LEFT JOIN queues q ON q.name = f.queue
),
outcomes AS (
    SELECT c.*,
        date_bin('15 minutes', c.anchor_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS interval_start,
        (c.is_queued AND c.answered_at IS NOT NULL) AS is_answered,
        (c.is_queued AND c.answered_at IS NULL AND NOT c.is_flowed_out AND c.disposition = 'callback') AS is_callback,
        (c.is_queued AND c.answered_at IS NULL AND NOT c.is_flowed_out AND c.disposition <> 'callback')
            AS is_abandoned,
        GREATEST(0, EXTRACT(EPOCH FROM COALESCE(c.answered_at, c.ended_at) - c.anchor_at))::float8 AS wait,
        (c.answered_at IS NOT NULL) AS is_handled,
        CASE WHEN c.formula = 'connect' THEN 'connect/' || c.target || 's'
            ELSE 'genesys/' || c.target || 's/'
                || CASE WHEN c.t_after THEN '+after' ELSE '-after' END
                || CASE WHEN c.t_abandons THEN '+abandons' ELSE '-abandons' END
                || CASE WHEN c.t_short THEN '-short<' || c.short_threshold || 's' ELSE '+short' END
                || CASE WHEN c.t_flowouts THEN '+flowouts' ELSE '-flowouts' END
        END AS sl_variant
    FROM contacts c
),
marked AS (
    SELECT o.*,
        (o.wait <= o.target) AS within,
        (o.is_abandoned AND o.wait < o.short_threshold) AS is_short
    FROM outcomes o
)
INSERT INTO {table} ({columns})
SELECT interval_start, queue, channel, team_id, agent_id, wrap_up_code, COALESCE(customer_tier, ''), sl_variant,
    count(*) FILTER (WHERE NOT is_flowed_out),
    count(*) FILTER (WHERE direction = 'inbound' AND NOT is_flowed_out),
    count(*) FILTER (WHERE is_queued),
    count(*) FILTER (WHERE is_answered),
    count(*) FILTER (WHERE is_handled),
    count(*) FILTER (WHERE is_abandoned),
    count(*) FILTER (WHERE is_short),
    count(*) FILTER (WHERE is_callback),
    count(*) FILTER (WHERE is_answered AND within),
    count(*) FILTER (WHERE is_abandoned AND within),
    count(*) FILTER (WHERE is_callback AND within),
    count(*) FILTER (WHERE is_flowed_out),
    -- Connect: removed from the queue within the target (answered, abandoned, callback); a flow-out is
    -- queued, not removed.
    count(*) FILTER (WHERE CASE WHEN formula = 'connect' THEN is_queued AND within AND NOT is_flowed_out
        ELSE is_answered AND within END),
    count(*) FILTER (WHERE CASE WHEN formula = 'connect' THEN is_queued
        ELSE (is_answered AND within) OR (t_after AND is_answered AND NOT within)
            OR (t_abandons AND is_abandoned AND NOT (t_short AND is_short)) OR (t_flowouts AND is_flowed_out) END),
    count(*) FILTER (WHERE is_handled AND is_transferred),
    count(*) FILTER (WHERE direction = 'inbound' AND is_contained),
    count(*) FILTER (WHERE is_handled AND customer_id IS NOT NULL AND wrap_up_code <> ''),
    count(*) FILTER (WHERE is_handled AND customer_id IS NOT NULL AND wrap_up_code <> '' AND NOT repeated),
    COALESCE(sum(wait) FILTER (WHERE is_answered), 0),
    COALESCE(sum(wait) FILTER (WHERE is_abandoned), 0),
    COALESCE(sum(EXTRACT(EPOCH FROM ended_at - answered_at)) FILTER (WHERE is_handled), 0),
    0,
    COALESCE(sum(GREATEST(0, EXTRACT(EPOCH FROM released_at - ended_at))) FILTER (WHERE is_handled), 0),
    -- The customer's CSAT answer (insights' surveys write it on the interaction): 4 or 5 is satisfied.
    count(*) FILTER (WHERE satisfaction IS NOT NULL),
    count(*) FILTER (WHERE satisfaction >= 4)
FROM marked
WHERE {where}
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
"""

# The intervals a set of contacts counts in; {anchored} selects their start and first enqueue time.
INTERVALS_SQL = """
SELECT DISTINCT date_bin('15 minutes', COALESCE(first_enqueued_at, started_at), TIMESTAMPTZ '2000-01-01 00:00:00+00')
FROM ({anchored}) AS anchored
"""

# The coarser rollup a report by queue and channel reads: the contact rows summed. {where} as above.
QUEUE_ROLLUP_SQL = """
INSERT INTO {queue_table} (interval_start, queue, channel, sl_variant, {counts})
SELECT interval_start, queue, channel, sl_variant, {sums}
FROM {contact_table} WHERE {where}
GROUP BY 1, 2, 3, 4
"""
COUNT_COLUMNS = ROLLUP_COLUMNS[8:]

# The hourly rollup: whole UTC hours of the queue rollup, each re-summed from all four of its
# quarters (those re-computed and those kept), so an hour is right whichever of its quarters
# changed. {where} picks the quarters read: every quarter of the hours written.
QUEUE_HOUR_ROLLUP_SQL = """
INSERT INTO {hour_table} (interval_start, queue, channel, sl_variant, {counts})
SELECT date_bin('1 hour', interval_start, TIMESTAMPTZ '2000-01-01 00:00:00+00'), queue, channel, sl_variant, {sums}
FROM {queue_table} WHERE {where}
GROUP BY 1, 2, 3, 4
"""

# PostgreSQL's JIT compiles these wide statements for longer than they run (0.7 s of 0.78 s for
# 20,000 contacts): off for the rest of the run's transaction.
NO_JIT = "SET LOCAL jit = off"


@dataclass(frozen=True)
class RollupRun:
    """What one run did: the intervals re-computed and the rows written."""

    intervals: int
    rows: int
    changed_until: datetime


def _started_ranges(intervals: list[datetime]) -> list[tuple[datetime, datetime]]:
    """The start times whose contacts may count in ``intervals`` (sorted), merged into ranges."""
    ranges: list[tuple[datetime, datetime]] = []
    for interval in intervals:
        low, high = interval - SELF_SERVICE_SPAN, interval + GRAIN
        if ranges and low <= ranges[-1][1]:
            ranges[-1] = (ranges[-1][0], high)
        else:
            ranges.append((low, high))
    return ranges


def _queue_hours(*, hours: list[datetime] | None, since: datetime | None) -> None:
    """Re-sum the hourly rollup's ``hours`` (else every hour from ``since``, else all) from the queue rollup."""
    hours_written = QueueHourRollup.objects.all()
    params: tuple[Any, ...]
    if hours is not None:
        hours_written = hours_written.filter(interval_start__in=hours)
        quarters = [hour + quarter * GRAIN for hour in hours for quarter in range(4)]
        where, params = "interval_start = ANY(%s)", (quarters,)
    elif since is not None:
        hours_written = hours_written.filter(interval_start__gte=hour_floor(since))
        where, params = "interval_start >= %s", (hour_floor(since),)
    else:
        where, params = "true", ()
    hours_written.delete()
    statement = QUEUE_HOUR_ROLLUP_SQL.format(
        hour_table=QueueHourRollup._meta.db_table,
        queue_table=QueueRollup._meta.db_table,
        counts=", ".join(COUNT_COLUMNS),
        sums=", ".join(f"sum({column})" for column in COUNT_COLUMNS),
        where=where,
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _insert(*, started_ranges: list[tuple[datetime, datetime]], where: str, where_params: tuple) -> int:
    """Insert the rollup rows of the intervals ``where`` picks, from interactions started in the ranges."""
    interactions = interaction_facts(started_ranges=started_ranges, repeat_days=settings.CEA_INSIGHTS_FCR_DAYS)
    facts = interactions_with_routing(interactions=interactions)
    facts_sql, facts_params = queryset_sql(facts.order_by().values(*FACT_COLUMNS))
    queues_sql, queues_params = queryset_sql(queue_service_level_settings())
    flow_outs_sql, flow_outs_params = queryset_sql(interaction_flow_outs(interactions=interactions).order_by())
    statement = CONTACT_ROLLUP_SQL.format(
        facts=facts_sql,
        queues=queues_sql,
        flow_outs=flow_outs_sql,
        table=ContactRollup._meta.db_table,
        columns=", ".join(ROLLUP_COLUMNS),
        where=where,
    )
    queue_statement = QUEUE_ROLLUP_SQL.format(
        queue_table=QueueRollup._meta.db_table,
        contact_table=ContactRollup._meta.db_table,
        counts=", ".join(COUNT_COLUMNS),
        sums=", ".join(f"sum({column})" for column in COUNT_COLUMNS),
        where=where,
    )
    with connection.cursor() as cursor:
        cursor.execute(NO_JIT)
        cursor.execute(statement, facts_params + queues_params + flow_outs_params + where_params)
        rows = cursor.rowcount
        cursor.execute(queue_statement, where_params)
        return rows


def _intervals_of(interactions: QuerySet[Interaction]) -> list[datetime]:
    """The intervals the contacts of ``interactions`` count in (their first queueing, else their start)."""
    anchored = (
        interactions_with_routing(interactions=interactions)
        .order_by()
        .values(
            "started_at",
            "first_enqueued_at",  # type: ignore[misc]  # annotated by interactions_with_routing
        )
    )
    sql, params = queryset_sql(anchored)
    with connection.cursor() as cursor:
        cursor.execute(INTERVALS_SQL.format(anchored=sql), params)
        return sorted(row[0] for row in cursor.fetchall())


def contact_rollup_intervals(*, intervals: list[datetime]) -> int:
    """Re-compute these 15-minute intervals (delete and insert, in the caller's transaction); rows written."""
    if not intervals:
        return 0
    ContactRollup.objects.filter(interval_start__in=intervals).delete()
    QueueRollup.objects.filter(interval_start__in=intervals).delete()
    rows = _insert(
        started_ranges=_started_ranges(sorted(intervals)),
        where="interval_start = ANY(%s)",
        where_params=(list(intervals),),
    )
    _queue_hours(hours=sorted({hour_floor(interval) for interval in intervals}), since=None)
    return rows


def _analyze_rollups() -> None:
    """Fresh planner statistics for the tables a rebuild rewrote (ANALYZE sees this transaction's rows).

    Without them the report's statement right after a rebuild planned for an empty hourly table: a
    bitmap scan and an on-disk sort, 330 ms instead of an index scan in order (bench/insights.py at
    10 million interactions), until autovacuum came by.
    """
    tables = ", ".join(
        model._meta.db_table for model in (ContactRollup, QueueRollup, QueueHourRollup, AgentRollup, CaseRollup)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


@transaction.atomic
def contact_rollup_rebuild(*, since: datetime | None = None, now: datetime | None = None) -> RollupRun:
    """Re-compute every interval from ``since`` (all of them when None) and move the watermark to now."""
    now = now or timezone.now()
    watermark, _ = RollupWatermark.objects.select_for_update().get_or_create(name=WATERMARK)
    if since is None:
        ContactRollup.objects.all().delete()
        QueueRollup.objects.all().delete()
        first = Interaction.objects.order_by("started_at").values_list("started_at", flat=True).first()
        start = interval_floor(first) if first is not None else interval_floor(now)
    else:
        start = interval_floor(since)
        ContactRollup.objects.filter(interval_start__gte=start).delete()
        QueueRollup.objects.filter(interval_start__gte=start).delete()
    rows = _insert(
        started_ranges=[(start - SELF_SERVICE_SPAN, now + GRAIN)],
        where="interval_start >= %s",
        where_params=(start,),
    )
    _queue_hours(hours=None, since=None if since is None else start)
    agent_rollup_window(start=start, end=interval_floor(now) + GRAIN, now=now)
    case_rollup_intervals(intervals=None, since=None if since is None else start)
    _analyze_rollups()
    intervals = ContactRollup.objects.filter(interval_start__gte=start).values("interval_start").distinct().count()
    watermark.changed_until = now
    watermark.last_run_at = now
    watermark.last_intervals = intervals
    watermark.save()
    return RollupRun(intervals=intervals, rows=rows, changed_until=now)


@transaction.atomic
def contact_rollup_refresh(*, now: datetime | None = None) -> RollupRun:
    """Roll up what changed since the watermark (less the look-back); the first run rebuilds everything.

    The watermark's row is locked for the run, so two runs never interleave.
    """
    now = now or timezone.now()
    watermark, _ = RollupWatermark.objects.select_for_update().get_or_create(name=WATERMARK)
    if watermark.changed_until is None:
        return contact_rollup_rebuild(now=now)
    after = watermark.changed_until - timedelta(seconds=settings.CEA_INSIGHTS_ROLLUP_LOOKBACK_SECONDS)
    changed = interactions_changed(after=after, until=now)
    repeated = interactions_repeated_by(interactions=changed, repeat_days=settings.CEA_INSIGHTS_FCR_DAYS)
    intervals = sorted(set(_intervals_of(changed)) | set(_intervals_of(repeated)))
    rows = contact_rollup_intervals(intervals=intervals)
    # Agents' time: the look-back window (presence rows are written as they happen; the open one
    # grows until now), from the earliest answer among the contacts that changed.
    agents_from = interval_floor(after)
    earliest_answer = changed.filter(agent__isnull=False).aggregate(first=Min("answered_at"))["first"]
    if earliest_answer is not None:
        agents_from = min(agents_from, interval_floor(earliest_answer))
    agent_rollup_window(start=agents_from, end=interval_floor(now) + GRAIN, now=now)
    case_rollup_intervals(intervals=case_intervals_changed(after=after, until=now))
    watermark.changed_until = now
    watermark.last_run_at = now
    watermark.last_intervals = len(intervals)
    watermark.save()
    return RollupRun(intervals=len(intervals), rows=rows, changed_until=now)
