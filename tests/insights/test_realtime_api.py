"""GET /api/v1/insights/realtime/queues/: roles, teams, the ``insights:read`` scope, the figures."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.accounts.factories import UserFactory
from tests.engagement.factories import QueueFactory
from tests.engagement.routing_support import waiting
from tests.support import session_client, token_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("wallboard_env")]

URL = "/api/v1/insights/realtime/queues/"


@pytest.fixture
def queues(team_a, team_b):
    billing = QueueFactory(name="billing", team=team_a, service_level_seconds=30)
    QueueFactory(name="sales", team=team_b)
    QueueFactory(name="shared", team=None)
    waiting(billing)
    waiting(billing, age_seconds=45)
    return billing


def names(response) -> set[str]:
    return {row["name"] for row in response.json()}


def test_a_supervisor_reads_their_teams_queues_and_the_shared_ones(supervisor, queues):
    response = session_client(supervisor).get(URL)

    assert response.status_code == 200
    assert {"billing", "shared"} <= names(response)
    assert "sales" not in names(response)
    (billing,) = [row for row in response.json() if row["name"] == "billing"]
    assert billing["waiting"] == 2
    assert billing["longest_wait_seconds"] >= 45
    assert billing["service_level_target_seconds"] == 30
    assert billing["today"]["queued"] == 2
    assert billing["today"]["service_level_percent"] == 0.0  # one waiting past 30 s, nothing else decided
    assert billing["today"]["short_abandoned"] == 0
    assert billing["service_level_variant"] == (
        "Amazon Connect: contacts answered, abandoned or turned into a callback within 30 s of being queued"
        " ÷ contacts queued"
    )
    assert set(billing["last_15_minutes"]) >= {"since", "queued", "answered", "abandoned"}


def test_each_queues_service_level_follows_and_states_its_formula(admin_user, team_a):
    # Given a Genesys-style queue that leaves out late answers, with one contact waiting past its 20 s target
    genesys = QueueFactory(
        name="genesys-queue", team=team_a, service_level_formula="genesys", sl_counts_answered_after_target=False
    )
    waiting(genesys, age_seconds=45)

    # When the real-time figures are read
    (row,) = [row for row in session_client(admin_user).get(URL).json() if row["name"] == "genesys-queue"]

    # Then the waiting contact is not counted (answered late, the formula would leave it out), and the formula says so
    assert (row["today"]["queued"], row["today"]["service_level_percent"]) == (1, None)
    assert row["service_level_variant"] == "Genesys-style: answered within 20 s ÷ (answered within 20 s + abandoned)"


def test_the_team_filter_narrows_and_another_teams_filter_is_refused(supervisor, team_a, team_b, queues):
    assert "billing" in names(session_client(supervisor).get(URL, {"team": team_a.pk}))
    refused = session_client(supervisor).get(URL, {"team": team_b.pk})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert session_client(supervisor).get(URL, {"team": "abc"}).status_code == 400


def test_an_admin_reads_every_queue_and_filters_by_any_team(admin_user, team_b, queues):
    assert {"billing", "sales", "shared"} <= names(session_client(admin_user).get(URL))
    only_b = names(session_client(admin_user).get(URL, {"team": team_b.pk}))
    assert "sales" in only_b and "billing" not in only_b


def test_agents_and_anonymous_callers_are_refused(agent, queues):
    assert session_client(agent).get(URL).status_code == 403
    assert APIClient().get(URL).status_code in (401, 403)


def test_a_token_needs_insights_read(team_a, queues):
    client_user = UserFactory(username="bi-tool", role="integration")

    assert token_client(client_user, ["insights:read"]).get(URL).status_code == 200
    refused = token_client(client_user, ["customers:read"]).get(URL)
    assert refused.status_code == 403
    assert "insights:read" in refused.json()["error"]["message"]
