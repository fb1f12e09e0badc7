"""Reads of the journey stages: the journey map's figures per persona and a customer's stage history.

Every figure is computed in SQL from ``StageVisit`` rows (and, for channels and sentiment, the
customers' interactions during each visit); docs/journeys.md defines them. Selectors read without
checking: callers pass the customers a user may see (``records.access.customers_visible_to``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db.models import QuerySet

from cea.common.replica import reading_connection
from insights.journeys.models import JourneyStage, StageVisit
from insights.kpis.intervals import queryset_sql
from insights.surveys.selectors import survey_answers_of
from records.customers.models import Customer
from records.interactions.models import Interaction

_VISITS = """
WITH cust AS (
    SELECT c.id, c.persona,
        CASE WHEN jsonb_typeof(c.scores -> 'sentiment') = 'number' THEN (c.scores ->> 'sentiment')::float END AS score
    FROM ({customers}) AS c (id, persona, scores) WHERE %s::text IS NULL OR c.persona = %s
),
v AS (
    SELECT v.id, v.customer_id, v.stage_key, v.entered_at, v.left_at, cust.score,
        lead(v.stage_key) OVER (PARTITION BY v.customer_id ORDER BY v.entered_at, v.id) AS next_stage
    FROM insights_stagevisit v JOIN cust ON cust.id = v.customer_id
)"""

STAGE_SQL = (
    _VISITS
    + """
SELECT stage_key, count(*), count(*) FILTER (WHERE left_at IS NULL),
    percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM left_at - entered_at))
        FILTER (WHERE left_at IS NOT NULL),
    avg(score) FILTER (WHERE left_at IS NULL)
FROM v GROUP BY stage_key
"""
)

FLOW_SQL = _VISITS + " SELECT stage_key, next_stage, count(*) FROM v WHERE next_stage IS NOT NULL GROUP BY 1, 2"  # noqa: S608

# Each contact during a visit: its channel, sentiment and whether the visit ended by moving forward.
CHANNEL_SQL = (
    _VISITS  # noqa: S608 - constant SQL; the selectors' querysets are formatted in, their parameters apart
    + """,
contacts AS (SELECT i.customer_id, i.channel, i.started_at, i.sentiment
    FROM ({interactions}) AS i (customer_id, channel, started_at, sentiment))
SELECT v.stage_key, i.channel, count(*), avg(i.sentiment), count(i.sentiment),
    count(*) FILTER (WHERE nxt."order" > cur."order" AND NOT nxt.is_drop_off)
FROM v
JOIN contacts i ON i.customer_id = v.customer_id AND i.started_at >= v.entered_at
    AND (v.left_at IS NULL OR i.started_at < v.left_at)
JOIN insights_journeystage cur ON cur.key = v.stage_key
LEFT JOIN insights_journeystage nxt ON nxt.key = v.next_stage
GROUP BY 1, 2
"""
)

# The survey answers (CSAT and CES) of contacts during each visit: satisfaction and effort by stage.
SURVEY_SQL = (
    _VISITS  # noqa: S608 - constant SQL; the selectors' querysets are formatted in, their parameters apart
    + """,
answers AS (SELECT a.customer_id, a.kind, a.score, a.started_at
    FROM ({answers}) AS a (customer_id, kind, score, started_at))
SELECT v.stage_key,
    count(*) FILTER (WHERE a.kind = 'csat'), count(*) FILTER (WHERE a.kind = 'csat' AND a.score >= 4),
    count(*) FILTER (WHERE a.kind = 'ces'), avg(a.score) FILTER (WHERE a.kind = 'ces')
FROM v
JOIN answers a ON a.customer_id = v.customer_id AND a.started_at >= v.entered_at
    AND (v.left_at IS NULL OR a.started_at < v.left_at)
