"""Survey figures, as one set-based query over the surveys (no loop over rows in a request).

How each is computed (stated on the report page and in docs/surveys.md):

- **Response rate** = responses ÷ surveys sent (sent = every survey that went out, answered or not).
- **CSAT** = satisfied CSAT responses (4 or 5) ÷ CSAT responses, in percent.
- **NPS** = promoters (9–10) in percent of NPS responses − detractors (0–6) in percent of them.
- **CES** = the average CES answer (1 very difficult … 7 very easy).

Each is ``None`` when its denominator is zero. The eNPS of the employee pulse is computed the same
way as NPS and shown only for a group of at least ``PULSE_MIN_GROUP`` answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone

from insights.access import FiguresScope
from insights.surveys.models import PulseAnswer, PulseParticipation, SkipReason, Survey, SurveyKind, SurveyStatus

PULSE_MIN_GROUP = 5
GROUPS = {"agent": "agent__username", "queue": "queue", "channel": "channel", "team": "team__name"}

_AGGREGATES: dict[str, Any] = {
    "sent": Count("id", filter=Q(status__in=[SurveyStatus.SENT, SurveyStatus.ANSWERED])),
    "responses": Count("id", filter=Q(status=SurveyStatus.ANSWERED)),
    "csat_responses": Count("id", filter=Q(status=SurveyStatus.ANSWERED, kind=SurveyKind.CSAT)),
    "csat_satisfied": Count("id", filter=Q(status=SurveyStatus.ANSWERED, kind=SurveyKind.CSAT, score__gte=4)),
    "nps_responses": Count("id", filter=Q(status=SurveyStatus.ANSWERED, kind=SurveyKind.NPS)),
    "promoters": Count("id", filter=Q(status=SurveyStatus.ANSWERED, kind=SurveyKind.NPS, score__gte=9)),
    "detractors": Count("id", filter=Q(status=SurveyStatus.ANSWERED, kind=SurveyKind.NPS, score__lte=6)),
    "ces_responses": Count("id", filter=Q(status=SurveyStatus.ANSWERED, kind=SurveyKind.CES)),
    "ces_average": Avg("score", filter=Q(status=SurveyStatus.ANSWERED, kind=SurveyKind.CES)),
    **{f"skipped_{reason}": Count("id", filter=Q(skip_reason=reason)) for reason in SkipReason.values},
}


@dataclass(frozen=True)
class SurveyFigures:
    key: str
    sent: int
    responses: int
    csat_responses: int
    csat_satisfied: int
    nps_responses: int
    promoters: int
    detractors: int
    ces_responses: int
    ces_average: float | None
    skipped: dict[str, int]

    @property
    def response_rate(self) -> float | None:
        return None if not self.sent else round(100 * self.responses / self.sent, 1)

    @property
    def csat(self) -> float | None:
        return None if not self.csat_responses else round(100 * self.csat_satisfied / self.csat_responses, 1)

    @property
    def nps(self) -> float | None:
        return nps_of(promoters=self.promoters, detractors=self.detractors, responses=self.nps_responses)

    @property
    def ces(self) -> float | None:
        return None if self.ces_average is None else round(self.ces_average, 2)


def nps_of(*, promoters: int, detractors: int, responses: int) -> float | None:
    """Promoters minus detractors, in percent of the responses (−100 … 100)."""
    return None if not responses else round(100 * (promoters - detractors) / responses, 1)


def _figures(key: str, row: dict[str, Any]) -> SurveyFigures:
    return SurveyFigures(
        key=key,
        sent=row["sent"],
        responses=row["responses"],
        csat_responses=row["csat_responses"],
        csat_satisfied=row["csat_satisfied"],
        nps_responses=row["nps_responses"],
        promoters=row["promoters"],
        detractors=row["detractors"],
        ces_responses=row["ces_responses"],
        ces_average=row["ces_average"],
        skipped={reason: row[f"skipped_{reason}"] for reason in SkipReason.values},
    )


def surveys_in_scope(*, scope: FiguresScope) -> QuerySet[Survey]:
    surveys = Survey.objects.all()
    if scope.team_ids is not None:
        surveys = surveys.filter(team_id__in=sorted(scope.team_ids))
    if scope.agent_id is not None:
        surveys = surveys.filter(agent_id=scope.agent_id)
    return surveys


def surveys_selected(
    *,
    scope: FiguresScope,
    start: date,
    end: date,
    queue: str = "",
    channel: str = "",
    team_id: int | None = None,
    agent_id: int | None = None,
) -> QuerySet[Survey]:
    """The surveys ``scope`` may read, created from ``start`` to ``end`` (inclusive days), filtered."""
    zone = timezone.get_current_timezone()
    surveys = surveys_in_scope(scope=scope).filter(
        created_at__gte=datetime.combine(start, time.min, zone),
        created_at__lt=datetime.combine(end + timedelta(days=1), time.min, zone),
    )
    if queue:
        surveys = surveys.filter(queue=queue)
    if channel:
        surveys = surveys.filter(channel=channel)
    if team_id is not None:
        surveys = surveys.filter(team_id=team_id)
    if agent_id is not None:
        surveys = surveys.filter(agent_id=agent_id)
    return surveys


@dataclass(frozen=True)
class SurveyReport:
    total: SurveyFigures
    groups: list[SurveyFigures]
    group_by: str


def survey_report(*, surveys: QuerySet[Survey], group_by: str = "agent") -> SurveyReport:
    total = _figures("all", surveys.aggregate(**_AGGREGATES))
    field = GROUPS[group_by]
    rows = surveys.values(field).annotate(**_AGGREGATES).order_by(field)
    groups = [_figures(str(row[field] or "—"), row) for row in rows]
    return SurveyReport(total=total, groups=groups, group_by=group_by)


def survey_responses(*, surveys: QuerySet[Survey], limit: int = 200) -> QuerySet[Survey]:
    """The latest answered surveys with what they are tied to (the report's comments table)."""
    return (
        surveys.filter(status=SurveyStatus.ANSWERED)
        .select_related("agent", "team", "interaction")
        .order_by("-responded_at", "-id")[:limit]
    )


def survey_answers_of(*, interactions: QuerySet[Any]) -> QuerySet[Survey]:
    """The CSAT and CES answers about ``interactions`` (the contacts a reader may see), with a customer."""
    return Survey.objects.filter(
        status=SurveyStatus.ANSWERED,
        kind__in=[SurveyKind.CSAT, SurveyKind.CES],
        customer__isnull=False,
        interaction__in=interactions.values("id"),
    )


# --- The employee pulse -----------------------------------------------------------------------


def pulse_answered(*, user_id: int | None, period: date) -> bool:
    """Whether the user answered the pulse of ``period`` (not what they answered: that is not kept)."""
    return user_id is not None and PulseParticipation.objects.filter(user_id=user_id, period=period).exists()


@dataclass(frozen=True)
class PulseFigures:
    key: str
    answers: int
    enps: float | None  # None when fewer than PULSE_MIN_GROUP answers: not shown

    @property
    def shown(self) -> bool:
        return self.answers >= PULSE_MIN_GROUP


def pulse_figures(*, period: date, team_ids: frozenset[int] | None) -> tuple[PulseFigures, list[PulseFigures]]:
    """eNPS of the month overall (of the teams read) and by team; a group of fewer than five answers
    shows no score (``enps=None``), so no one's answer can be told apart."""
    answers = PulseAnswer.objects.filter(period=period)
    if team_ids is not None:
        answers = answers.filter(team_id__in=sorted(team_ids))
    aggregates = {
        "answers": Count("id"),
        "promoters": Count("id", filter=Q(score__gte=9)),
        "detractors": Count("id", filter=Q(score__lte=6)),
    }

    def figures(key: str, row: dict[str, Any]) -> PulseFigures:
        enps = nps_of(promoters=row["promoters"], detractors=row["detractors"], responses=row["answers"])
        return PulseFigures(key=key, answers=row["answers"], enps=enps if row["answers"] >= PULSE_MIN_GROUP else None)

    total = figures("all", answers.aggregate(**aggregates))
    rows = answers.values("team__name").annotate(**aggregates).order_by("team__name")
    return total, [figures(row["team__name"] or "no team", row) for row in rows]
