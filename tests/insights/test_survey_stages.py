"""Satisfaction and effort by journey stage: the survey answers of the contacts during each stage visit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from insights.journeys.models import StageVisit
from insights.journeys.selectors import journey_map
from insights.surveys.models import Survey
from records.customers.models import Customer
from records.interactions.models import Interaction
from tests.records.factories import CustomerFactory, InteractionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_stages")]
T0 = timezone.now() - dt.timedelta(days=10)


def answered_contact(customer, *, hours: float, kind: str, score: int) -> None:
    started = T0 + dt.timedelta(hours=hours)
    interaction = InteractionFactory(customer=customer, started_at=started, ended_at=started + dt.timedelta(minutes=5))
    Survey.objects.create(
        kind=kind, channel="chat", status="answered", score=score, customer=customer, interaction=interaction
    )


def test_each_stage_shows_the_csat_and_ces_of_the_contacts_during_its_visits():
    # Given a customer in purchase for a day, then in service; answers during each visit
    customer = CustomerFactory()
    StageVisit.objects.create(
        customer_id=customer.pk, stage_key="purchase", entered_at=T0, left_at=T0 + dt.timedelta(hours=24)
    )
    StageVisit.objects.create(customer_id=customer.pk, stage_key="service", entered_at=T0 + dt.timedelta(hours=24))
    answered_contact(customer, hours=1, kind="csat", score=5)
    answered_contact(customer, hours=2, kind="csat", score=2)
    answered_contact(customer, hours=3, kind="ces", score=6)
    answered_contact(customer, hours=30, kind="csat", score=4)
    answered_contact(customer, hours=31, kind="ces", score=3)
    answered_contact(customer, hours=32, kind="ces", score=4)
    # When the journey map is read
    figures = journey_map(customers=Customer.objects.all(), interactions=Interaction.objects.all(), persona=None)
    stages = {stage.key: stage for stage in figures.stages}
    # Then satisfaction is the CSAT of each stage's answers and effort their average CES
    assert figures.surveys is True
    assert (stages["purchase"].satisfaction, stages["purchase"].effort) == (50.0, 6.0)
    assert (stages["service"].satisfaction, stages["service"].effort) == (100.0, 3.5)
    assert (stages["loyalty"].satisfaction, stages["loyalty"].effort) == (None, None)
    assert figures.as_dict()["satisfaction_and_effort"] == "from surveys"


def test_a_reader_s_stage_figures_count_only_the_contacts_they_may_see():
    customer = CustomerFactory()
    StageVisit.objects.create(customer_id=customer.pk, stage_key="service", entered_at=T0)
    answered_contact(customer, hours=1, kind="csat", score=1)
    # When the reader may see none of this customer's contacts
    others = Interaction.objects.exclude(customer=customer)
    figures = journey_map(customers=Customer.objects.all(), interactions=others, persona=None)
    # Then no answer counts
    assert figures.surveys is False
    assert {stage.key: stage.satisfaction for stage in figures.stages}["service"] is None