GROUP BY 1
"""
)

PERSONAS_SQL = (
    "SELECT c.persona, count(DISTINCT c.id) FROM ({customers}) AS c (id, persona, scores)"
    " JOIN insights_stagevisit v ON v.customer_id = c.id AND v.left_at IS NULL GROUP BY 1 ORDER BY 1"
)


@dataclass
class ChannelFigures:
    channel: str
    contacts: int
    sentiment: float | None
    sentiment_contacts: int
    moved_forward: int

    @property
    def effectiveness(self) -> float | None:
        """Share of contacts on this channel in this stage whose visit ended by moving forward."""
        return self.moved_forward / self.contacts if self.contacts else None


STAGE_FIELDS = ("key", "name", "order", "is_drop_off", "needs", "emotions", "touchpoints")


@dataclass
class StageFigures:
    key: str
    name: str
    order: int
    is_drop_off: bool
    needs: str
    emotions: str
    touchpoints: str
    entered: int = 0
    current: int = 0
    median_seconds: float | None = None
    customer_sentiment: float | None = None
    moved_forward: int = 0
    moved_back: int = 0
    dropped_off: int = 0
    channels: list[ChannelFigures] = field(default_factory=list)
    csat_responses: int = 0
    csat_satisfied: int = 0
    ces_responses: int = 0
    ces_average: float | None = None

    @property
    def satisfaction(self) -> float | None:
        """CSAT of the contacts during the stage: answers of 4 or 5 ÷ CSAT answers × 100."""
        return 100 * self.csat_satisfied / self.csat_responses if self.csat_responses else None

    @property
    def effort(self) -> float | None:
        """The average CES answer (1 very difficult … 7 very easy) of the contacts during the stage."""
        return self.ces_average

    @property
    def median_days(self) -> float | None:
        return self.median_seconds / 86400 if self.median_seconds is not None else None

    @property
    def conversion(self) -> float | None:
        """Visits that moved forward to a later stage (not a drop-off stage), over visits entered."""
        return self.moved_forward / self.entered if self.entered else None

    @property
    def drop_off(self) -> float | None:
        return self.dropped_off / self.entered if self.entered else None

    @property
    def sentiment(self) -> float | None:
        known = [(c.sentiment, c.sentiment_contacts) for c in self.channels if c.sentiment is not None]
        total = sum(n for _, n in known)
        return sum(s * n for s, n in known) / total if total else None


@dataclass
class JourneyMap:
    persona: str | None
    stages: list[StageFigures]
    flows: list[tuple[str, str, int]]
    personas: list[tuple[str, int]]
    surveys: bool = False

    @property
    def channel_rows(self) -> list[tuple[StageFigures, ChannelFigures]]:
        """Each stage's channels, stage by stage (the "stages by channel" table)."""
        return [(stage, channel) for stage in self.stages for channel in stage.channels]

    def as_dict(self) -> dict[str, Any]:
        return {
            "persona": self.persona,
            "personas": [{"persona": key, "customers": count} for key, count in self.personas],
            "satisfaction_and_effort": "from surveys" if self.surveys else "no surveys yet",
            "stages": [
                {
                    "key": s.key,
                    "name": s.name,
                    "order": s.order,
                    "is_drop_off": s.is_drop_off,
                    "entered": s.entered,
                    "current": s.current,
                    "median_seconds_in_stage": s.median_seconds,
                    "moved_forward": s.moved_forward,
                    "moved_back": s.moved_back,
                    "dropped_off": s.dropped_off,
                    "conversion": s.conversion,
                    "drop_off": s.drop_off,
                    "sentiment": s.sentiment,
                    "customer_sentiment_score": s.customer_sentiment,
                    "satisfaction": s.satisfaction,
                    "effort": s.effort,
                    "channels": [
                        {
                            "channel": c.channel,
                            "contacts": c.contacts,
                            "sentiment": c.sentiment,
                            "moved_forward": c.moved_forward,
                            "effectiveness": c.effectiveness,
                        }
                        for c in s.channels
                    ],
                }
                for s in self.stages
            ],
            "flows": [{"from_stage": a, "to_stage": b, "visits": n} for a, b, n in self.flows],
        }


