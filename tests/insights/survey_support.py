"""Helpers of the survey tests (not collected as tests)."""

from __future__ import annotations

from django.utils import timezone

from insights.surveys.models import SurveyConfig
from records.customers.models import Consent
from tests.records.factories import InteractionFactory
from tests.support import make_customer


def survey_config(**fields) -> SurveyConfig:
    values = {"channel": "sms", "queue": "", "kind": "csat", "sample_percent": 100, "cap_days": 30, **fields}
    return SurveyConfig.objects.create(**values)


def consenting_customer(team, *, channel: str = "sms", granted: bool = True, **fields):
    fields = {"phone": "+447911123456", "email": "alice@example.com", **fields}
    customer = make_customer(team, **fields)
    Consent.objects.create(
        customer=customer, channel=channel, purpose="research", granted=granted, given_at=timezone.now(), source="test"
    )
    return customer


def ended_interaction(*, customer, agent, team, channel: str = "sms", queue: str = "Support"):
    return InteractionFactory(customer=customer, agent=agent, team=team, channel=channel, queue=queue)
