"""The KPI API: validated query parameters, figures scoped by role and team, the insights:read scope."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from insights.kpis.definitions import KPIS
from insights.kpis.rollup import contact_rollup_rebuild
from tests.accounts.factories import TeamFactory, UserFactory
from tests.insights.factories import T0, contact
from tests.support import assert_error, session_client, token_client

pytestmark = pytest.mark.django_db
URL = "/api/v1/insights/kpis/"
HOUR = {"start": T0.isoformat(), "end": (T0 + dt.timedelta(hours=1)).isoformat(), "interval": "hour"}


@pytest.fixture
def teams():
    north, south = TeamFactory(name="north"), TeamFactory(name="south")
    anna = UserFactory(username="anna", teams=[north])
    bob = UserFactory(username="bob", teams=[south])
    contact(team=north, agent=anna, wait=10, talk=120)
    contact(team=north, agent=anna, wait=30, talk=240)
    contact(team=south, agent=bob, wait=50, talk=60)
    contact_rollup_rebuild(now=T0 + dt.timedelta(hours=1))
    return {"north": north, "south": south, "anna": anna, "bob": bob}


def _handled(client, **params):
    response = client.get(URL, {"kpis": ["handled", "aht"], **HOUR, **params})
    assert response.status_code == 200, response.content
    return response.json()


def test_an_admin_gets_every_teams_figures_with_their_formulas(teams):
    # Given an admin / When they ask for handled and AHT by team
    body = _handled(session_client(UserFactory(role="admin")), group_by="team")
    # Then each team has its figures, and the KPIs say how they are computed
    figures = {row["group"]["team"]: row["values"] for row in body["rows"]}
    assert figures[teams["north"].pk]["handled"]["value"] == 2
    assert figures[teams["north"].pk]["aht"] == {"numerator": 360.0, "denominator": 2.0, "value": 180.0, "variant": ""}
    assert figures[teams["south"].pk]["aht"]["value"] == 60
    assert [kpi["name"] for kpi in body["kpis"]] == ["handled", "aht"]
    assert body["kpis"][1]["formula"] == KPIS["aht"].formula
    assert body["previous"] is None


def test_a_supervisor_gets_their_teams_figures_and_an_agent_their_own(teams):
    # Given the south supervisor and the north agent
    south_lead = session_client(UserFactory(role="supervisor", teams=[teams["south"]]))
    anna = session_client(teams["anna"])
    # When each asks for the hour / Then each sees only theirs
    [south_row] = _handled(south_lead)["rows"]
    assert south_row["values"]["handled"]["value"] == 1
    [anna_row] = _handled(anna)["rows"]
    assert anna_row["values"]["handled"]["value"] == 2
    # And asking for another team's rows by filter gives nothing
    assert _handled(south_lead, team=teams["north"].pk)["rows"] == []


def test_the_service_level_states_its_formula(teams):
    # Given / When the service level is asked for
    body = _handled(session_client(UserFactory(role="admin")), kpis="service_level")
    # Then the figure and the KPI name Connect's formula
    [row] = body["rows"]
    assert row["values"]["service_level"]["numerator"] == 1
    assert row["values"]["service_level"]["denominator"] == 3
    assert body["kpis"][0]["variant"].startswith("Amazon Connect:")


def test_compare_adds_the_previous_period(teams):
    # Given / When the hour after is asked for with its comparison
    client = session_client(UserFactory(role="admin"))
    response = client.get(
        URL,
        {
            "kpis": "handled",
            "start": (T0 + dt.timedelta(hours=1)).isoformat(),
            "end": (T0 + dt.timedelta(hours=2)).isoformat(),
            "interval": "hour",
            "compare": "true",
        },
    )
    # Then the previous hour is there
    assert response.status_code == 200, response.content
    previous = response.json()["previous"]
    assert [row["values"]["handled"]["value"] for row in previous["rows"]] == [3]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"kpis": "speed"}, "kpis"),
        ({"end": T0.isoformat()}, "end"),
        ({"interval": "fortnight"}, "interval"),
        ({"group_by": "colour"}, "group_by"),
        ({"team": "north"}, "team"),
        ({"interval": "15min", "end": (T0 + dt.timedelta(days=40)).isoformat()}, "interval"),
        ({"start": "yesterday"}, "start"),
    ],
    ids=["unknown-kpi", "end-before-start", "unknown-interval", "unknown-group", "team-not-id", "too-long", "bad"],
)
def test_bad_parameters_get_a_clear_400(teams, params, field):
    # Given an admin / When a parameter is wrong
    response = session_client(UserFactory(role="admin")).get(URL, {"kpis": "handled", **HOUR, **params})
    # Then a 400 names it
    assert field in assert_error(response, 400, "invalid")["fields"]


def test_tokens_need_the_insights_read_scope(teams):
    # Given an integration client's tokens with and without insights:read
    client_user = UserFactory(role="integration")
    with_scope = token_client(client_user, scopes=["insights:read"])
    without = token_client(client_user, scopes=["interactions:read"])
    # When each asks / Then the scope decides
    assert _handled(with_scope)["rows"][0]["values"]["handled"]["value"] == 3
    assert "insights:read" in assert_error(without.get(URL, {"kpis": "handled", **HOUR}), 403)["message"]
    assert without.get("/api/v1/insights/kpis/definitions/").status_code == 403


def test_anonymous_callers_are_refused():
    # Given no sign-in / When the API is called / Then 401 or 403 in the one error shape
    response = APIClient().get(URL, {"kpis": "handled", **HOUR})
    assert response.status_code in (401, 403)
    assert "error" in response.json()


def test_the_definitions_list_every_kpi():
    # Given an agent / When the registry is read
    response = session_client(UserFactory()).get("/api/v1/insights/kpis/definitions/")
    # Then every KPI is there with its formula, numerator and denominator
    assert response.status_code == 200
    body = {kpi["name"]: kpi for kpi in response.json()}
    assert list(body) == list(KPIS)
    assert body["asa"]["denominator"] == "contacts answered"


def test_agents_and_cases_kpis_refuse_contact_groupings_with_a_400(teams):
    # Given an admin / When occupancy and the case backlog are asked by queue
    response = session_client(UserFactory(role="admin")).get(
        URL, {"kpis": ["occupancy", "case_backlog"], "group_by": "queue", **HOUR}
    )
    # Then a 400 says they group by team and agent only
    assert "team and agent only" in str(assert_error(response, 400, "invalid")["fields"]["group_by"])
