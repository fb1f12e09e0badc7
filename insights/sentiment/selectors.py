"""The sentiment report: interactions' sentiment distribution and average by queue, agent, team, channel
and day; and the recent strongly negative turns. Set-wise SQL over ``Interaction``; the caller passes
the scope it checked (``insights.access.figures_scope``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet
from django.db.models.functions import TruncDate

from insights.access import FiguresScope
from insights.sentiment.analyzer import NEGATIVE_FROM, POSITIVE_FROM
from insights.sentiment.models import NegativeTurn
from records.interactions.models import Interaction
from records.interactions.selectors import interactions_for_report

DIMENSIONS = {
    "queue": ("queue", "queue"),
    "agent": ("agent_id", "agent__username"),
    "team": ("team_id", "team__name"),
    "channel": ("channel", "channel"),
    "day": ("day", "day"),
}
ALERTS_LIMIT = 100


@dataclass(frozen=True)
class SentimentRow:
    key: str
    label: str
    interactions: int
    scored: int
    average: float | None
    positive: int
    neutral: int
    negative: int

    @property
    def not_scored(self) -> int:
        return self.interactions - self.scored

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "interactions": self.interactions,
            "scored": self.scored,
            "not_scored": self.not_scored,
            "average": self.average,
            "positive": self.positive,
            "neutral": self.neutral,
            "negative": self.negative,
        }


def _figures() -> dict[str, Any]:
    return {
        "interactions": Count("id"),
        "scored": Count("sentiment"),
        "average": Avg("sentiment"),
        "positive": Count("id", filter=Q(sentiment__gte=POSITIVE_FROM)),
        "negative": Count("id", filter=Q(sentiment__lte=NEGATIVE_FROM)),
        "neutral": Count("id", filter=Q(sentiment__gt=NEGATIVE_FROM, sentiment__lt=POSITIVE_FROM)),
    }


def _row(key: str, label: str, figures: dict[str, Any]) -> SentimentRow:
    average = figures["average"]
    return SentimentRow(
        key=key,
        label=label,
        interactions=figures["interactions"],
        scored=figures["scored"],
        average=round(float(average), 4) if average is not None else None,
        positive=figures["positive"],
        neutral=figures["neutral"],
        negative=figures["negative"],
    )


def _interactions(scope: FiguresScope, start: dt.datetime, end: dt.datetime) -> QuerySet[Interaction]:
    return interactions_for_report(
        started_from=start, started_before=end, team_ids=scope.team_ids, agent_id=scope.agent_id
    ).order_by()


def sentiment_by(*, scope: FiguresScope, dimension: str, start: dt.datetime, end: dt.datetime) -> list[SentimentRow]:
    """One row per value of ``dimension`` (``DIMENSIONS``), the most negative average first (days in order)."""
    key, label = DIMENSIONS[dimension]
    rows = _interactions(scope, start, end)
    if dimension == "day":
        rows = rows.annotate(day=TruncDate("started_at"))
    grouped = rows.values(key, label).annotate(**_figures())
    result = [_row(str(row[key] if row[key] is not None else ""), str(row[label] or "—"), row) for row in grouped]
    if dimension == "day":
        return sorted(result, key=lambda row: row.key)
    return sorted(result, key=lambda row: (row.average is None, row.average or 0.0, row.label))


def sentiment_total(*, scope: FiguresScope, start: dt.datetime, end: dt.datetime) -> SentimentRow:
    return _row("", "All", _interactions(scope, start, end).aggregate(**_figures()))


def negative_turns(*, scope: FiguresScope, start: dt.datetime, end: dt.datetime) -> list[NegativeTurn]:
    """The strongly negative turns (the supervisor alerts) of ``[start, end)``, newest first."""
    rows = NegativeTurn.objects.filter(at__gte=start, at__lt=end)
    if scope.team_ids is not None:
        rows = rows.filter(team_id__in=sorted(scope.team_ids))
    if scope.agent_id is not None:
        rows = rows.filter(agent_id=scope.agent_id)
    return list(rows.select_related("team", "agent", "customer")[:ALERTS_LIMIT])
