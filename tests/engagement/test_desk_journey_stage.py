"""The desk's customer panel shows the customer's journey stage and since when (read from the customer)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from records.customers.services import customers_set_journey_stages
from records.journey.models import JourneyEvent
from tests.engagement.desktop_support import on_desk, parse
from tests.records.factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routing_env")]


def test_the_desk_panel_shows_the_journey_stage(agent, team_a):
    # Given a customer whom insights placed in onboarding three days ago, on the agent's desk
    customer = CustomerFactory(team=team_a)
    since = timezone.now() - dt.timedelta(days=3)
    assert customers_set_journey_stages(actor=None, stages=[(customer.pk, "onboarding", since)]) == 1
    on_desk(agent, customer=customer)
    client = Client()
    client.force_login(agent)
    # When the agent looks at the desk
    side = parse(client.get("/desk/")).find("aside", cls="customer-panel")
    # Then the stage and its date are in the panel
    assert side.find(data_testid="desk-journey-stage").text == (
        f"Onboarding since {timezone.localtime(since):%Y-%m-%d}"
    )


def test_setting_the_same_stage_again_changes_nothing(team_a):
    customer = CustomerFactory(team=team_a)
    since = timezone.now()
    customers_set_journey_stages(actor=None, stages=[(customer.pk, "service", since)])
    assert customers_set_journey_stages(actor=None, stages=[(customer.pk, "service", since)]) == 0
    assert JourneyEvent.objects.filter(customer=customer, kind="stage.entered").count() == 1
