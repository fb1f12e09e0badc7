"""The model page and /api/v1/insights/models/: supervisors, admins and insights:read tokens; agents refused."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from insights.scoring.models import ModelRun
from tests.accounts.factories import UserFactory
from tests.support import session_client, token_client

pytestmark = pytest.mark.django_db

API = "/api/v1/insights/models/"
PAGE = "/insights/models/"


def a_run(kind: str, days_ago: int, auc: float) -> ModelRun:
    trained = dt.datetime(2026, 11, 1, tzinfo=dt.UTC) - dt.timedelta(days=days_ago)
    run = ModelRun.objects.create(
        kind=kind,
        version=f"{kind}-{days_ago}",
        horizon_days=30,
        train_cutoff=trained - dt.timedelta(days=60),
        eval_cutoff=trained - dt.timedelta(days=30),
        eval_until=trained,
        features=["contacts_90d", "value_tier"],
        train_rows=500,
        train_positives=120,
        eval_rows=510,
        eval_positives=130,
        auc=auc,
        brier=0.1523,
        base_rate=0.2549,
        calibration=[
            {"predicted": 0.1, "observed": 0.08, "rows": 300},
            {"predicted": 0.6, "observed": 0.55, "rows": 210},
        ],
        importances=[
            {"feature": "days_since_last_contact", "weight": 1.2},
            {"feature": "contacts_90d", "weight": -0.7},
        ],
        trained_at=trained,
        duration_seconds=1.5,
        pipeline=b"",
    )
    return run


@pytest.fixture
def runs(db):
    return [a_run("churn_risk", 7, 0.71), a_run("churn_risk", 0, 0.74), a_run("propensity", 0, 0.66)]


def page_of(user) -> tuple[int, str]:
    client = Client()
    client.force_login(user)
    response = client.get(PAGE)
    return response.status_code, response.content.decode()


def test_the_model_page_shows_each_models_latest_and_previous_runs(runs, supervisor):
    status, page = page_of(supervisor)
    assert status == 200
    churn = re.search(r'data-testid="model-churn_risk".*?</section>', page, re.S).group(0)
    assert 'data-testid="model-version">churn_risk-0<' in churn
    assert 'data-testid="model-auc">0.740<' in churn and 'data-testid="model-brier">0.1523<' in churn
    assert "500 customers, 120 positive" in churn and "510 customers, 130 positive" in churn
    # The chart and its table twin
    assert 'data-testid="model-chart"' in churn
    assert re.search(r"<td>0.100</td><td>0.080</td><td>300</td>", churn)
    assert "<td>days_since_last_contact</td><td>1.200</td>" in churn
    previous = re.search(r'data-testid="model-previous".*?</table>', churn, re.S).group(0)
    assert "churn_risk-7" in previous and "0.710" in previous
    assert 'data-testid="model-propensity"' in page and "propensity-0" in page
    # And how the figures are computed
    assert 'data-testid="model-how"' in page and "Brier score" in page
    # Strict CSP: scripts are static files
    assert re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)", page) == []


def test_an_untrained_model_says_how_to_train_it(db, admin_user):
    status, page = page_of(admin_user)
    assert status == 200
    assert page.count('data-testid="model-none"') == 2


def test_agents_may_not_open_the_model_page_and_anonymous_users_sign_in(runs, agent):
    assert page_of(agent)[0] == 403
    response = Client().get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_supervisors_of_any_team_and_admins_see_the_same_runs(runs, supervisor, team_b, admin_user):
    other = UserFactory(username="supervisor.b", role="supervisor", teams=[team_b])
    answers = [session_client(user).get(API) for user in (supervisor, other, admin_user)]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert answers[0].json() == answers[1].json() == answers[2].json()
    churn, propensity = answers[0].json()
    assert churn["kind"] == "churn_risk" and churn["latest"]["version"] == "churn_risk-0"
    assert [run["version"] for run in churn["previous"]] == ["churn_risk-7"]
    assert churn["latest"]["calibration"][0] == {"predicted": 0.1, "observed": 0.08, "rows": 300}
    assert propensity["latest"]["auc"] == 0.66 and propensity["previous"] == []
    assert "pipeline" not in churn["latest"]


def test_the_api_needs_the_insights_read_scope_and_refuses_agents(runs, integration_user, agent):
    assert token_client(integration_user, scopes=["insights:read"]).get(API).status_code == 200
    assert token_client(integration_user, scopes=["conversations:read"]).get(API).status_code == 403
    assert token_client(agent, scopes=["insights:read"]).get(API).status_code == 403
    assert session_client(agent).get(API).status_code == 403
    assert Client().get(API).status_code in (401, 403)