def journey_map(
    *, customers: QuerySet[Customer], interactions: QuerySet[Interaction], persona: str | None
) -> JourneyMap:
    """The journey map of ``customers`` with ``persona`` (``None``: all; ``""``: those without one).

    ``interactions`` are the contacts the reader may see (channels, sentiment and effectiveness).
    """
    customers_sql, customers_params = queryset_sql(customers.order_by().values_list("id", "persona", "scores"))
    interactions_sql, interactions_params = queryset_sql(
        interactions.order_by().values_list("customer_id", "channel", "started_at", "sentiment")
    )
    head = (*customers_params, persona, persona)
    stages = {row["key"]: StageFigures(**row) for row in JourneyStage.objects.values(*STAGE_FIELDS)}
    with reading_connection().cursor() as cursor:  # the replica in a report's scope
        cursor.execute(STAGE_SQL.format(customers=customers_sql), head)
        for key, entered, current, median, score in cursor.fetchall():
            if key in stages:
                stages[key].entered, stages[key].current = entered, current
                stages[key].median_seconds = float(median) if median is not None else None
                stages[key].customer_sentiment = float(score) if score is not None else None
        cursor.execute(FLOW_SQL.format(customers=customers_sql), head)
        flows = [(row[0], row[1], row[2]) for row in cursor.fetchall()]
        cursor.execute(
            CHANNEL_SQL.format(customers=customers_sql, interactions=interactions_sql), head + interactions_params
        )
        for key, channel, contacts, sentiment, with_sentiment, forward in cursor.fetchall():
            if key in stages:
                stages[key].channels.append(
                    ChannelFigures(
                        channel=channel,
                        contacts=contacts,
                        sentiment=float(sentiment) if sentiment is not None else None,
                        sentiment_contacts=with_sentiment,
                        moved_forward=forward,
                    )
                )
        surveyed = False
        for key, csat_responses, csat_satisfied, ces_responses, ces_average in _survey_rows(
            cursor, customers_sql=customers_sql, head=head, interactions=interactions
        ):
            surveyed = True
            if key in stages:
                stages[key].csat_responses, stages[key].csat_satisfied = csat_responses, csat_satisfied
                stages[key].ces_responses = ces_responses
                stages[key].ces_average = float(ces_average) if ces_average is not None else None
        cursor.execute(PERSONAS_SQL.format(customers=customers_sql), customers_params)
        personas = [(row[0], row[1]) for row in cursor.fetchall()]
    _count_moves(stages, flows)
    flows.sort(key=lambda flow: (stages[flow[0]].order if flow[0] in stages else 0, -flow[2]))
    ordered = sorted(stages.values(), key=lambda s: (s.order, s.key))
    for stage in ordered:
        stage.channels.sort(key=lambda c: (-c.contacts, c.channel))
    return JourneyMap(persona=persona, stages=ordered, flows=flows, personas=personas, surveys=surveyed)


def _survey_rows(
    cursor: Any, *, customers_sql: str, head: tuple[Any, ...], interactions: QuerySet[Interaction]
) -> list[tuple[Any, ...]]:
    """Per stage: CSAT answers, satisfied ones, CES answers and their average (``SURVEY_SQL``)."""
    try:
        answers_sql, answers_params = queryset_sql(
            survey_answers_of(interactions=interactions)
            .order_by()
            .values_list("customer_id", "kind", "score", "interaction__started_at")
        )
    except EmptyResultSet:  # the reader may see no contacts: no answers either
        return []
    cursor.execute(SURVEY_SQL.format(customers=customers_sql, answers=answers_sql), head + answers_params)
    return list(cursor.fetchall())


def _count_moves(stages: dict[str, StageFigures], flows: list[tuple[str, str, int]]) -> None:
    for source, target, visits in flows:
        if source not in stages or target not in stages:
            continue
        if stages[target].is_drop_off:
            stages[source].dropped_off += visits
        elif stages[target].order > stages[source].order:
            stages[source].moved_forward += visits
        else:
            stages[source].moved_back += visits


def customer_stage_history(*, customer_id: int) -> list[StageVisit]:
    """A customer's stage visits, newest first."""
    return list(StageVisit.objects.filter(customer_id=customer_id).order_by("-entered_at", "-id"))


def stage_names() -> dict[str, str]:
    """Stage key → name, for pages that show keys."""
    return dict(JourneyStage.objects.values_list("key", "name"))
