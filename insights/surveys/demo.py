"""The demo's surveys, once: configurations for chat, email and SMS, and answers on past contacts.

Deterministic (a seeded generator): about a third of the demo's handled chat, email and SMS contacts
of the last 60 days got a survey; most were answered, some not, some skipped for a reason; the CSAT
answers are written back to their interactions as the real flow does. A month's eNPS pulse with
enough answers per team to be shown. Nothing is done when a survey already exists.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from cea.accounts.models import Team
from insights.surveys.models import (
    QUESTIONS,
    PulseAnswer,
    SkipReason,
    Survey,
    SurveyConfig,
    SurveyKind,
    SurveyStatus,
)
from insights.surveys.services import pulse_period
from records.interactions.models import Interaction
from records.interactions.services import interaction_set_satisfaction

DEMO_KINDS: dict[str, str] = {"chat": SurveyKind.CSAT, "email": SurveyKind.NPS, "sms": SurveyKind.CES}
MAX_SURVEYS = 900
# Answer weights per score, leaning satisfied as a service centre's usually do.
WEIGHTS: dict[str, list[int]] = {
    SurveyKind.CSAT: [1, 1, 2, 5, 8],
    SurveyKind.NPS: [1, 1, 1, 1, 1, 2, 2, 4, 6, 7, 6],
    SurveyKind.CES: [1, 1, 2, 3, 5, 6, 4],
}


def _score(rng: random.Random, kind: str) -> int:
    low = 0 if kind == SurveyKind.NPS else 1
    return low + rng.choices(range(len(WEIGHTS[kind])), weights=WEIGHTS[kind])[0]


@transaction.atomic
def surveys_demo_load() -> str:
    if Survey.objects.exists():
        return "surveys: already there; nothing done"
    for channel, kind in DEMO_KINDS.items():
        SurveyConfig.objects.get_or_create(queue="", channel=channel, defaults={"kind": kind, "sample_percent": 35})
    rng = random.Random(0)
    since = timezone.now() - timedelta(days=60)
    contacts = (
        Interaction.objects.filter(channel__in=list(DEMO_KINDS), agent__isnull=False, ended_at__gte=since)
        .select_related("customer")
        .order_by("id")
    )
    surveys: list[Survey] = []
    csat_answers: list[tuple[Interaction, int]] = []
    for interaction in contacts.iterator():
        if len(surveys) >= MAX_SURVEYS or rng.random() > 0.35:
            continue
        kind = DEMO_KINDS[interaction.channel]
        survey = Survey(
            kind=kind, channel=interaction.channel, interaction=interaction, customer=interaction.customer,
            agent_id=interaction.agent_id, team_id=interaction.team_id, queue=interaction.queue,
            question=QUESTIONS[kind], created_at=interaction.ended_at,
        )  # fmt: skip
        roll = rng.random()
        if roll < 0.1:
            survey.status = SurveyStatus.SKIPPED
            survey.skip_reason = rng.choice([SkipReason.CAPPED, SkipReason.NO_CONSENT, SkipReason.NO_ADDRESS])
        else:
            survey.status = SurveyStatus.SENT
            survey.sent_at = interaction.ended_at
            survey.expires_at = interaction.ended_at + timedelta(hours=72)
            if roll < 0.55:
                survey.status = SurveyStatus.ANSWERED
                survey.score = _score(rng, kind)
                survey.responded_at = interaction.ended_at + timedelta(minutes=rng.randint(2, 600))
                if kind == SurveyKind.CSAT:
                    csat_answers.append((interaction, survey.score))
        surveys.append(survey)
    Survey.objects.bulk_create(surveys)
    for interaction, score in csat_answers:
        interaction_set_satisfaction(actor=None, interaction=interaction, csat=score)
    period = pulse_period(timezone.localdate())
    pulse = [
        PulseAnswer(team=team, period=period, score=_score(rng, SurveyKind.NPS))
        for team in Team.objects.order_by("id")
        for _ in range(6)
    ]
    PulseAnswer.objects.bulk_create(pulse)
    answered = sum(1 for survey in surveys if survey.status == SurveyStatus.ANSWERED)
    return f"surveys: {len(surveys):,} after past contacts ({answered:,} answered); {len(pulse)} eNPS pulse answers"
