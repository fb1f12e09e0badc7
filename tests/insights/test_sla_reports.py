"""SLA met % per agent and per team on the report page, from the case rollup.

North: anna's case met its first response (answered 09:30, due 10:00), carl's breached it; south:
bob's met it. Per agent: anna 100 %, carl 0 %, bob 100 %; per team: north 50 %, south 100 %.
"""

from __future__ import annotations

import datetime as dt

import pytest

from insights.kpis.rollup import contact_rollup_rebuild
from tests.accounts.factories import TeamFactory, UserFactory
from tests.insights.factories import T0
from tests.records.factories import CaseFactory, CustomerFactory
from tests.support import session_client

pytestmark = pytest.mark.django_db
MINUTE, HOUR = dt.timedelta(minutes=1), dt.timedelta(hours=1)
URL = "/insights/reports/"


@pytest.fixture
def teams():
    north, south = TeamFactory(name="north"), TeamFactory(name="south")
    people = {
        name: UserFactory(username=name, first_name=name.title(), last_name="", teams=[team])
        for name, team in (("anna", north), ("carl", north), ("bob", south))
    }
    for name, team, met in (("anna", north, True), ("carl", north, False), ("bob", south, True)):
        CaseFactory(
            customer=CustomerFactory(team=team),
            team=team,
            assignee=people[name],
            created_at=T0 + MINUTE,
            first_response_due_at=T0 + HOUR,
            first_responded_at=T0 + 30 * MINUTE if met else None,
            first_response_breached=not met,
            status="open",
        )
    contact_rollup_rebuild(now=T0 + 3 * HOUR)
    return {"north": north, "south": south, **people}


def _sla(client, group_by):
    response = client.get(
        URL,
        {
            "kpis": "case_first_response_sla",
            "start": "2026-03-02",
            "end": "2026-03-02",
            "interval": "day",
            "group_by": group_by,
        },
    )
    assert response.status_code == 200, response.content
    return {row.group_label: row.cells[0].value for row in response.context["table"].rows}


def test_sla_met_per_agent_and_team(teams):
    admin = session_client(UserFactory(role="admin"))
    assert _sla(admin, "agent") == {"Anna": 100.0, "Carl": 0.0, "Bob": 100.0}
    assert _sla(admin, "team") == {"north": 50.0, "south": 100.0}


def test_a_supervisor_gets_sla_per_agent_of_their_team_only(teams):
    north_lead = session_client(UserFactory(role="supervisor", teams=[teams["north"]]))
    assert _sla(north_lead, "agent") == {"Anna": 100.0, "Carl": 0.0}
