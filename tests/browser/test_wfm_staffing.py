"""A supervisor opens Workforce, then the staffing calculator: a what-if answers in place (htmx), a
change of volume changes the answer, a bad value says what is wrong — with no error in the browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from engagement.wfm.staffing.erlang import StaffingInput, required_agents
from tests.accounts.factories import TeamFactory, UserFactory
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_supervisor_runs_a_what_if_in_the_calculator(new_context):
    # Given a supervisor, signed in
    north = TeamFactory(name="north")
    lead = UserFactory(username="lead.north", role="supervisor", teams=[north])
    page = new_context().new_page()
    errors: list[str] = []
    # A refused form answers 400 (htmx swaps it in); Chromium logs that status, which is no error of the page.
    page.on(
        "console",
        lambda message: message.type == "error" and "status of 400" not in message.text and errors.append(message.text),
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, lead, next_path="/")

    # When they follow Workforce, then the calculator, and ask for 120 contacts of 240 s
    page.get_by_test_id("nav-wfm").click()
    page.get_by_test_id("wfm-calculator-link").click()
    page.get_by_label("Contacts in the interval").fill("120")
    page.get_by_label("Average handle time (seconds)").fill("240")
    page.get_by_test_id("wfm-calculate").click()
    # Then the answer shows in place: Erlang C's agents at 85% occupancy at most
    first = required_agents(StaffingInput(volume=120, aht_seconds=240, max_occupancy=0.85)).agents
    expect(page.get_by_test_id("wfm-agents")).to_have_text(str(first))
    expect(page.get_by_test_id("wfm-neighbours")).to_be_visible()

    # When the volume doubles
    page.get_by_label("Contacts in the interval").fill("240")
    page.get_by_test_id("wfm-calculate").click()
    second = required_agents(StaffingInput(volume=240, aht_seconds=240, max_occupancy=0.85)).agents
    expect(page.get_by_test_id("wfm-agents")).to_have_text(str(second))
    assert second > first

    # When Erlang A is chosen without a patience
    page.get_by_label("Model").select_option("erlang_a")
    page.get_by_test_id("wfm-calculate").click()
    # Then the form says what is missing
    expect(page.get_by_test_id("wfm-calculator-errors")).to_contain_text("patience")
    assert errors == []
