"""Builders of the quality tests: a small scorecard, interactions of a team, answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from cea.accounts.models import Team, User
from insights.quality.models import Scorecard
from insights.quality.services import AnswerInput
from records.interactions.models import Interaction
from tests.records.factories import CustomerFactory

TRANSCRIPT = [
    {"at": "2026-03-02T09:00:05Z", "author": "customer", "author_name": "Ada", "body": "My parcel never came."},
    {"at": "2026-03-02T09:00:20Z", "author": "agent", "author_name": "Agent A", "body": "Sorry to hear, let me check."},
]


def scorecard(name: str = "Calls") -> Scorecard:
    """Four questions: greeting (yes/no, weight 1), resolution (scale 0–4, weight 2), empathy (yes/no,
    weight 1, N/A allowed), disclosure (yes/no, weight 1, auto-fail)."""
    card = Scorecard.objects.create(name=name)
    card.questions.create(section="Opening", order=1, text="Greeting", weight=1, allows_na=False)
    card.questions.create(section="Resolution", order=2, text="Resolved", weight=2, answer_type="scale", scale_max=4)
    card.questions.create(section="Resolution", order=3, text="Empathy", weight=1, allows_na=True)
    card.questions.create(section="Compliance", order=4, text="Disclosure", weight=1, auto_fail=True)
    return card


def ids(card: Scorecard) -> dict[str, int]:
    return {question.text: question.pk for question in card.questions.all()}


def answers(card: Scorecard, **given: str) -> dict[Any, AnswerInput]:
    """Answers by question text: ``answers(card, Greeting="yes", Resolved="3")``."""
    by_text = ids(card)
    return {by_text[text]: AnswerInput(answer=value) for text, value in given.items()}


def full(card: Scorecard, *, disclosure: str = "yes") -> dict[Any, AnswerInput]:
    return answers(card, Greeting="yes", Resolved="3", Empathy="na", Disclosure=disclosure)


def interaction(
    *,
    team: Team,
    agent: User | None,
    queue: str = "billing",
    ended: dt.datetime | None = None,
    handle: float = 300,
    satisfaction: int | None = None,
    sentiment: float | None = None,
) -> Interaction:
    ended = ended or timezone.now() - dt.timedelta(minutes=5)
    answered = ended - dt.timedelta(seconds=handle)
    return Interaction.objects.create(
        customer=CustomerFactory(team=team),
        channel="chat",
        started_at=answered - dt.timedelta(seconds=10),
        answered_at=answered,
        ended_at=ended,
        queue=queue,
        agent=agent,
        team=team,
        transcript=TRANSCRIPT,
        satisfaction=satisfaction,
        sentiment=sentiment,
    )
