"""The console for shared canned responses: a team's supervisors manage their team's, administrators
every team's; unknown variables are form errors; personal texts are not listed."""

from __future__ import annotations

import pytest

from engagement.canned.models import CannedResponse
from engagement.canned.services import canned_create
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

ADD = "/admin/engagement/cannedresponse/add/"
LIST = "/admin/engagement/cannedresponse/"


@pytest.fixture
def supervisor_b(team_b):
    return UserFactory(username="supervisor.b", role="supervisor", teams=[team_b])


def _post(team, **fields) -> dict:
    return {"team": team.pk, "title": "Hello", "shortcut": "hello", "body": "Hi", "is_active": "on", **fields}


def test_a_supervisor_adds_a_shared_text_for_their_team(client, supervisor, team_a):
    client.force_login(supervisor)
    # When the supervisor adds a text with variables for team A
    response = client.post(ADD, _post(team_a, body="Hi {{customer.first_name}}, {{agent.first_name}} here"))
    # Then it is saved as team A's shared text
    assert response.status_code == 302
    saved = CannedResponse.objects.get(shortcut="hello")
    assert (saved.team, saved.owner) == (team_a, None)


def test_an_unknown_variable_is_a_form_error_in_the_console(client, supervisor, team_a):
    client.force_login(supervisor)
    response = client.post(ADD, _post(team_a, body="Hi {{customer.nickname}}"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["body"] == ["Unknown variable(s): {{customer.nickname}}."]
    assert not CannedResponse.objects.exists()


def test_a_supervisor_cannot_add_a_text_for_another_team(client, supervisor, team_b):
    client.force_login(supervisor)
    response = client.post(ADD, _post(team_b))
    # Team B is not a choice for them: a form error, nothing saved
    assert response.status_code == 200
    assert "team" in response.context["adminform"].form.errors
    assert not CannedResponse.objects.exists()


def test_the_list_shows_the_supervisors_teams_shared_texts_only(
    client, supervisor, supervisor_b, agent, team_a, team_b
):
    mine = canned_create(actor=supervisor, team=team_a, title="A", shortcut="a", body="A")
    theirs = canned_create(actor=supervisor_b, team=team_b, title="B", shortcut="b", body="B")
    canned_create(actor=agent, title="Personal", shortcut="p", body="P")
    client.force_login(supervisor)
    listed = [row.pk for row in client.get(LIST).context["cl"].result_list]
    assert listed == [mine.pk]
    assert client.get(f"{LIST}{theirs.pk}/change/").status_code == 302  # not found for them: back to the list
