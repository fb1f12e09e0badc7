"""GET /api/v1/insights/realtime/queues/: roles, teams, the ``insights:read`` scope, the figures."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from cea.accounts.models import ApiToken
from cea.accounts.services import api_token_create
from tests.accounts.factories import UserFactory
from tests.engagement.factories import QueueFactory
from tests.engagement.routing_support import waiting

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("wallboard_env")]

URL = "/api/v1/insights/realtime/queues/"


def session(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def bearer(user, scopes: list[str]) -> APIClient:
    """A client with a token of ``scopes``. ``insights:read`` is written to the row directly until the
    scope is one of ApiScope's choices (issue 12's KPI branch adds it with its migration)."""
    token, plaintext = api_token_create(user=user, name="tests", scopes=["customers:read"])
    ApiToken.objects.filter(pk=token.pk).update(scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


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
    response = session(supervisor).get(URL)

    assert response.status_code == 200
    assert {"billing", "shared"} <= names(response)
    assert "sales" not in names(response)
    (billing,) = [row for row in response.json() if row["name"] == "billing"]
    assert billing["waiting"] == 2
    assert billing["longest_wait_seconds"] >= 45
    assert billing["service_level_target_seconds"] == 30
    assert billing["today"]["queued"] == 2
    assert billing["today"]["service_level_percent"] == 0.0  # one waiting past 30 s, nothing else decided
    assert set(billing["last_15_minutes"]) >= {"since", "queued", "answered", "abandoned"}


def test_the_team_filter_narrows_and_another_teams_filter_is_refused(supervisor, team_a, team_b, queues):
    assert "billing" in names(session(supervisor).get(URL, {"team": team_a.pk}))
    refused = session(supervisor).get(URL, {"team": team_b.pk})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert session(supervisor).get(URL, {"team": "abc"}).status_code == 400


def test_an_admin_reads_every_queue_and_filters_by_any_team(admin_user, team_b, queues):
    assert {"billing", "sales", "shared"} <= names(session(admin_user).get(URL))
    only_b = names(session(admin_user).get(URL, {"team": team_b.pk}))
    assert "sales" in only_b and "billing" not in only_b


def test_agents_and_anonymous_callers_are_refused(agent, queues):
    assert session(agent).get(URL).status_code == 403
    assert APIClient().get(URL).status_code in (401, 403)


def test_a_token_needs_insights_read(team_a, queues):
    client_user = UserFactory(username="bi-tool", role="integration")

    assert bearer(client_user, ["insights:read"]).get(URL).status_code == 200
    refused = bearer(client_user, ["customers:read"]).get(URL)
    assert refused.status_code == 403
    assert "insights:read" in refused.json()["error"]["message"]
