"""The roster's pages (issue 15, part D): the agent's week and request forms, the desk's panel, the
planner's requests page and the agent-week editor; refused across teams and by role."""

from __future__ import annotations

import datetime as dt

import pytest

from engagement.wfm.scheduling.models import RequestStatus, ScheduleStatus, Shift, SwapRequest, TimeOff
from engagement.wfm.scheduling.requests import swap_request, swap_respond, time_off_request
from tests.engagement.wfm.roster_support import at, planning_queue, profile, schedule, shift, tiling

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(team_a, agent, colleague, week):
    """Team A's published week: the agent on Tuesday 09–17 (lunch at 12), the colleague on Wednesday;
    and a draft of the same week with a Monday shift of the agent (not shown to them)."""
    billing = planning_queue(team_a)
    made = schedule(team_a, week)
    shift(made, profile(agent), week + dt.timedelta(days=1), 9, 8, queue=billing, lunch_hour=12)
    shift(made, profile(colleague), week + dt.timedelta(days=2), 9, 8, queue=billing)
    shift(schedule(team_a, week, ScheduleStatus.DRAFT), profile(agent), week, 9, 8)
    return made


def test_the_agent_sees_their_published_week_only(client, agent, published, week):
    client.force_login(agent)
    page = client.get("/wfm/my-schedule/", {"week": f"{week:%Y-%m-%d}"})
    shifts = page.context["days"]
    assert page.status_code == 200
    assert [(day.date.weekday(), [s.pk for s in day.shifts]) for day in shifts if day.shifts] == [
        (1, list(Shift.objects.filter(schedule=published, agent=profile(agent)).values_list("pk", flat=True)))
    ]
    assert "12:00–13:00 Lunch" in page.content.decode()


def test_the_agent_asks_for_time_off_on_the_page_and_a_bad_one_is_shown_back(client, agent, week):
    client.force_login(agent)
    tuesday = week + dt.timedelta(days=1)
    asked = client.post(
        "/wfm/my-schedule/time-off/",
        {"kind": "holiday", "starts_at": f"{tuesday:%Y-%m-%d}T09:00", "ends_at": f"{tuesday:%Y-%m-%d}T17:00"},
    )
    backwards = client.post(
        "/wfm/my-schedule/time-off/",
        {"kind": "holiday", "starts_at": f"{week:%Y-%m-%d}T17:00", "ends_at": f"{week:%Y-%m-%d}T09:00"},
    )
    assert asked.status_code == 302
    assert list(TimeOff.objects.values_list("status", "starts_at")) == [(RequestStatus.REQUESTED, at(tuesday, 9))]
    assert backwards.status_code == 400
    assert "Time off must end after it starts." in backwards.content.decode()


def test_a_swap_is_asked_and_answered_on_the_page(client, agent, colleague, published, week):
    mine = Shift.objects.get(agent=profile(agent), schedule=published)
    theirs = Shift.objects.get(agent=profile(colleague), schedule=published)
    client.force_login(agent)
    asked = client.post(
        "/wfm/my-schedule/swaps/",
        {"shift": mine.pk, "counterpart": profile(colleague).pk, "counterpart_shift": theirs.pk},
    )
    swap = SwapRequest.objects.get()
    client.force_login(colleague)
    answered = client.post(f"/wfm/swaps/{swap.pk}/respond/", {"decision": "accept"})
    swap.refresh_from_db()
    assert (asked.status_code, answered.status_code, swap.status) == (302, 302, RequestStatus.ACCEPTED)


def test_the_desk_panel_shows_the_week(client, agent, published):
    client.force_login(agent)
    panel = client.get("/wfm/my-schedule/panel/")
    assert panel.status_code == 200
    assert [len(day.shifts) for day in panel.context["days"]] == [0, 0, 0, 0, 0, 0, 0]  # a future week, not this one
    assert 'data-testid="desk-schedule"' in panel.content.decode()
    desk = client.get("/desk/").content.decode()
    assert 'hx-get="/wfm/my-schedule/panel/"' in desk


def test_the_supervisor_approves_on_the_requests_page_and_sees_only_their_teams(
    client, supervisor, agent, agent_b, published, week
):
    ours = time_off_request(
        user=agent, starts_at=at(week + dt.timedelta(days=1), 0), ends_at=at(week, 23) + dt.timedelta(days=1)
    )
    theirs = time_off_request(user=agent_b, starts_at=at(week, 9), ends_at=at(week, 17))
    client.force_login(supervisor)
    page = client.get("/wfm/requests/")
    other_team = client.post(f"/wfm/time-off/{theirs.pk}/decide/", {"decision": "approve"})
    approved = client.post(f"/wfm/time-off/{ours.pk}/decide/", {"decision": "approve"})
    assert [item.pk for item in page.context["requests"].time_off] == [ours.pk]
    assert (other_team.status_code, approved.status_code) == (403, 302)
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert (ours.status, theirs.status) == (RequestStatus.APPROVED, RequestStatus.REQUESTED)
    assert not Shift.objects.filter(schedule=published, agent=profile(agent)).exists()


def test_agents_are_refused_the_planners_pages(client, agent, published):
    client.force_login(agent)
    assert client.get("/wfm/requests/").status_code == 403
    assert client.get(f"/wfm/schedules/{published.pk}/agents/{profile(agent).pk}/").status_code == 403


def test_the_agent_week_editor_adds_a_shift_with_a_break_and_warns_of_the_contract(
    client, supervisor, agent, published, week
):
    client.force_login(supervisor)
    url = f"/wfm/schedules/{published.pk}/agents/{profile(agent).pk}/"
    assert client.get(url).status_code == 200
    added = client.post(
        f"{url}shifts/",
        {"day": f"{week:%Y-%m-%d}", "start": "06:00", "end": "10:00", "break_at": "08:00", "break_minutes": "15"},
    )
    follow = client.get(url)
    made = Shift.objects.get(schedule=published, agent=profile(agent), starts_at=at(week, 6))
    assert added.status_code == 302
    assert tiling(made) == [("work", "06:00", "08:00"), ("break", "08:00", "08:15"), ("work", "08:15", "10:00")]
    assert follow.context["warnings"] == [f"{at(week, 6):%a %d %b}: starts at 06:00, before the contract's 07:00."]


def test_another_teams_supervisor_cannot_open_or_edit_the_week(client, supervisor_b, agent, published, week):
    client.force_login(supervisor_b)
    url = f"/wfm/schedules/{published.pk}/agents/{profile(agent).pk}/"
    mine = Shift.objects.get(schedule=published, agent=profile(agent))
    assert client.get(url).status_code == 403
    refused = client.post(f"{url}shifts/", {"day": f"{week:%Y-%m-%d}", "start": "09:00", "end": "10:00"})
    deleted = client.post(f"/wfm/shifts/{mine.pk}/delete/")
    assert (refused.status_code, deleted.status_code) == (403, 403)
    assert Shift.objects.filter(pk=mine.pk).exists()


def test_a_swap_accepted_is_approved_on_the_requests_page(client, supervisor, agent, colleague, published):
    mine = Shift.objects.get(agent=profile(agent), schedule=published)
    swap = swap_respond(
        user=colleague, swap=swap_request(user=agent, shift=mine, counterpart=profile(colleague)), accept=True
    )
    client.force_login(supervisor)
    assert [item.pk for item in client.get("/wfm/requests/").context["requests"].swaps_accepted] == [swap.pk]
    assert client.post(f"/wfm/swaps/{swap.pk}/decide/", {"decision": "approve"}).status_code == 302
    mine.refresh_from_db()
    assert mine.agent_id == profile(colleague).pk
