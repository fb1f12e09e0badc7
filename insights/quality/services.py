"""Quality assurance's writes: scorecard versions, evaluations (draft → submitted → acknowledged or
disputed → resolved), calibration sessions. Each checks who acts, validates, then saves atomically."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from cea.accounts.models import User
from cea.accounts.types import Actor
from cea.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from cea.common.pii import redact_text
from insights.quality.access import (
    access_interaction_to_evaluate,
    may_evaluate_team,
    require_agent_of,
    require_evaluator,
)
from insights.quality.models import (
    AnswerType,
    CalibrationSession,
    Evaluation,
    EvaluationAnswer,
    EvaluationStatus,
    SampleItem,
    Scorecard,
)
from insights.quality.scoring import score_answers
from records.access import row_id

MAX_COMMENT = 4000


# --- Scorecards ------------------------------------------------------------------------------


def question_problems(question: Mapping[str, Any]) -> dict[str, list[str]]:
    """What is wrong with one question's fields (text, weight, answer type, scale, auto-fail)."""
    problems: dict[str, list[str]] = {}
    if not str(question.get("text", "")).strip():
        problems["text"] = ["Write the question."]
    if not str(question.get("section", "")).strip():
        problems["section"] = ["Name the section the question belongs to."]
    weight = question.get("weight")
    if not isinstance(weight, int) or weight <= 0:
        problems["weight"] = ["The weight must be a whole number greater than 0."]
    if question.get("answer_type") == AnswerType.SCALE:
        scale_max = question.get("scale_max")
        if not isinstance(scale_max, int) or not 1 <= scale_max <= 10:
            problems["scale_max"] = ["A scale goes from 0 to a top of 1 to 10."]
        if question.get("auto_fail"):
            problems["auto_fail"] = ["Only a yes/no question can be an auto-fail item."]
    return problems


def scorecard_problems(*, questions: Iterable[Mapping[str, Any]]) -> list[str]:
    """Scorecard-wide problems: at least one question."""
    return [] if list(questions) else ["A scorecard needs at least one question."]


def scorecard_snapshot(scorecard: Scorecard) -> list[dict[str, Any]]:
    """The scorecard's questions as an evaluation keeps them (its version's frozen copy)."""
    return [
        {
            "id": question.pk,
            "section": question.section,
            "order": question.order,
            "text": question.text,
            "weight": question.weight,
            "answer_type": question.answer_type,
            "scale_max": question.scale_max,
            "allows_na": question.allows_na,
            "auto_fail": question.auto_fail,
        }
        for question in scorecard.questions.order_by("order", "id")
    ]


def scorecard_questions_changed(*, scorecard: Scorecard) -> Scorecard:
    """Called after a scorecard's questions changed: when evaluations (or calibration sessions) already use
    its current version, the scorecard gets a new version (theirs keep the frozen copy they were scored
    with). Locks the scorecard row."""
    with transaction.atomic():
        locked = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
        used = (
            locked.evaluations.filter(scorecard_version=locked.version).exists()
            or locked.calibrations.filter(scorecard_version=locked.version).exists()
        )
        if used:
            locked.version += 1
            locked.save(update_fields=["version", "updated_at"])
    scorecard.version = locked.version
    return locked


def _usable_scorecard(scorecard_id: object) -> Scorecard:
    pk = row_id(scorecard_id)
    scorecard = Scorecard.objects.filter(pk=pk, is_active=True).first() if pk is not None and pk < 2**63 else None
    if scorecard is None:
        raise ValidationFailed("Choose an active scorecard.", fields={"scorecard": "No active scorecard with this id."})
    if not scorecard.questions.exists():
        raise ValidationFailed("This scorecard has no questions yet.", fields={"scorecard": "It has no questions."})
    return scorecard


# --- Evaluations -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerInput:
    answer: str
    comment: str = ""


def evaluation_start(*, actor: Actor, interaction_id: object, scorecard_id: object) -> Evaluation:
    """A draft evaluation of the interaction by ``actor`` with the scorecard's current version; the
    actor's open draft of the same interaction and scorecard is returned instead when there is one."""
    interaction = access_interaction_to_evaluate(actor, interaction_id)
    scorecard = _usable_scorecard(scorecard_id)
    evaluator = actor if isinstance(actor, User) else None
    with transaction.atomic():
        draft = Evaluation.objects.filter(
            interaction=interaction,
            scorecard=scorecard,
            evaluator=evaluator,
            calibration__isnull=True,
            status=EvaluationStatus.DRAFT,
        ).first()
        if draft is not None:
            return draft
        return Evaluation.objects.create(
            interaction=interaction,
            agent_id=interaction.agent_id,
            team_id=interaction.team_id,
            queue=interaction.queue,
            evaluator=evaluator,
            scorecard=scorecard,
            scorecard_version=scorecard.version,
            questions=scorecard_snapshot(scorecard),
        )


