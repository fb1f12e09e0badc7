"""A supervisor opens a report of two KPIs (a line each, on a panel per unit), changes its range (htmx swaps
the chart and table), exports it as CSV, moves through the chart from the keyboard and drills down from a
figure to its contacts' page."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from insights.kpis.rollup import contact_rollup_rebuild
from tests.accounts.factories import TeamFactory, UserFactory
from tests.browser.helpers import sign_in
from tests.insights.factories import T0, contact

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# The names of the lines the chart drew, from ECharts' own instance.
SERIES_NAMES = (
    "() => echarts.getInstanceByDom(document.getElementById('report-chart')).getOption().series.map(s => s.name)"
)


def test_a_supervisor_opens_a_report_changes_the_range_and_exports_csv(new_context):
    # Given north's contacts on 1 and 2 March 2026 (UTC, the tests' time zone), rolled up, and its supervisor
    north = TeamFactory(name="north")
    anna = UserFactory(username="anna", teams=[north])
    contact(team=north, agent=anna, talk=120)
    contact(team=north, agent=anna, talk=240)
    contact(team=north, agent=anna, queued_at=T0 - dt.timedelta(days=1), talk=60)
    contact_rollup_rebuild(now=T0 + dt.timedelta(hours=1))
    lead = UserFactory(role="supervisor", teams=[north])
    page = new_context(accept_downloads=True).new_page()
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(f"{message.text} {message.location}"))
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, lead, next_path="/insights/reports/")

    # When they open the 2nd's report of handled contacts and AHT
    page.goto("/insights/reports/?kpis=handled&kpis=aht&start=2026-03-02&end=2026-03-02&interval=day")
    table = page.get_by_test_id("report-table")
    # Then the chart is drawn (SVG), a line for each KPI on a panel for each unit, and the table lists the day
    chart = page.get_by_test_id("report-chart")
    expect(page.locator("#report-chart svg")).to_be_visible()
    expect(chart).to_have_attribute("data-series", "2")
    assert page.evaluate(SERIES_NAMES) == ["Contacts handled", "Average handle time"]
    expect(page.locator("#report-chart svg")).to_contain_text("Count")
    expect(page.locator("#report-chart svg")).to_contain_text("Seconds")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tbody tr").first).to_contain_text("2026-03-02")

    # When they move the start a day back
    page.locator("input[name=start]").fill("2026-03-01")
    # Then htmx swaps in both days, and the address is the new selection's permalink
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(page).to_have_url(re.compile(r"start=2026-03-01"))
    expect(page.locator("#report-chart svg")).to_be_visible()

    # When they export CSV / Then the file holds both days' figures
    with page.expect_download() as download:
        page.get_by_test_id("report-export-csv").click()
    assert download.value.suggested_filename == "report-20260301-20260302.csv"
    assert Path(download.value.path()).read_bytes().decode() == (
        "Interval start,Contacts handled (count),Average handle time (seconds)\r\n"
        "2026-03-01T00:00:00+00:00,1,60\r\n"
        "2026-03-02T00:00:00+00:00,2,180\r\n"
    )
    # When they move through the chart from the keyboard / Then each point is read out
    chart.focus()
    page.keyboard.press("ArrowRight")
    status = page.locator("#report-chart-status")
    expect(status).to_have_text("Contacts handled, 2026-03-02: 2. Enter opens its contacts.")
    page.keyboard.press("ArrowDown")
    expect(status).to_have_text("Average handle time, 2026-03-02: 180.0 s. Enter opens its contacts.")
    # When they press Enter / Then the contacts behind that figure open: the 2nd's two contacts
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/insights/reports/contacts/\?.*kpi=aht"))
    expect(page.get_by_test_id("drill-contact")).to_have_count(2)
    expect(page.locator("h1")).to_have_text("Contacts of 2026-03-02")

    # When they go back and follow the 1st's handled figure in the table / Then its one contact is listed,
    # linked to its record in the console
    page.go_back()
    page.get_by_test_id("report-figure").first.click()
    expect(page).to_have_url(re.compile(r"kpi=handled"))
    expect(page.get_by_test_id("drill-contacts").locator("tbody tr")).to_have_count(1)
    expect(page.get_by_test_id("drill-conversation")).to_have_attribute(
        "href", re.compile(r"^/admin/records/interaction/")
    )
    expect(page.get_by_test_id("drill-export-csv")).to_be_visible()
    # And no script failed, nor broke the Content-Security-Policy, nor asked for a missing icon
    assert errors == []
