"""The consent history: every grant and withdrawal, by whom, when, from where (API and the 360 page)."""

from __future__ import annotations

import pytest

from cea.common.channels import Channel
from records.customers.services import customer_set_consent
from tests.support import make_customer, session_client

pytestmark = pytest.mark.django_db


def test_the_history_lists_each_change_newest_first_with_who_and_where(agent, supervisor, team_a):
    # Given
    customer = make_customer(team_a)
    customer_set_consent(
        actor=None, customer=customer, channel=Channel.EMAIL, purpose="marketing", granted=True, source="import"
    )
    customer_set_consent(
        actor=agent, customer=customer, channel=Channel.EMAIL, purpose="marketing", granted=False, source="phone call"
    )
    # When
    response = session_client(supervisor).get(f"/api/v1/customers/{customer.pk}/consents/history/")
    # Then
    assert response.status_code == 200
    assert [(c["change"], c["username"], c["source"], c["channel"], c["purpose"]) for c in response.json()] == [
        ("withdrawn", "agent.a", "phone call", "email", "marketing"),
        ("granted", None, "import", "email", "marketing"),
    ]


def test_the_api_records_a_consent_change_under_the_user_who_made_it(agent, team_a):
    # Given
    customer = make_customer(team_a)
    api = session_client(agent)
    # When
    api.post(
        f"/api/v1/customers/{customer.pk}/consents/",
        {"channel": "sms", "purpose": "service", "granted": True, "source": "web form"},
        format="json",
    )
    history = api.get(f"/api/v1/customers/{customer.pk}/consents/history/").json()
    # Then
    assert [(c["change"], c["username"], c["source"]) for c in history] == [("granted", "agent.a", "web form")]


def test_another_teams_user_may_not_read_the_history(agent_b, team_a):
    # Given
    customer = make_customer(team_a)
    # When
    response = session_client(agent_b).get(f"/api/v1/customers/{customer.pk}/consents/history/")
    # Then
    assert response.status_code == 403


def test_the_360_page_shows_the_history(client, agent, team_a):
    # Given
    customer = make_customer(team_a)
    customer_set_consent(actor=agent, customer=customer, channel=Channel.SMS, purpose="research", granted=True)
    client.force_login(agent)
    # When
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    # Then
    assert 'data-testid="consent-history"' in page
    assert 'research: <strong class="ok">granted</strong> by agent.a' in page
