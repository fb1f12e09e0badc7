"""A supervisor opens a report, changes its range (htmx swaps the chart and table), exports it as CSV and
drills down from a figure to its contacts."""

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
    # Then the chart is drawn (SVG) and the table lists the day
    expect(page.locator("#report-chart svg")).to_be_visible()
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
    # When they follow the 1st's handled figure / Then its one contact is listed
    page.get_by_test_id("report-figure").first.click()
    expect(page.get_by_test_id("drill-contacts").locator("tbody tr")).to_have_count(1)
    # And no script failed nor broke the Content-Security-Policy (the site has no favicon: that 404 aside)
    assert [error for error in errors if "favicon.ico" not in error] == []
