"""The console for contracts, shift templates and time off (issue 15, part D): team-scoped, validated as
the services validate, time off entered through the service (approved, shifts cleared)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from engagement.wfm.scheduling.models import AgentContract, RequestStatus, Shift, ShiftTemplate, TimeOff
from engagement.wfm.scheduling.requests import time_off_request
from tests.engagement.wfm.roster_support import at, future_monday, profile, schedule, shift
from tests.records.test_console import changelist, form_data

pytestmark = pytest.mark.django_db

INVALID_CHOICE = "Select a valid choice. That choice is not one of the available choices."
CONTRACTS = "/admin/engagement/agentcontract/"
TEMPLATES = "/admin/engagement/shifttemplate/"
TIME_OFF = "/admin/engagement/timeoff/"


def _contract_post(client, agent_profile, **changes) -> dict:
    data = form_data(client.get(f"{CONTRACTS}add/"))
    return {**data, "agent": agent_profile.pk, "weekdays": "", **changes}


def test_a_supervisor_gives_their_agent_a_contract_but_not_another_teams(client, supervisor, agent, agent_b):
    client.force_login(supervisor)
    # When they post a contract for team B's agent, a contract with more minimum than maximum hours, and a good one
    theirs = client.post(f"{CONTRACTS}add/", _contract_post(client, profile(agent_b)))
    inverted = client.post(
        f"{CONTRACTS}add/", _contract_post(client, profile(agent), min_hours_week=30, max_hours_week=20)
    )
    ours = client.post(
        f"{CONTRACTS}add/", _contract_post(client, profile(agent), max_hours_week=30, weekdays="0,1,2,3,4")
    )
    # Then only the good one is saved
    assert theirs.context["adminform"].form.errors == {"agent": [INVALID_CHOICE]}
    assert "min_hours_week" in inverted.context["adminform"].form.errors
    assert ours.status_code == 302
    assert list(AgentContract.objects.values_list("agent_id", "max_hours_week", "weekdays")) == [
        (profile(agent).pk, 30, [0, 1, 2, 3, 4])
    ]


def _template_post(client, breaks) -> dict:
    data = form_data(client.get(f"{TEMPLATES}add/"))
    return {
        **data,
        "name": "early",
        "label": "Early 8h",
        "length_minutes": 480,
        "earliest_start": "07:00",
        "latest_start": "09:00",
        "start_step_minutes": 30,
        "breaks": json.dumps(breaks),
        "is_active": "on",
    }


@pytest.mark.parametrize(
    ("breaks", "message"),
    [
        ([{"kind": "nap", "minutes": 15, "after_minutes": 120}], "Break 1: the kind is break or lunch."),
        ([{"kind": "lunch", "minutes": 30, "after_minutes": 470}], "inside the shift"),
        (
            [
                {"kind": "break", "minutes": 15, "after_minutes": 120},
                {"kind": "lunch", "minutes": 30, "after_minutes": 130},
            ],
            "The break at 120 minutes overlaps the next.",
        ),
        ({"kind": "lunch"}, "Breaks are a list"),
    ],
)
def test_shift_template_breaks_are_checked(client, admin_user, breaks, message):
    client.force_login(admin_user)
    response = client.post(f"{TEMPLATES}add/", _template_post(client, breaks))
    assert response.status_code == 200
    assert message in " ".join(response.context["adminform"].form.errors["breaks"])
    assert ShiftTemplate.objects.count() == 0


def test_an_admin_adds_a_template_and_a_supervisor_only_reads_them(client, admin_user, supervisor):
    breaks = [{"kind": "break", "minutes": 15, "after_minutes": 120, "spread_minutes": 30}]
    client.force_login(admin_user)
    post = _template_post(client, breaks)
    assert client.post(f"{TEMPLATES}add/", post).status_code == 302
    client.force_login(supervisor)
    refused = client.post(f"{TEMPLATES}add/", post | {"name": "late"})
    assert refused.status_code == 403
    assert list(ShiftTemplate.objects.values_list("name", "breaks")) == [("early", breaks)]


def test_time_off_entered_in_the_console_is_approved_and_clears_the_shift(client, supervisor, agent, team_a):
    # Given the agent's Tuesday shift in a published schedule
    week = future_monday()
    tuesday = week + dt.timedelta(days=1)
    shift(schedule(team_a, week), profile(agent), tuesday, 9, 8)
    client.force_login(supervisor)
    data = form_data(client.get(f"{TIME_OFF}add/"))
    start, end = at(tuesday, 0), at(tuesday + dt.timedelta(days=1), 0)
    post = {
        **data,
        "agent": profile(agent).pk,
        "kind": "holiday",
        "starts_at_0": f"{start:%Y-%m-%d}",
        "starts_at_1": f"{start:%H:%M:%S}",
        "ends_at_0": f"{end:%Y-%m-%d}",
        "ends_at_1": f"{end:%H:%M:%S}",
    }
    # When the supervisor adds it, then adds it again
    added = client.post(f"{TIME_OFF}add/", post)
    again = client.post(f"{TIME_OFF}add/", post)
    # Then it is approved and the shift is gone; the second overlaps and is refused
    assert added.status_code == 302
    assert list(TimeOff.objects.values_list("status", "decided_by")) == [(RequestStatus.APPROVED, supervisor.pk)]
    assert not Shift.objects.exists()
    assert "starts_at" in again.context["adminform"].form.errors


def test_the_supervisor_approves_requests_of_their_team_only(client, supervisor, agent, agent_b):
    week = future_monday()
    ours = time_off_request(user=agent, starts_at=at(week, 9), ends_at=at(week, 17))
    theirs = time_off_request(user=agent_b, starts_at=at(week, 9), ends_at=at(week, 17))
    client.force_login(supervisor)
    listed = changelist(client, TIME_OFF)
    response = client.post(
        TIME_OFF, {"action": "approve_time_off", "_selected_action": [ours.pk, theirs.pk]}, follow=True
    )
    assert listed == [ours]
    assert response.status_code == 200
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert (ours.status, theirs.status) == (RequestStatus.APPROVED, RequestStatus.REQUESTED)
