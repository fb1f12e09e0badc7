"""Business hours only: keep the rollup rows whose 15-minute interval starts while it is open.

"Open" (docs/kpis.md, "Business hours only"):

- a contact row with a queue: its queue's business hours (``engagement.routing``); a queue without
  business hours, or one no longer configured, is always open;
- a row without a queue (agents' time, cases, contacts that never queued): its team's hours, open
  when at least one of the team's active queues is; a team with a queue that is always open, a team
  without an active queue, and a row without a team are always open.

An interval counts whole when its start is open (08:00–08:15 counts for a queue that opens at
08:00; 19:45–20:00 counts and 20:00–20:15 does not for one that closes at 20:00).

It is one SQL condition (``OpenAt``), evaluated by PostgreSQL on each rollup row (and on each
interaction, for the contacts behind a figure): the open spans of each scheduled queue and team are
passed as arrays of multiranges (``tstzmultirange``) indexed by queue name and team id, so the test
is an array look-up and a multirange containment, never a Python loop over rows. The spans cover
the report's range only, which they are computed for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import BooleanField, DateTimeField, F, Func, Value

from cea.common.errors import ValidationFailed
from engagement.routing.hours import OpenSpan
from engagement.routing.selectors import scheduled_spans
from insights.kpis.definitions import LEVEL_KPIS
from insights.kpis.intervals import EPOCH, GRAIN
from insights.kpis.models import ContactRollup

EXPLANATION = (
    "Business hours only: figures count the 15-minute intervals that start while the contact's queue is open"
    " (agents' time, cases and contacts without a queue: while one of their team's queues is open)."
)


def _multirange(spans: list[OpenSpan]) -> str:
    return "{" + ",".join(f"[{span.start.isoformat()},{span.end.isoformat()})" for span in spans) + "}"


def _arrays(spans: Mapping[Any, list[OpenSpan]]) -> tuple[list[str], list[Any]]:
    keys = sorted(spans)
    return [_multirange(spans[key]) for key in keys], keys


class OpenAt(Func):
    """Whether the instant ``at`` is open for a row of ``queue`` (a name, '' for none) and ``team`` (an id):
    the queue's hours when it has a queue, its team's otherwise; true when neither has any listed.

    The spans are the queues' and teams' open spans (``engagement.routing.selectors.scheduled_spans``)
    as PostgreSQL arrays of multiranges indexed by name and id, so the test is an array look-up and a
    containment; the values are parameters, the SQL is the expressions' own.
    """

    output_field = BooleanField()

    def __init__(
        self,
        *,
        queue: Any,
        team: Any,
        at: Any,
        queues: Mapping[str, list[OpenSpan]],
        teams: Mapping[int, list[OpenSpan]],
    ) -> None:
        super().__init__(queue, team, at)
        self.queue_arrays, self.team_arrays = _arrays(queues), _arrays(teams)

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        (queue, queue_params), (team, team_params), (at, at_params) = (
            compiler.compile(expression) for expression in self.get_source_expressions()
        )
        # The spans' cast is stable, not immutable (a time zone setting could change it), so PostgreSQL
        # would parse them again on every row; an uncorrelated sub-select is computed once (an InitPlan).
        lookup = "COALESCE((SELECT %s::text[]::tstzmultirange[])[array_position(%s::{kind}[], {key})] @> {at}, TRUE)"
        sql = (
            f"CASE WHEN {queue} <> '' THEN {lookup.format(kind='text', key=queue, at=at)}"
            f" ELSE {lookup.format(kind='bigint', key=team, at=at)} END"
        )
        params = [
            *queue_params,
            *self.queue_arrays,
            *queue_params,
            *at_params,
            *self.team_arrays,
            *team_params,
            *at_params,
        ]
        return sql, params


def quarter_hour_of(expression: Any) -> Func:
    """The start of the 15-minute interval (UTC grid) holding the instant ``expression``: the rollups'
    ``interval_start``."""
    return Func(
        Value(GRAIN),
        expression,
        Value(EPOCH),
        function="date_bin",
        output_field=DateTimeField(),
    )


@dataclass(frozen=True)
class OpenSpans:
    """The open spans of every scheduled queue (by name) and team (by id) over a report's range."""

    queues: Mapping[str, list[OpenSpan]]
    teams: Mapping[int, list[OpenSpan]]


def open_spans(*, start: datetime, end: datetime) -> OpenSpans:
    """The scheduled queues' and teams' open spans between ``start`` and ``end``: read once per report,
    for each rollup it sums."""
    queues, teams = scheduled_spans(start=start, end=end)
    return OpenSpans(queues=queues, teams=teams)


def business_hours_condition(*, model: type[Any], spans: OpenSpans) -> OpenAt:
    """A boolean expression for ``model.objects.filter``: the rows of ``model`` (a contact, agent or case
    rollup with ``interval_start`` and ``team_id``) whose interval starts while open (``spans``, the
    report's range)."""
    return OpenAt(
        queue=F("queue") if model is ContactRollup else Value(""),
        team=F("team_id"),
        at=F("interval_start"),
        queues=spans.queues,
        teams=spans.teams,
    )


def contacts_in_business_hours(*, counted_at: Any, start: datetime, end: datetime) -> OpenAt:
    """A boolean expression for interactions (``queue``, ``team_id``) counted at ``counted_at``: those whose
    interval is in business hours, as ``business_hours_condition`` keeps their rollup rows."""
    spans = open_spans(start=start, end=end)
    return OpenAt(
        queue=F("queue"), team=F("team_id"), at=quarter_hour_of(counted_at), queues=spans.queues, teams=spans.teams
    )


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
