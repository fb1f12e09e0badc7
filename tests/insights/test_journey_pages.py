"""The current journey stage on the 360 page and the desk's customer panel, and the stages in the console."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from insights.journeys.assignment import stages_refresh
from insights.journeys.models import JourneyStage, StageRule
from records.journey.services import journey_record
from tests.accounts.factories import UserFactory
from tests.engagement.desktop_support import parse
from tests.records.factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_stages")]
SINCE = timezone.now() - dt.timedelta(days=3)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def staged_customer(team_a, settings):
    settings.CEA_JOURNEY_STAGE_LAG_SECONDS = 0
    customer = CustomerFactory(team=team_a, given_name="Ada", family_name="Lovelace")
    journey_record(customer=customer, kind="order.placed", summary="Order", occurred_at=SINCE)
    stages_refresh(now=timezone.now())
    return customer


def test_the_360_page_shows_the_stage_since_when_and_loads_the_history(agent, staged_customer):
    # When the agent opens the customer
    page = parse(signed_in(agent).get(f"/customers/{staged_customer.pk}/"))
    # Then the stage and since when, and the history loaded from insights by URL
    card = page.find("section", data_testid="customer-journey-stage")
    assert card.find(data_testid="journey-stage-now").text == "Purchase"
    assert f"since {timezone.localtime(SINCE):%Y-%m-%d %H:%M}" in card.text
    history_url = f"/insights/journeys/customers/{staged_customer.pk}/stages/"
    assert card.find(data_testid="journey-stage-history").attrs["hx-get"] == history_url


def test_the_console_refuses_an_invalid_rule_with_its_reason(admin_client_for_console):
    stage = JourneyStage.objects.get(key="service")
    response = admin_client_for_console.post(
        f"/admin/insights/journeystage/{stage.pk}/change/",
        {
            "key": "service",
            "name": "Service",
            "order": stage.order,
            "rules-TOTAL_FORMS": "1",
            "rules-INITIAL_FORMS": "0",
            "rules-0-source": "inactivity",
            "rules-0-precedence": "10",
            "rules-0-active": "on",
        },
    )
    assert response.status_code == 200
    assert "An inactivity rule needs the number of days" in response.content.decode()
    assert not StageRule.objects.filter(stage=stage, source="inactivity").exists()


def test_supervisors_read_the_stages_in_the_console_but_do_not_change_them(team_a):
    supervisor = UserFactory(role="supervisor", teams=[team_a])
    stage = JourneyStage.objects.get(key="service")
    client = signed_in(supervisor)
    assert client.get(f"/admin/insights/journeystage/{stage.pk}/change/").status_code == 200
    client.post(f"/admin/insights/journeystage/{stage.pk}/change/", {"key": "service", "name": "Changed", "order": 1})
    stage.refresh_from_db()
    assert stage.name == "Service"


@pytest.fixture
def admin_client_for_console():
    return signed_in(UserFactory(role="admin"))
