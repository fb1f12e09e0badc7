"""Business hours only: keep the rollup rows whose 15-minute interval starts while it is open.

"Open" (docs/kpis.md, "Business hours only"):

- a contact row with a queue: its queue's business hours (``engagement.routing``); a queue without
  business hours, or one no longer configured, is always open;
- a row without a queue (agents' time, cases, contacts that never queued): its team's hours, open
  when at least one of the team's active queues is; a team with a queue that is always open, a team
  without an active queue, and a row without a team are always open.

An interval counts whole when its start is open (08:00–08:15 counts for a queue that opens at
08:00; 19:45–20:00 counts and 20:00–20:15 does not for one that closes at 20:00).

It is one SQL condition, evaluated by PostgreSQL on each rollup row: the open spans of each
scheduled queue and team are passed as arrays of multiranges (``tstzmultirange``) indexed by queue
name and team id, so the test is an array look-up and a multirange containment, never a Python
loop over rows. The spans cover the report's range only, which they are computed for.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

from cea.common.errors import ValidationFailed
from engagement.routing.hours import OpenSpan
from engagement.routing.selectors import scheduled_queue_spans, scheduled_team_spans
from insights.kpis.definitions import LEVEL_KPIS
from insights.kpis.models import ContactRollup

LABEL = "Business hours only"
EXPLANATION = (
    "Business hours only: figures count the 15-minute intervals that start while the contact's queue is open"
    " (agents' time, cases and contacts without a queue: while one of their team's queues is open)."
)


def _multirange(spans: list[OpenSpan]) -> str:
    return "{" + ",".join(f"[{span.start.isoformat()},{span.end.isoformat()})" for span in spans) + "}"


def _open_test(table: str, column: str, key_type: str) -> str:
    """True when the row's interval starts in the spans of its key; true too when the key has none listed."""
    return (
        f'COALESCE((%s::text[]::tstzmultirange[])[array_position(%s::{key_type}[], {table}."{column}")]'
        f' @> {table}."interval_start", TRUE)'
    )


def _arrays(spans: Mapping[Any, list[OpenSpan]]) -> tuple[list[str], list[Any]]:
    keys = sorted(spans)
    return [_multirange(spans[key]) for key in keys], keys


def business_hours_condition(*, model: type[Any], start: datetime, end: datetime) -> RawSQL:
    """A boolean expression for ``model.objects.filter``: the rows of ``model`` (a contact, agent or case
    rollup with ``interval_start`` and ``team_id``) whose interval starts while it is open, between
    ``start`` and ``end``."""
    table = f'"{model._meta.db_table}"'
    team_spans, team_ids = _arrays(scheduled_team_spans(start=start, end=end))
    team_test = _open_test(table, "team_id", "bigint")
    if model is not ContactRollup:
        return RawSQL(team_test, [team_spans, team_ids], output_field=BooleanField())  # noqa: S611 - values as parameters
    queue_spans, queue_names = _arrays(scheduled_queue_spans(start=start, end=end))
    queue_test = _open_test(table, "queue", "text")
    sql = f"""CASE WHEN {table}."queue" <> '' THEN {queue_test} ELSE {team_test} END"""
    params = [queue_spans, queue_names, team_spans, team_ids]
    return RawSQL(sql, params, output_field=BooleanField())  # noqa: S611 - names from the model, values as parameters


def business_hours_check(*, kpis: list[str]) -> None:
    """``ValidationFailed`` when one of ``kpis`` cannot be restricted to business hours: a level (the case
    backlog) is a balance carried from interval to interval, not a count of what happened in them."""
    levels = [name for name in kpis if name in LEVEL_KPIS]
    if levels:
        raise ValidationFailed(
            "The KPI series request is invalid.",
            fields={
                "business_hours_only": f"{', '.join(levels)} is a level, not a count: it has no business-hours figure."
            },
        )
