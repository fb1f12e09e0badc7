"""The score of an evaluation, from its frozen questions and its answers (no database).

Each applicable question (not answered N/A) earns ``weight × fraction``: yes = 1, no = 0, a scale answer
``value / scale_max``. The score is the earned share of the applicable weight, in percent, rounded to one
decimal. Any auto-fail question answered "no" makes the evaluation failed with score 0, and the reason
names the question(s).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

YES, NO, NA = "yes", "no", "na"


@dataclass(frozen=True)
class ScoreResult:
    score: float | None
    failed: bool
    fail_reason: str
    problems: dict[str, list[str]] = field(default_factory=dict)


def answer_problem(question: Mapping[str, Any], answer: str) -> str | None:
    """Why ``answer`` is not a valid answer to ``question`` (``None`` if it is)."""
    if answer == NA:
        return None if question["allows_na"] else "This question cannot be answered N/A."
    if question["answer_type"] == "yes_no":
        return None if answer in (YES, NO) else "Answer yes, no or N/A."
    if answer.isascii() and answer.isdigit() and int(answer) <= question["scale_max"]:
        return None
    return f"Answer a whole number from 0 to {question['scale_max']}."


def answer_fraction(question: Mapping[str, Any], answer: str) -> float | None:
    """The share of the question's weight ``answer`` earns (``None``: N/A, it does not count)."""
    if answer == NA:
        return None
    if question["answer_type"] == "yes_no":
        return 1.0 if answer == YES else 0.0
    return int(answer) / question["scale_max"]


def score_answers(questions: Sequence[Mapping[str, Any]], answers: Mapping[int, str], *, complete: bool) -> ScoreResult:
    """Score ``answers`` (question id → answer) against ``questions``.

    ``complete``: every question must be answered (to submit); otherwise unanswered ones are skipped (a
    draft's running score). ``problems`` maps ``q<id>`` to what is wrong; with problems the score is ``None``.
    """
    problems: dict[str, list[str]] = {}
    known = {question["id"] for question in questions}
    for question_id in answers:
        if question_id not in known:
            problems[f"q{question_id}"] = ["This question is not on the scorecard version being used."]
    earned = applicable = 0.0
    failures: list[str] = []
    for question in questions:
        answer = answers.get(question["id"])
        if answer is None or answer == "":
            if complete:
                problems[f"q{question['id']}"] = ["Answer this question."]
            continue
        problem = answer_problem(question, answer)
        if problem:
            problems[f"q{question['id']}"] = [problem]
            continue
        fraction = answer_fraction(question, answer)
        if fraction is None:
            continue
        applicable += question["weight"]
        earned += question["weight"] * fraction
        if question["auto_fail"] and answer == NO:
            failures.append(question["text"])
    if complete and not problems and applicable == 0:
        problems["answers"] = ["At least one question must be answered other than N/A."]
    if problems:
        return ScoreResult(score=None, failed=False, fail_reason="", problems=problems)
    if failures:
        return ScoreResult(score=0.0, failed=True, fail_reason="Auto-fail: " + "; ".join(failures))
    score = round(100 * earned / applicable, 1) if applicable else None
    return ScoreResult(score=score, failed=False, fail_reason="")


def sections_of(questions: Sequence[Mapping[str, Any]]) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """The questions grouped by section, sections in the order of their first question."""
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for question in questions:
        grouped.setdefault(question["section"], []).append(question)
    return list(grouped.items())
