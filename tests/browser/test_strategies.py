"""A supervisor opens a strategy's page: the effect's chart is drawn beside its table, and the dry-run
(htmx) says who the strategy would reach now — with no error in the browser (CSP included)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from insights.strategies.effects import strategy_effects_compute
from insights.strategies.services import strategies_evaluate_event
from tests.accounts.factories import TeamFactory, UserFactory
from tests.browser.helpers import sign_in
from tests.insights.strategy_support import customer, event, strategy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SERIES = (
    "() => echarts.getInstanceByDom(document.getElementById('strategy-effect-chart'))"
    ".getOption().series.map(s => s.name)"
)


def test_a_supervisor_reads_a_strategy_s_effect_and_its_dry_run(new_context):
    # Given a strategy that fired for two customers of north, its effect computed
    north = TeamFactory(name="north")
    welcome = strategy("welcome", cap_firings=5)
    people = [customer(north, segment="retail") for _ in range(2)]
    for person in people:
        strategies_evaluate_event(event=event(person))
    strategy_effects_compute(strategy=welcome)
    lead = UserFactory(role="supervisor", teams=[north])
    page = new_context().new_page()
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, lead, next_path="/insights/strategies/")

    # When they open the strategy from the list
    page.get_by_role("link", name="Welcome").click()
    # Then the effect's chart is drawn, treated beside holdout, and its table says no effect is claimed
    expect(page.locator("#strategy-effect-chart svg")).to_be_visible()
    assert page.evaluate(SERIES) == ["Treated", "Holdout"]
    expect(page.get_by_test_id("effect-wording").first).to_contain_text("No effect claimed")

    # When they ask who it would reach now
    page.get_by_test_id("dry-run").click()
    # Then htmx shows the counts: both customers are in the audience
    expect(page.get_by_test_id("dry-in-audience")).to_have_text("2")
    assert errors == []
