"""Agents' state timelines, computed by hand, and who may see whose.

Anna (north) on 2 March 2026 (UTC, the tests' time zone): available 08:00–10:00, away for lunch
10:00–10:30, busy 10:30–11:00, after-contact 11:00–11:15, away without a reason 11:15–11:30,
offline 11:30–23:00, available 23:00–01:00 the next day. So on the 2nd she is logged in 2 h + 30 +
30 + 15 + 15 min + 1 h = 4 h 30, available 3 h, busy 30 min, after-contact 15 min, away 45 min
(lunch 30, no reason 15); on the 3rd available and logged in 1 h.
"""

from __future__ import annotations

import datetime as dt

import pytest

from engagement.routing.models import PresenceChange, ReasonCode
from engagement.routing.selectors import presence_timeline
from insights.reports.timeline import agent_days
from tests.accounts.factories import TeamFactory, UserFactory
from tests.engagement.factories import AgentProfileFactory
from tests.support import session_client

pytestmark = pytest.mark.django_db
URL = "/insights/reports/agents/"


def _at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=dt.UTC)


@pytest.fixture
def people():
    north, south = TeamFactory(name="north"), TeamFactory(name="south")
    anna = UserFactory(username="anna", first_name="Anna", last_name="North", teams=[north])
    bob = UserFactory(username="bob", first_name="Bob", last_name="South", teams=[south])
    lunch = ReasonCode.objects.get(code="lunch")  # a default reason (migration)
    profile = AgentProfileFactory(user=anna)
    for presence, start, end, reason in [
        ("available", _at(2, 8), _at(2, 10), None),
        ("away", _at(2, 10), _at(2, 10, 30), lunch),
        ("busy", _at(2, 10, 30), _at(2, 11), None),
        ("after_contact", _at(2, 11), _at(2, 11, 15), None),
        ("away", _at(2, 11, 15), _at(2, 11, 30), None),
        ("offline", _at(2, 11, 30), _at(2, 23), None),
        ("available", _at(2, 23), _at(3, 1), None),
    ]:
        PresenceChange.objects.create(agent=profile, presence=presence, started_at=start, ended_at=end, reason=reason)
    PresenceChange.objects.create(
        agent=AgentProfileFactory(user=bob), presence="available", started_at=_at(2, 9), ended_at=_at(2, 10)
    )
    return {"north": north, "south": south, "anna": anna, "bob": bob}


def test_the_days_are_computed_by_hand(people):
    # Given anna's presence / When her two days are cut from it
    spans = presence_timeline(start=_at(2, 0), end=_at(4, 0), now=_at(5, 0), user_ids=[people["anna"].pk])
    second, third = agent_days(spans=spans, first_day=dt.date(2026, 3, 2), last_day=dt.date(2026, 3, 3))
    # Then each state's time is as computed by hand
    assert (second.logged_in, second.available, second.busy, second.after_contact) == (16200, 10800, 1800, 900)
    assert second.away == {"Lunch": 1800, "No reason given": 900}
    assert (third.day, third.logged_in, third.available) == (dt.date(2026, 3, 3), 3600, 3600)
    # And the bar's first segment starts at 08:00 (a third of the day) for two hours
    assert (second.segments[0].offset, second.segments[0].width) == (33.333, 8.333)
    # And each segment's tooltip names its state (with the away reason) and its local times
    assert [segment.title for segment in second.segments[:3]] == [
        "Available 08:00–10:00",
        "Away: Lunch 10:00–10:30",
        "Busy (no new work) 10:30–11:00",
    ]


def test_the_page_shows_a_supervisor_their_teams_agents(people):
    # Given the north supervisor / When they open the 2nd
    client = session_client(UserFactory(role="supervisor", teams=[people["north"]]))
    response = client.get(URL, {"start": "2026-03-02"})
    # Then anna's day only, in hours and minutes
    assert response.status_code == 200
    [row] = response.context["rows"]
    assert (row["name"], row["logged_in"], row["available"], row["away"]) == (
        "Anna North",
        "4 h 30 min",
        "3 h 00 min",
        "0 h 45 min",
    )
    assert row["away_reasons"] == [("Lunch", "0 h 30 min"), ("No reason given", "0 h 15 min")]
    assert "<title>Away: Lunch 10:00–10:30</title>" in response.content.decode()
    # And south's team or agent is refused
    assert client.get(URL, {"start": "2026-03-02", "team": people["south"].pk}).status_code == 403
    assert client.get(URL, {"start": "2026-03-02", "agent": people["bob"].pk}).status_code == 403


def test_an_agent_sees_only_their_own_timeline_and_an_admin_everyones(people):
    anna = session_client(people["anna"])
    assert [row["name"] for row in anna.get(URL, {"start": "2026-03-02"}).context["rows"]] == ["Anna North"]
    assert anna.get(URL, {"start": "2026-03-02", "agent": people["bob"].pk}).status_code == 403
    admin = session_client(UserFactory(role="admin"))
    assert [row["name"] for row in admin.get(URL, {"start": "2026-03-02"}).context["rows"]] == [
        "Anna North",
        "Bob South",
    ]
