"""API throttles: a default rate per API token (or signed-in user, or anonymous address) and tighter scopes.

Rates are set small here; each test has the cache (where throttles count) to itself (tests/conftest.py).
"""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from tests.api.conftest import ALL_SCOPES
from tests.support import assert_error

pytestmark = pytest.mark.django_db

GENEROUS = "1000/min"
NO_SUCH_CONVERSATION = "/api/v1/engagement/conversations/999999999"


@pytest.fixture
def rates(settings):
    """Set throttle rates for the test: ``rates(default="3/min", identify="2/min")``."""

    def set_rates(**scoped: str) -> None:
        configured = django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
        settings.REST_FRAMEWORK = {
            **django_settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**dict.fromkeys(configured, GENEROUS), **scoped},
        }

    return set_rates


def assert_throttled(response, *, within: int = 60) -> None:
    error = assert_error(response, 429, "throttled")
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= within
    assert error["retry_after_seconds"] == retry_after
    assert error["message"] == f"Too many requests: try again in {retry_after} seconds."


def test_the_default_rate_refuses_the_next_request_of_a_token_with_429_and_retry_after(rates, token_client, agent):
    # Given: three requests a minute per token
    rates(default="3/min")
    client = token_client(agent, scopes=ALL_SCOPES)
    # When
    statuses = [client.get("/api/v1/cases/").status_code for _ in range(3)]
    refused = client.get("/api/v1/cases/")
    # Then: the fourth is refused in the one error shape, with when to come back
    assert statuses == [200, 200, 200]
    assert_throttled(refused)


def test_the_default_rate_is_counted_per_token_and_per_signed_in_user(rates, token_client, client_for, agent):
    # Given: one token of the agent has used up its minute
    rates(default="2/min")
    spent = token_client(agent, scopes=ALL_SCOPES)
    assert [spent.get("/api/v1/cases/").status_code for _ in range(3)] == [200, 200, 429]
    # When / Then: another token of the same user, and the user's browser session, have their own budget
    assert token_client(agent, scopes=ALL_SCOPES).get("/api/v1/cases/").status_code == 200
    session = client_for(agent)
    assert [session.get("/api/v1/cases/").status_code for _ in range(3)] == [200, 200, 429]


def test_anonymous_requests_are_counted_per_client_address(rates):
    # Given: signed webhooks are the API's only anonymous requests; two a minute per address
    rates(anonymous="2/min")
    first, other = APIClient(REMOTE_ADDR="198.51.100.7"), APIClient(REMOTE_ADDR="203.0.113.20")
    # When
    statuses = [first.post("/api/v1/engagement/webhooks/no-such-source/").status_code for _ in range(3)]
    # Then: refused before the signature is even looked at; another address is not affected
    assert statuses == [404, 404, 429]
    assert_throttled(first.post("/api/v1/engagement/webhooks/no-such-source/"))
    assert other.post("/api/v1/engagement/webhooks/no-such-source/").status_code == 404


@pytest.mark.parametrize(
    ("scope", "method", "path"),
    [
        ("identify", "post", f"{NO_SUCH_CONVERSATION}/identify/"),
        ("auth", "post", f"{NO_SUCH_CONVERSATION}/verification/otp/"),
        ("auth", "post", f"{NO_SUCH_CONVERSATION}/verification/otp/check/"),
        ("auth", "post", f"{NO_SUCH_CONVERSATION}/verification/knowledge/"),
        ("lookup", "get", "/api/v1/lookup/?value=GB1234567890"),
        ("lookup", "get", "/api/v1/customers/?q=smith"),
        ("lookup", "get", "/api/v1/customers/999999999/aggregate/"),
        ("lookup", "get", "/api/v1/engagement/knowledge/search/?q=refund"),
    ],
)
def test_a_tighter_scope_refuses_the_next_request_while_other_endpoints_still_answer(
    rates, client_for, agent, scope, method, path
):
    # Given: two requests a minute in the scope, the default left generous
    rates(**{scope: "2/min"})
    client = client_for(agent)
    # When
    statuses = [getattr(client, method)(path, format="json").status_code for _ in range(2)]
    refused = getattr(client, method)(path, format="json")
    # Then
    assert 429 not in statuses
    assert_throttled(refused)
    assert client.get("/api/v1/cases/").status_code == 200


def test_creating_a_customer_does_not_spend_the_search_budget(rates, client_for, agent, team_a):
    # Given: searches are limited to one a minute
    rates(lookup="1/min")
    client = client_for(agent)
    assert client.get("/api/v1/customers/?q=smith").status_code == 200
    # When
    created = client.post(
        "/api/v1/customers/", {"given_name": "Bob", "family_name": "Jones", "team": team_a.pk}, format="json"
    )
    # Then
    assert created.status_code == 201, created.content
    assert_throttled(client.get("/api/v1/customers/?q=smith"))


def test_the_default_rates_are_configured_for_every_scope():
    assert django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] == {
        "default": "1200/min",
        "anonymous": "600/min",
        "identify": "120/min",
        "lookup": "120/min",
        "auth": "30/min",
    }
