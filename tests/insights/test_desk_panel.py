"""The agent's figures today on the desk, against their team's."""

from __future__ import annotations

import datetime as dt

import pytest

from engagement.routing.models import PresenceChange
from insights.kpis.rollup import contact_rollup_rebuild
from tests.accounts.factories import TeamFactory, UserFactory
from tests.engagement.factories import AgentProfileFactory
from tests.insights.factories import T0, contact
from tests.support import session_client

pytestmark = pytest.mark.django_db
HOUR = dt.timedelta(hours=1)


def test_the_desk_panel_shows_the_agents_figures_against_the_team(monkeypatch):
    # Given anna (2 contacts, 120 s and 240 s) and carl (1 contact, 60 s) in north, bob in south, on T0's day
    monkeypatch.setattr("insights.reports.views.local_today", lambda: T0.date())
    north, south = TeamFactory(name="north"), TeamFactory(name="south")
    anna = UserFactory(username="anna", teams=[north])
    carl = UserFactory(username="carl", teams=[north])
    bob = UserFactory(username="bob", teams=[south])
    contact(team=north, agent=anna, talk=120)
    contact(team=north, agent=anna, talk=240)
    contact(team=north, agent=carl, talk=60)
    contact(team=south, agent=bob, talk=1000)
    contact_rollup_rebuild(now=T0 + dt.timedelta(hours=1))
    # When anna's desk loads the panel
    response = session_client(anna).get("/insights/reports/desk-panel/")
    # Then her handled and AHT stand beside the team's (handled per agent; south not counted)
    assert response.status_code == 200
    figures = {figure["label"]: (figure["own"], figure["team"]) for figure in response.context["figures"]}
    assert figures["Contacts handled"] == ("2", "1.50")
    assert figures["Average handle time"] == ("180.0 s", "140.0 s")
    # And with no presence logged occupancy has no denominator: no figure, not 100 %
    assert figures["Occupancy"] == ("—", "—")


def test_the_desk_page_loads_the_panel():
    agent = UserFactory(role="agent")
    html = session_client(agent).get("/desk/").content.decode()
    assert 'hx-get="/insights/reports/desk-panel/"' in html


def test_the_desk_panel_figures_occupancy_from_logged_in_time(monkeypatch):
    # Given anna available 09:00–10:00 with two calls answered at 09:00:10 (120 s and 240 s: on contacts
    # 240 s of wall clock), and carl in her team with a 60 s call but no presence recorded
    monkeypatch.setattr("insights.reports.views.local_today", lambda: T0.date())
    north = TeamFactory(name="north")
    anna = UserFactory(username="anna", teams=[north])
    carl = UserFactory(username="carl", teams=[north])
    profile = AgentProfileFactory(user=anna)
    PresenceChange.objects.create(agent=profile, presence="available", started_at=T0, ended_at=T0 + HOUR)
    PresenceChange.objects.create(agent=profile, presence="offline", started_at=T0 + HOUR)
    contact(team=north, agent=anna, talk=120)
    contact(team=north, agent=anna, talk=240)
    contact(team=north, agent=carl, talk=60)
    contact_rollup_rebuild(now=T0 + 2 * HOUR)
    # When anna's desk loads the panel
    figures = {
        figure["label"]: (figure["own"], figure["team"])
        for figure in session_client(anna).get("/insights/reports/desk-panel/").context["figures"]
    }
    # Then her occupancy is 240 ÷ 3,600 s, and the team's the same (carl was never logged in: no time counts)
    assert figures["Occupancy"] == ("6.7%", "6.7%")


def test_an_agent_with_nothing_today_sees_dashes_not_zeros(monkeypatch):
    # Given an agent of a team with no contact and no presence today
    monkeypatch.setattr("insights.reports.views.local_today", lambda: T0.date())
    dora = UserFactory(username="dora", teams=[TeamFactory(name="west")])
    # When her desk loads the panel
    response = session_client(dora).get("/insights/reports/desk-panel/")
    # Then she handled 0, and every ratio without a denominator shows "—", hers and the team's
    figures = {figure["label"]: (figure["own"], figure["team"]) for figure in response.context["figures"]}
    assert figures == {
        "Contacts handled": ("0", "—"),
        "Average handle time": ("—", "—"),
        "Occupancy": ("—", "—"),
    }
    assert "100.0%" not in response.content.decode()