def evaluation_create(
    *,
    actor: Actor,
    interaction_id: object,
    scorecard_id: object,
    answers: Mapping[Any, AnswerInput],
    comment: str = "",
    submit: bool = False,
) -> Evaluation:
    """Start (or resume) the draft and save the answers in one transaction: refused answers leave nothing."""
    with transaction.atomic():
        evaluation = evaluation_start(actor=actor, interaction_id=interaction_id, scorecard_id=scorecard_id)
        return evaluation_save(actor=actor, evaluation=evaluation, answers=answers, comment=comment, submit=submit)


def _clean_answers(answers: Mapping[Any, AnswerInput]) -> dict[int, AnswerInput]:
    cleaned: dict[int, AnswerInput] = {}
    for key, given in answers.items():
        pk = row_id(key)
        if pk is None:
            raise ValidationFailed(
                "Answers are keyed by question id.", fields={"answers": f"{key!r} is no question id."}
            )
        if len(given.comment) > MAX_COMMENT:
            raise ValidationFailed("A comment is too long.", fields={f"q{pk}": f"At most {MAX_COMMENT} characters."})
        cleaned[pk] = AnswerInput(answer=given.answer.strip().lower(), comment=redact_text(given.comment.strip()))
    return cleaned


def _write_answers(evaluation: Evaluation, answers: Mapping[int, AnswerInput]) -> None:
    for question_id, given in answers.items():
        if given.answer == "" and not given.comment:
            evaluation.answers.filter(question_id=question_id).delete()
            continue
        EvaluationAnswer.objects.update_or_create(
            evaluation=evaluation,
            question_id=question_id,
            defaults={"answer": given.answer, "comment": given.comment},
        )


def _stored_answers(evaluation: Evaluation) -> dict[int, str]:
    return {row.question_id: row.answer for row in evaluation.answers.all() if row.answer}


def evaluation_save(
    *,
    actor: Actor,
    evaluation: Evaluation,
    answers: Mapping[Any, AnswerInput],
    comment: str | None = None,
    submit: bool = False,
) -> Evaluation:
    """Save a draft's answers (question id → answer and comment) and overall comment; ``submit`` scores
    it and makes it final. Only the evaluator (or an admin) writes a draft; a submitted evaluation is
    ``Conflict``. Invalid answers are ``ValidationFailed`` with a message per question, and nothing is
    written. Locks the evaluation row."""
    cleaned = _clean_answers(answers)
    if comment is not None and len(comment) > MAX_COMMENT:
        raise ValidationFailed("The comment is too long.", fields={"comment": f"At most {MAX_COMMENT} characters."})
    with transaction.atomic():
        locked = Evaluation.objects.select_for_update().get(pk=evaluation.pk)
        _require_evaluator_of(actor, locked)
        if locked.status != EvaluationStatus.DRAFT:
            raise Conflict("A submitted evaluation cannot be changed (only through a dispute).", code="submitted")
        merged = {**_stored_answers(locked), **{pk: given.answer for pk, given in cleaned.items()}}
        merged = {pk: answer for pk, answer in merged.items() if answer}
        result = score_answers(locked.questions, merged, complete=submit)
        if result.problems:
            raise ValidationFailed("Some answers need attention.", fields=result.problems)
        _write_answers(locked, cleaned)
        if comment is not None:
            locked.comment = redact_text(comment.strip())
        locked.score, locked.failed, locked.fail_reason = result.score, result.failed, result.fail_reason
        fields = ["comment", "score", "failed", "fail_reason"]
        if submit:
            locked.status = EvaluationStatus.SUBMITTED
            locked.submitted_at = timezone.now()
            fields += ["status", "submitted_at"]
        locked.save(update_fields=fields)
        if submit and locked.calibration_id is None:
            SampleItem.objects.filter(interaction_id=locked.interaction_id, evaluation__isnull=True).update(
                evaluation=locked
            )
    return locked


def _require_evaluator_of(actor: Actor, evaluation: Evaluation) -> None:
    """A draft is its evaluator's (who must still supervise the interaction's team)."""
    if actor is None:
        return
    if evaluation.evaluator_id != getattr(actor, "pk", None):
        raise PermissionDenied("Only the evaluator may change this draft.")
    if evaluation.calibration_id is None:
        require_evaluator(actor, evaluation.team_id)


def evaluation_acknowledge(*, actor: Actor, evaluation: Evaluation) -> Evaluation:
    """The agent has read the evaluation (submitted, or its dispute resolved). Locks the row."""
    with transaction.atomic():
        locked = Evaluation.objects.select_for_update().get(pk=evaluation.pk)
        require_agent_of(actor, locked)
        if locked.status not in (EvaluationStatus.SUBMITTED,):
            raise Conflict(f"This evaluation is {locked.get_status_display().lower()}: nothing to acknowledge.")
        locked.status = EvaluationStatus.ACKNOWLEDGED
        locked.acknowledged_at = timezone.now()
        locked.save(update_fields=["status", "acknowledged_at"])
    return locked


