"""Quality assurance's part of a customer's personal data (registered in InsightsConfig.ready).

Evaluations of a customer's interactions hold free text that may quote the customer: the overall
comment, per-question comments, the agent's dispute reason and the resolution note. Export gives them;
erasure blanks them (in the evaluations' history copies too) and keeps the scores, answers and dates
(the agent's QA record stays true).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import transaction

from insights.quality.models import Evaluation, EvaluationAnswer

ERASED = ""


def _of_customer(customer_id: int):
    return Evaluation.objects.filter(interaction__customer_id=customer_id)


def export_for_customer(customer_id: int) -> list[dict[str, Any]]:
    """The evaluations of the customer's interactions, with their free text."""
    rows = []
    for evaluation in _of_customer(customer_id).prefetch_related("answers").order_by("id"):
        rows.append(
            {
                "evaluation": evaluation.pk,
                "interaction": evaluation.interaction_id,
                "status": evaluation.status,
                "score": evaluation.score,
                "submitted_at": evaluation.submitted_at.isoformat() if evaluation.submitted_at else None,
                "comment": evaluation.comment,
                "answer_comments": [
                    {"question": answer.question_id, "comment": answer.comment}
                    for answer in evaluation.answers.all()
                    if answer.comment
                ],
                "dispute_reason": evaluation.dispute_reason,
                "resolution_note": evaluation.resolution_note,
            }
        )
    return rows


def erase_for_customer(customer_id: int) -> int:
    """Blank the free text of the evaluations of the customer's interactions; returns how many rows
    (evaluations and answers) were anonymised. Idempotent."""
    with transaction.atomic():
        evaluations = _of_customer(customer_id)
        answers = EvaluationAnswer.objects.filter(evaluation__in=evaluations).exclude(comment=ERASED)
        erased_answers = answers.update(comment=ERASED)
        with_text = evaluations.exclude(comment=ERASED, dispute_reason=ERASED, resolution_note=ERASED)
        erased = with_text.update(comment=ERASED, dispute_reason=ERASED, resolution_note=ERASED)
        # The history copies (pghistory) hold the same text.
        history = apps.get_model("insights", "EvaluationEvent").objects.filter(pgh_obj__in=evaluations)
        history.exclude(comment=ERASED, dispute_reason=ERASED, resolution_note=ERASED).update(
            comment=ERASED, dispute_reason=ERASED, resolution_note=ERASED
        )
    return erased + erased_answers
