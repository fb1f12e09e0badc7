"""The roster's REST API (issue 15, part D): the agent's week, time off and swaps, shift edits; roles,
teams, integration tokens and bad input."""

from __future__ import annotations

import datetime as dt

import pytest

from engagement.wfm.scheduling.models import RequestStatus, Shift, TimeOff
from engagement.wfm.scheduling.requests import time_off_request
from tests.engagement.wfm.roster_support import at, planning_queue, profile, schedule, shift
from tests.support import assert_error, session_client, token_client

pytestmark = pytest.mark.django_db

BASE = "/api/v1/engagement/wfm/"


@pytest.fixture
def published(team_a, agent, week):
    made = schedule(team_a, week)
    shift(made, profile(agent), week + dt.timedelta(days=1), 9, 8, queue=planning_queue(team_a), lunch_hour=12)
    return made


def test_the_agent_reads_their_week(agent, published, week):
    response = session_client(agent).get(f"{BASE}my-schedule/", {"week": f"{week + dt.timedelta(days=3):%Y-%m-%d}"})
    assert response.status_code == 200, response.content
    days = response.json()
    assert [day["date"] for day in days][:2] == [f"{week:%Y-%m-%d}", f"{week + dt.timedelta(days=1):%Y-%m-%d}"]
    assert [activity["kind"] for activity in days[1]["shifts"][0]["activities"]] == ["work", "lunch", "work"]
    bad = session_client(agent).get(f"{BASE}my-schedule/", {"week": "soon"})
    assert assert_error(bad, 400, "invalid")["fields"] == {
        "week": ["A date, YYYY-MM-DD, from 1900-01-01 to 2999-12-31."]
    }


def test_time_off_asked_then_approved_over_the_api(agent, supervisor, published, week):
    tuesday = week + dt.timedelta(days=1)
    asked = session_client(agent).post(
        f"{BASE}time-off/",
        {"kind": "holiday", "starts_at": at(tuesday, 0).isoformat(), "ends_at": at(tuesday, 23).isoformat()},
        format="json",
    )
    assert asked.status_code == 201, asked.content
    time_off_id = asked.json()["id"]
    decided = session_client(supervisor).post(f"{BASE}time-off/{time_off_id}/decide/", {"approve": True}, format="json")
    assert decided.status_code == 200, decided.content
    assert decided.json()["status"] == RequestStatus.APPROVED
    assert not Shift.objects.filter(schedule=published).exists()


def test_bad_time_off_is_a_400_with_fields_and_nothing_written(agent, week):
    response = session_client(agent).post(
        f"{BASE}time-off/",
        {"kind": "nap", "starts_at": at(week, 17).isoformat(), "ends_at": "later"},
        format="json",
    )
    assert set(assert_error(response, 400)["fields"]) == {"kind", "ends_at"}
    assert TimeOff.objects.count() == 0


def test_across_teams_and_roles(agent, agent_b, supervisor_b, supervisor, integration_user, week, published):
    ours = time_off_request(user=agent, starts_at=at(week, 9), ends_at=at(week, 17))
    # Team B's supervisor: refused to read or decide team A's, refused to enter time off for its agent
    assert_error(session_client(supervisor_b).get(f"{BASE}time-off/{ours.pk}/"), 403)
    assert_error(
        session_client(supervisor_b).post(f"{BASE}time-off/{ours.pk}/decide/", {"approve": True}, format="json"), 403
    )
    entered = session_client(supervisor_b).post(
        f"{BASE}time-off/",
        {"agent": profile(agent).pk, "starts_at": at(week, 9).isoformat(), "ends_at": at(week, 10).isoformat()},
        format="json",
    )
    assert_error(entered, 403)
    # Team B's agent does not see it; the list of team B's supervisor does not hold it
    assert_error(session_client(agent_b).get(f"{BASE}time-off/{ours.pk}/"), 404)
    assert session_client(supervisor_b).get(f"{BASE}time-off/").json() == []
    # An agent cannot decide; an integration client reads with insights:read and cannot write
    assert_error(session_client(agent).post(f"{BASE}time-off/{ours.pk}/decide/", {"approve": True}, format="json"), 403)
    client = token_client(integration_user, scopes=("insights:read",))
    assert [row["id"] for row in client.get(f"{BASE}time-off/").json()] == [ours.pk]
    assert_error(client.post(f"{BASE}time-off/{ours.pk}/decide/", {"approve": True}, format="json"), 403)
    ours.refresh_from_db()
    assert ours.status == RequestStatus.REQUESTED


def test_a_planner_edits_a_shift_over_the_api(supervisor, agent, published, week):
    client = session_client(supervisor)
    created = client.post(
        f"{BASE}schedules/{published.pk}/shifts/",
        {"agent": profile(agent).pk, "starts_at": at(week, 9).isoformat(), "ends_at": at(week, 13).isoformat()},
        format="json",
    )
    assert created.status_code == 201, created.content
    shift_id = created.json()["shift"]["id"]
    gap = client.put(
        f"{BASE}shifts/{shift_id}/",
        {
            "starts_at": at(week, 9).isoformat(),
            "ends_at": at(week, 13).isoformat(),
            "activities": [{"kind": "work", "starts_at": at(week, 9).isoformat(), "ends_at": at(week, 12).isoformat()}],
        },
        format="json",
    )
    assert "activities" in assert_error(gap, 400)["fields"]
    moved = client.put(
        f"{BASE}shifts/{shift_id}/",
        {"starts_at": at(week, 10).isoformat(), "ends_at": at(week, 14).isoformat()},
        format="json",
    )
    assert moved.status_code == 200, moved.content
    body = moved.json()
    assert (dt.datetime.fromisoformat(body["shift"]["starts_at"]), body["warnings"]) == (at(week, 10), [])
    assert client.delete(f"{BASE}shifts/{shift_id}/").status_code == 204
    assert Shift.objects.filter(schedule=published).count() == 1


def test_a_swap_over_the_api(agent, colleague, supervisor, published):
    mine = Shift.objects.get(schedule=published)
    asked = session_client(agent).post(
        f"{BASE}swaps/", {"shift": mine.pk, "counterpart": profile(colleague).pk}, format="json"
    )
    assert asked.status_code == 201, asked.content
    swap_id = asked.json()["id"]
    # Not the colleague's shift to offer: it is not theirs
    assert_error(
        session_client(colleague).post(
            f"{BASE}swaps/", {"shift": mine.pk, "counterpart": profile(agent).pk}, format="json"
        ),
        404,
    )
    assert (
        session_client(colleague).post(f"{BASE}swaps/{swap_id}/respond/", {"accept": True}, format="json").status_code
        == 200
    )
    decided = session_client(supervisor).post(f"{BASE}swaps/{swap_id}/decide/", {"approve": True}, format="json")
    assert decided.json()["status"] == RequestStatus.APPROVED
    mine.refresh_from_db()
    assert mine.agent_id == profile(colleague).pk
