"""The wallboard's pages: supervisors and admins only, each supervisor their own teams; no inline code."""

from __future__ import annotations

import html
import re

import pytest

from tests.accounts.factories import TeamFactory, UserFactory
from tests.engagement.factories import QueueFactory
from tests.engagement.routing_support import waiting

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("wallboard_env")]


def signed_in(client, user):
    client.force_login(user)
    return client


def test_a_supervisor_of_one_team_goes_straight_to_its_wallboard(client, supervisor, team_a):
    response = signed_in(client, supervisor).get("/insights/wallboard/")

    assert response.status_code == 302
    assert response["Location"] == f"/insights/wallboard/{team_a.pk}/"


def test_the_wallboard_page_shows_the_teams_queues_live(client, supervisor, team_a, team_b):
    waiting(QueueFactory(name="billing", label="Billing", team=team_a))
    QueueFactory(name="sales", team=team_b)

    response = signed_in(client, supervisor).get(f"/insights/wallboard/{team_a.pk}/")

    assert response.status_code == 200
    page = response.content.decode()
    assert f'data-socket-path="/ws/insights/wallboard/{team_a.pk}/"' in page
    row = re.search(r'<tr data-testid="wallboard-queue" data-queue="billing".*?</tr>', page, re.S).group(0)
    assert re.search(r'data-testid="queue-waiting">1\b', row)
    assert 'data-queue="sales"' not in page
    assert 'data-testid="wallboard-fullscreen"' in page
    # Strict CSP: the script and the styles are static files.
    assert "<style" not in page
    assert re.findall(r"<script(?![^>]*\bsrc=)", page) == []
    assert "/static/insights/wallboard.js" in page


def test_the_wallboard_states_each_queues_service_level_formula(client, supervisor, team_a):
    # Given a Connect queue and a Genesys-style one that leaves short abandons out
    QueueFactory(name="billing", label="Billing", team=team_a)
    QueueFactory(name="sales", label="Sales", team=team_a)
    QueueFactory(
        name="support",
        label="Support",
        team=team_a,
        service_level_seconds=30,
        service_level_formula="genesys",
        sl_excludes_short_abandons=True,
    )

    # When the supervisor opens the team's wallboard
    page = signed_in(client, supervisor).get(f"/insights/wallboard/{team_a.pk}/").content.decode()

    # Then the footnote states each formula once, with the queues that follow it (routing's shared General as well)
    formulas = re.findall(r'data-testid="wallboard-service-level-formula">([^<]+)<', page)
    assert [html.unescape(formula) for formula in formulas] == [
        "Billing, General, Sales: Amazon Connect: contacts answered, abandoned or turned into a callback"
        " within 20 s of being queued ÷ contacts queued",
        "Support: Genesys-style: answered within 30 s ÷ (answered within 30 s + answered later"
        " + abandoned (less short abandons under 5 s))",
    ]
    row = re.search(r'<tr data-testid="wallboard-queue" data-queue="support".*?</tr>', page, re.S).group(0)
    assert 'title="Genesys-style: answered within 30 s' in html.unescape(row)


def test_a_supervisor_of_several_teams_picks_one(client, team_a, team_b):
    both = UserFactory(username="supervisor.ab", role="supervisor", teams=[team_a, team_b])
    TeamFactory(name="Team C")

    response = signed_in(client, both).get("/insights/wallboard/")

    assert response.status_code == 200
    assert re.findall(r'data-testid="wallboard-pick">([^<]+)<', response.content.decode()) == ["Team A", "Team B"]


def test_an_admin_picks_among_every_team(client, admin_user, team_a, team_b):
    response = signed_in(client, admin_user).get("/insights/wallboard/")

    assert re.findall(r'data-testid="wallboard-pick">([^<]+)<', response.content.decode()) == ["Team A", "Team B"]
    assert signed_in(client, admin_user).get(f"/insights/wallboard/{team_b.pk}/").status_code == 200


@pytest.mark.parametrize("path", ["/insights/wallboard/", "/insights/wallboard/{team}/"])
def test_agents_are_refused(client, agent, team_a, path):
    response = signed_in(client, agent).get(path.format(team=team_a.pk))

    assert response.status_code == 403


def test_another_teams_wallboard_is_refused_and_an_unknown_one_not_found(client, supervisor, team_b):
    assert signed_in(client, supervisor).get(f"/insights/wallboard/{team_b.pk}/").status_code == 403
    assert client.get("/insights/wallboard/999999/").status_code == 404


def test_anonymous_users_are_sent_to_sign_in(client, team_a):
    response = client.get(f"/insights/wallboard/{team_a.pk}/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