def evaluation_dispute(*, actor: Actor, evaluation: Evaluation, reason: str) -> Evaluation:
    """The agent disputes a submitted evaluation, saying why (required). Locks the row."""
    reason = reason.strip()
    if not reason:
        raise ValidationFailed("Say why you dispute the evaluation.", fields={"reason": "A reason is required."})
    if len(reason) > MAX_COMMENT:
        raise ValidationFailed("The reason is too long.", fields={"reason": f"At most {MAX_COMMENT} characters."})
    with transaction.atomic():
        locked = Evaluation.objects.select_for_update().get(pk=evaluation.pk)
        require_agent_of(actor, locked)
        if locked.status != EvaluationStatus.SUBMITTED:
            raise Conflict(f"This evaluation is {locked.get_status_display().lower()}: it cannot be disputed now.")
        locked.status = EvaluationStatus.DISPUTED
        locked.disputed_at = timezone.now()
        locked.dispute_reason = redact_text(reason)
        locked.save(update_fields=["status", "disputed_at", "dispute_reason"])
    return locked


def evaluation_resolve_dispute(
    *,
    actor: Actor,
    evaluation: Evaluation,
    upheld: bool,
    note: str,
    answers: Mapping[Any, AnswerInput] | None = None,
) -> Evaluation:
    """A supervisor of the team (or an admin) resolves a dispute: upheld, with amended ``answers`` that are
    re-scored (the score before is kept in ``original_score``), or rejected. The note is required.
    Locks the row."""
    note = note.strip()
    if not note:
        raise ValidationFailed("Say how the dispute was resolved.", fields={"note": "A note is required."})
    cleaned = _clean_answers(answers or {})
    if cleaned and not upheld:
        raise ValidationFailed("Only an upheld dispute amends answers.", fields={"answers": "Leave them unchanged."})
    with transaction.atomic():
        locked = Evaluation.objects.select_for_update().get(pk=evaluation.pk)
        require_evaluator(actor, locked.team_id)
        if locked.status != EvaluationStatus.DISPUTED:
            raise Conflict("This evaluation is not disputed.")
        fields = ["status", "resolved_by", "resolved_at", "resolution_note"]
        if cleaned:
            merged = {**_stored_answers(locked), **{pk: given.answer for pk, given in cleaned.items()}}
            result = score_answers(locked.questions, merged, complete=True)
            if result.problems:
                raise ValidationFailed("Some answers need attention.", fields=result.problems)
            _write_answers(locked, cleaned)
            locked.original_score = locked.score
            locked.score, locked.failed, locked.fail_reason = result.score, result.failed, result.fail_reason
            fields += ["original_score", "score", "failed", "fail_reason"]
        locked.status = EvaluationStatus.DISPUTE_UPHELD if upheld else EvaluationStatus.DISPUTE_REJECTED
        locked.resolved_by = actor if isinstance(actor, User) else None
        locked.resolved_at = timezone.now()
        locked.resolution_note = redact_text(note)
        locked.save(update_fields=fields)
    return locked


# --- Calibration -----------------------------------------------------------------------------


def calibration_create(
    *, actor: Actor, interaction_id: object, scorecard_id: object, evaluator_ids: Iterable[object]
) -> CalibrationSession:
    """A calibration session on an interaction ``actor`` may evaluate, for at least two evaluators who
    each may evaluate it too; each gets a draft evaluation of the same scorecard version."""
    interaction = access_interaction_to_evaluate(actor, interaction_id)
    scorecard = _usable_scorecard(scorecard_id)
    ids = sorted({pk for pk in (row_id(value) for value in evaluator_ids) if pk is not None and pk < 2**63})
    evaluators = list(User.objects.filter(pk__in=ids, is_active=True))
    if len(evaluators) != len(ids):
        raise NotFound("One of the evaluators does not exist.")
    if len(evaluators) < 2:
        raise ValidationFailed("Name at least two evaluators.", fields={"evaluators": "At least two."})
    refused = [
        str(user)
        for user in evaluators
        if not may_evaluate_team(user, interaction.team_id) or user.pk == interaction.agent_id
    ]
    if refused:
        raise ValidationFailed(
            "Every evaluator must be allowed to evaluate the interaction.",
            fields={"evaluators": f"Not a supervisor of its team, or its agent: {', '.join(refused)}."},
        )
    questions = scorecard_snapshot(scorecard)
    with transaction.atomic():
        session = CalibrationSession.objects.create(
            interaction=interaction,
            team_id=interaction.team_id,
            scorecard=scorecard,
            scorecard_version=scorecard.version,
            questions=questions,
            created_by=actor if isinstance(actor, User) else None,
        )
        session.evaluators.set(evaluators)
        for user in evaluators:
            Evaluation.objects.create(
                interaction=interaction,
                agent_id=interaction.agent_id,
                team_id=interaction.team_id,
                queue=interaction.queue,
                evaluator=user,
                scorecard=scorecard,
                scorecard_version=scorecard.version,
                questions=questions,
                calibration=session,
            )
    return session
