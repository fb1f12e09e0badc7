"""A supervisor opens the model page: each trained model's calibration chart is drawn (ECharts, SVG) under the
strict CSP, beside its table twin, with no script error."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.accounts.factories import TeamFactory, UserFactory
from tests.browser.helpers import sign_in
from tests.insights.test_scoring_pages import a_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SERIES = "(kind) => echarts.getInstanceByDom(document.getElementById('model-chart-' + kind)).getOption().series[1].data"


def test_the_model_page_draws_each_calibration_chart_beside_its_table(new_context):
    # Given a trained churn model (two calibration bins) and no propensity model yet
    a_run("churn_risk", 0, 0.74)
    lead = UserFactory(role="supervisor", teams=[TeamFactory(name="north")])
    page = new_context().new_page()
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(f"{message.text} {message.location}"))
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, lead, next_path="/insights/models/")
    # When
    page.goto("/insights/models/")
    # Then the chart is drawn with the table's two points, and the untrained model says how to train it
    expect(page.locator("#model-chart-churn_risk svg")).to_be_visible()
    expect(page.locator("#model-chart-churn_risk")).to_have_attribute("data-points", "2")
    assert page.evaluate(SERIES, "churn_risk") == [[0.1, 0.08, 300], [0.6, 0.55, 210]]
    expect(page.get_by_test_id("model-calibration").locator("tbody tr")).to_have_count(2)
    expect(page.get_by_test_id("model-propensity").get_by_test_id("model-none")).to_be_visible()
    assert errors == []
