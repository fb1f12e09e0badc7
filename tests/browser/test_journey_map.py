"""A supervisor opens the journey map of a persona: the flow diagram (ECharts sankey) draws the stage-to-stage
moves that the table under it lists, and a customer's 360 page loads their stage history from insights."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from insights.journeys.assignment import stages_refresh
from records.journey.services import journey_record
from tests.accounts.factories import TeamFactory, UserFactory
from tests.browser.helpers import sign_in
from tests.insights.journey_support import ensure_default_stages
from tests.records.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LINKS = "() => echarts.getInstanceByDom(document.getElementById('journey-flow-chart')).getOption().series[0].links"


def test_the_journey_map_draws_the_moves_and_the_360_page_loads_the_history(new_context, settings):
    # Given two digital natives of north who bought, one of whom opened a case
    settings.CEA_JOURNEY_STAGE_LAG_SECONDS = 0
    ensure_default_stages()
    north = TeamFactory(name="north")
    start = timezone.now() - dt.timedelta(days=5)
    first, second = (CustomerFactory(team=north, persona="digital-native") for _ in range(2))
    for customer in (first, second):
        journey_record(customer=customer, kind="customer.created", summary="created", occurred_at=start)
        bought = start + dt.timedelta(days=1)
        journey_record(customer=customer, kind="order.placed", summary="order", occurred_at=bought)
    journey_record(customer=first, kind="case.created", summary="case", occurred_at=start + dt.timedelta(days=2))
    stages_refresh(now=timezone.now())
    lead = UserFactory(role="supervisor", teams=[north])
    page = new_context().new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    sign_in(page, lead, next_path="/insights/journeys/?persona=digital-native")
    # When they open the digital natives' journey map
    page.goto("/insights/journeys/?persona=digital-native")
    # Then the sankey is drawn with the moves the table lists
    page.wait_for_load_state("load")
    assert errors == []
    expect(page.locator("#journey-flow-chart canvas, #journey-flow-chart svg").first).to_be_visible()
    links = page.evaluate(LINKS)
    assert sorted((link["source"], link["target"], link["value"]) for link in links) == [
        ("Awareness ›", "› Purchase", 2),
        ("Purchase ›", "› Service", 1),
    ]
    expect(page.get_by_test_id("journey-flow")).to_have_count(2)
    # And the first customer's 360 page shows their stage and loads the history
    page.goto(f"/customers/{first.pk}/")
    expect(page.get_by_test_id("journey-stage-now")).to_have_text("Service")
    page.get_by_text("Stage history").click()
    expect(page.get_by_test_id("customer-stage-visit")).to_have_count(3)
    assert errors == []
