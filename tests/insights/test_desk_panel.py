"""The agent's figures today on the desk, against their team's."""

from __future__ import annotations

import datetime as dt

import pytest

from insights.kpis.rollup import contact_rollup_rebuild
from tests.accounts.factories import TeamFactory, UserFactory
from tests.insights.factories import T0, contact
from tests.support import session_client

pytestmark = pytest.mark.django_db


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
    # And with no presence logged there is no idle time: on contacts the whole time counted
    assert figures["Occupancy"] == ("100.0%", "100.0%")


def test_the_desk_page_loads_the_panel():
    agent = UserFactory(role="agent")
    html = session_client(agent).get("/desk/").content.decode()
    assert 'hx-get="/insights/reports/desk-panel/"' in html
