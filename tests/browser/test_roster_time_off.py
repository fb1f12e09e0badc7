"""Time off in the browser (issue 15, part D): an agent with a shift today sees it on their desk, asks for
the day off on /wfm/my-schedule/, a supervisor of their team approves it on /wfm/requests/, and the desk's
schedule panel, told over the desk's websocket, shows the day free; the agent's request reads "Approved"."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from engagement.wfm.scheduling.models import RequestStatus, Shift, TimeOff
from tests.accounts.factories import UserFactory
from tests.browser.helpers import Desk, sign_in
from tests.engagement.wfm.roster_support import planning_queue, profile, schedule, shift

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def around_noon(settings) -> None:
    """The platform's time zone set to one where it is now about noon (UTC+offset, a whole hour), so
    that the next full hour is today and still to come at any hour the test runs (run at 23:xx in
    UTC, a shift from 23:00 had begun, and time off keeps the part already worked)."""
    offset = 12 - dt.datetime.now(dt.UTC).hour  # -11 … +12 hours: the same date as in UTC
    settings.TIME_ZONE = f"Etc/GMT{-offset:+d}"  # the Etc zones' signs are the other way round


def test_an_agent_asks_for_a_day_off_and_the_supervisor_approves_it(
    around_noon, new_context, asgi_server, team_a, agent
):
    # Given the agent's shift today, still to come (from the next full hour, one hour; time off
    # approved once a shift has begun keeps the part already worked), in team A's published schedule
    now = timezone.localtime()
    today = now.date()
    start_hour = now.hour + 1
    assert 11 <= now.hour <= 13, now  # the time zone above: at least ten hours of today to come
    week = schedule(team_a, today - dt.timedelta(days=today.weekday()))
    shift(week, profile(agent), today, start_hour, 1, queue=planning_queue(team_a))
    boss = UserFactory(username="sam", role="supervisor", teams=[team_a], first_name="Sam", last_name="Super")

    # The agent's desk shows it
    context = new_context()
    desk_page = context.new_page()
    sign_in(desk_page, agent, next_path="/desk/")
    desk = Desk(desk_page)
    expect(desk.connection).to_have_attribute("data-state", "open")
    panel = desk_page.get_by_test_id("desk-schedule")
    expect(panel.get_by_test_id("roster-shift")).to_contain_text(f"{start_hour:02d}:00–{(start_hour + 1) % 24:02d}:00")

    # The agent asks for today off on their schedule page
    page = context.new_page()
    page.goto("/wfm/my-schedule/")
    form = page.get_by_test_id("time-off-form")
    form.locator("select[name=kind]").select_option("holiday")
    form.locator("input[name=starts_at]").fill(f"{today:%Y-%m-%d}T00:00")
    form.locator("input[name=ends_at]").fill(f"{today + dt.timedelta(days=1):%Y-%m-%d}T00:00")
    form.locator("input[name=note]").fill("Moving house")
    form.get_by_test_id("time-off-submit").click()
    expect(page.get_by_test_id("roster-messages")).to_contain_text("Time off asked for")
    expect(page.get_by_test_id("time-off-row")).to_have_attribute("data-status", "requested")

    # The supervisor approves it on the requests page
    boss_page = new_context().new_page()
    sign_in(boss_page, boss, next_path="/wfm/requests/")
    request_row = boss_page.locator(f"[data-testid=time-off-request][data-agent='{agent.username}']")
    expect(request_row).to_contain_text("Moving house")
    request_row.get_by_test_id("approve-time-off").click()
    expect(boss_page.get_by_test_id("roster-messages")).to_contain_text("approved")
    expect(boss_page.get_by_test_id("time-off-decided-row")).to_have_attribute("data-status", "approved")

    # The desk's panel is told and shows the day free; the request reads approved; the shift is gone
    expect(panel).to_contain_text("No shift today.")
    page.reload()
    expect(page.get_by_test_id("time-off-row")).to_have_attribute("data-status", "approved")
    assert list(TimeOff.objects.values_list("status", "decided_by")) == [(RequestStatus.APPROVED, boss.pk)]
    assert not Shift.objects.filter(agent=profile(agent)).exists()
