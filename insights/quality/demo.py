"""The demo's quality assurance: the default scorecard, the last two weeks sampled, and a few
evaluations by the teams' supervisors (one auto-failed, one acknowledged, one disputed)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from cea.accounts.models import User
from cea.common.roles import Role
from insights.quality.defaults import scorecard_default_ensure
from insights.quality.models import Evaluation, SampleItem
from insights.quality.sampling import sample_week, week_start_of
from insights.quality.services import (
    AnswerInput,
    evaluation_acknowledge,
    evaluation_create,
    evaluation_dispute,
)

DEMO_EVALUATIONS = 6
# Answers by question order: (greeting, verification, resolution 0–5, expectations, empathy 0–5, disclosure)
DEMO_ANSWERS = (
    ("yes", "yes", "5", "yes", "4", "yes"),
    ("yes", "yes", "3", "na", "3", "yes"),
    ("no", "yes", "4", "yes", "5", "yes"),
    ("yes", "yes", "4", "yes", "4", "no"),
    ("yes", "na", "2", "no", "2", "yes"),
    ("yes", "yes", "5", "yes", "5", "na"),
)


def quality_demo_load() -> str:
    """Idempotent: sampling adds nothing twice, and evaluations are only made when there are none."""
    scorecard = scorecard_default_ensure()
    this_week = week_start_of(timezone.localdate())
    sampled = sum(sample_week(week_start=this_week - dt.timedelta(days=7 * n)).total for n in (0, 1))
    if Evaluation.objects.exists():
        return f"quality: {sampled} interactions sampled; evaluations exist already"
    questions = list(scorecard.questions.order_by("order", "id").values_list("pk", flat=True))
    made = 0
    for item in SampleItem.objects.filter(evaluation__isnull=True).select_related("agent").order_by("id"):
        if made == DEMO_EVALUATIONS:
            break
        lead = User.objects.filter(role=Role.SUPERVISOR, teams=item.team_id, is_active=True).order_by("id").first()
        if lead is None or item.agent is None:
            continue
        answers = {pk: AnswerInput(answer=value) for pk, value in zip(questions, DEMO_ANSWERS[made], strict=False)}
        evaluation = evaluation_create(
            actor=lead, interaction_id=item.interaction_id, scorecard_id=scorecard.pk, answers=answers, submit=True
        )
        if made == 1:
            evaluation_acknowledge(actor=item.agent, evaluation=evaluation)
        if made == 3:
            evaluation_dispute(actor=item.agent, evaluation=evaluation, reason="I gave the disclosure at the start.")
        made += 1
    return f"quality: {sampled} interactions sampled, {made} demo evaluations"
