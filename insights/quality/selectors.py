"""Quality assurance's reads: reports of scores, calibration results. They do not check who asks: the
caller passes the scope it got from ``insights.quality.access``."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Count, F, Q, QuerySet
from django.db.models.functions import TruncWeek

from insights.quality.models import CalibrationSession, Evaluation, EvaluationStatus, Scorecard
from insights.quality.scoring import answer_fraction

DISPUTED = [EvaluationStatus.DISPUTED, EvaluationStatus.DISPUTE_UPHELD, EvaluationStatus.DISPUTE_REJECTED]
REPORT_GROUPS = {"agent": "agent__username", "team": "team__name", "queue": "queue", "week": "week"}


def scorecards_active() -> QuerySet[Scorecard]:
    return Scorecard.objects.filter(is_active=True).prefetch_related("questions")


def evaluations_submitted(
    *, team_ids: Collection[int] | None, agent_id: int | None, start: dt.date | None = None, end: dt.date | None = None
) -> QuerySet[Evaluation]:
    """Submitted evaluations (not calibration) of ``team_ids``/``agent_id`` (``None``: no limit), submitted
    on days ``[start, end]``."""
    rows = Evaluation.objects.filter(calibration__isnull=True, submitted_at__isnull=False)
    if team_ids is not None:
        rows = rows.filter(team_id__in=sorted(team_ids))
    if agent_id is not None:
        rows = rows.filter(agent_id=agent_id)
    if start is not None:
        rows = rows.filter(submitted_at__date__gte=start)
    if end is not None:
        rows = rows.filter(submitted_at__date__lte=end)
    return rows


def quality_report(*, evaluations: QuerySet[Evaluation], group_by: str) -> list[dict[str, Any]]:
    """QA figures per ``group_by`` (agent, team, queue, week): evaluations, mean score, auto-fail rate and
    dispute rate (shares of the evaluations, 0–1). Set-based: one grouped query."""
    if group_by not in REPORT_GROUPS:
        raise ValueError(f"Unknown grouping {group_by!r}.")
    rows = evaluations.annotate(week=TruncWeek("submitted_at")).annotate(key=F(REPORT_GROUPS[group_by]))
    grouped = (
        rows.values("key")
        .annotate(
            evaluations=Count("id"),
            mean_score=Avg("score"),
            auto_fails=Count("id", filter=Q(failed=True)),
            disputes=Count("id", filter=Q(status__in=DISPUTED)),
        )
        .order_by("key")
    )
    report = []
    for row in grouped:
        key = row["key"]
        report.append(
            {
                "key": key.date().isoformat() if isinstance(key, dt.datetime) else (key or "—"),
                "evaluations": row["evaluations"],
                "mean_score": round(row["mean_score"], 1) if row["mean_score"] is not None else None,
                "auto_fail_rate": round(row["auto_fails"] / row["evaluations"], 3),
                "dispute_rate": round(row["disputes"] / row["evaluations"], 3),
            }
        )
    return report


@dataclass(frozen=True)
class QuestionSpread:
    question: dict[str, Any]
    answers: list[tuple[str, str]]  # (evaluator, answer)
    agree: bool
    spread: float | None  # max − min of the answers' fractions of the weight (N/A left out)


@dataclass(frozen=True)
class CalibrationResults:
    scores: list[tuple[str, float | None, bool, str]]  # (evaluator, score, failed, status)
    submitted: int
    mean: float | None
    minimum: float | None
    maximum: float | None
    std_dev: float | None
    questions: list[QuestionSpread]


def calibration_results(*, session: CalibrationSession) -> CalibrationResults:
    """Each evaluator's score (drafts show no score), and over the submitted ones: mean, min, max,
    population standard deviation, and per question the answers with whether they agree."""
    evaluations = list(session.evaluations.select_related("evaluator").prefetch_related("answers").order_by("id"))
    done = [evaluation for evaluation in evaluations if evaluation.status != EvaluationStatus.DRAFT]
    values: Sequence[float] = [evaluation.score for evaluation in done if evaluation.score is not None]
    scores = [
        (
            str(evaluation.evaluator),
            evaluation.score if evaluation in done else None,
            evaluation.failed,
            evaluation.get_status_display(),
        )
        for evaluation in evaluations
    ]
    spreads = []
    for question in session.questions:
        answers = []
        fractions = []
        for evaluation in done:
            given = next((a.answer for a in evaluation.answers.all() if a.question_id == question["id"]), "")
            answers.append((str(evaluation.evaluator), given))
            fraction = answer_fraction(question, given) if given else None
            if fraction is not None:
                fractions.append(fraction)
        distinct = {answer for _, answer in answers}
        spread = round(max(fractions) - min(fractions), 3) if fractions else None
        spreads.append(QuestionSpread(question=question, answers=answers, agree=len(distinct) <= 1, spread=spread))
    return CalibrationResults(
        scores=scores,
        submitted=len(done),
        mean=round(statistics.fmean(values), 1) if values else None,
        minimum=min(values) if values else None,
        maximum=max(values) if values else None,
        std_dev=round(statistics.pstdev(values), 1) if values else None,
        questions=spreads,
    )


def evaluation_answers(evaluation: Evaluation) -> dict[int, Any]:
    """The evaluation's answers by question id."""
    return {row.question_id: row for row in evaluation.answers.all()}
