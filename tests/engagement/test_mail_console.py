"""The mailboxes' console: administrators configure them; supervisors see their teams' mailboxes, change none."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from engagement.adapters.mailboxes.models import AfterFetch, Mailbox, Security
from tests.records.test_console import form_data

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/engagement/mailbox/add/"


def new_mailbox(**fields) -> dict:
    return {
        "name": "billing-inbox",
        "host": "imap.example.com",
        "port": "993",
        "security": Security.SSL,
        "username": "billing@example.com",
        "folder": "INBOX",
        "after_fetch": AfterFetch.MOVE,
        "move_to": "",
        "queue": "",
        "team": "",
        "is_active": "on",
        **fields,
    }


@pytest.fixture
def team_a_mailbox(team_a) -> Mailbox:
    return Mailbox.objects.create(name="team-a-inbox", host="imap.example.com", username="a@example.com", team=team_a)


def test_an_admin_adds_a_mailbox_and_moving_needs_a_folder(client, admin_user, team_a):
    # Given an administrator in the console
    client.force_login(admin_user)
    # When they add a mailbox that moves kept mail without naming the folder, then with it
    refused = client.post(ADD_URL, new_mailbox(team=str(team_a.pk)))
    added = client.post(ADD_URL, new_mailbox(team=str(team_a.pk), move_to="Done"))
    # Then the first is a form error, the second is kept; its page names the password's variable
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors == {"move_to": ["Name the folder kept messages move to."]}
    assert added.status_code == 302
    mailbox = Mailbox.objects.get()
    assert (mailbox.name, mailbox.team, mailbox.move_to, mailbox.last_uid) == ("billing-inbox", team_a, "Done", 0)
    page = client.get(f"/admin/engagement/mailbox/{mailbox.pk}/change/")
    assert "CEA_SOURCE_BILLING_INBOX_PASSWORD" in page.content.decode()


def test_a_supervisor_sees_their_teams_mailbox_and_cannot_change_or_add_one(client, supervisor, team_a_mailbox):
    # Given team A's supervisor
    client.force_login(supervisor)
    page = client.get(f"/admin/engagement/mailbox/{team_a_mailbox.pk}/change/")
    assert page.status_code == 200
    # When they post a change and try to add a mailbox
    changed = client.post(f"/admin/engagement/mailbox/{team_a_mailbox.pk}/change/", {**form_data(page), "port": "1"})
    added = client.post(ADD_URL, new_mailbox(move_to="Done"))
    # Then both are refused
    assert (changed.status_code, added.status_code) == (403, 403)
    team_a_mailbox.refresh_from_db()
    assert team_a_mailbox.port == 993
    assert Mailbox.objects.count() == 1


def test_another_teams_supervisor_and_an_agent_cannot_see_the_mailbox(client, supervisor_b, agent, team_a_mailbox):
    # Given team B's supervisor
    client.force_login(supervisor_b)
    # When they list mailboxes and open team A's
    listed = client.get("/admin/engagement/mailbox/")
    opened = client.get(f"/admin/engagement/mailbox/{team_a_mailbox.pk}/change/")
    # Then it is not listed and cannot be opened
    assert listed.status_code == 200
    assert list(listed.context["cl"].queryset) == []
    assert opened.status_code == 302  # the admin redirects a row out of scope to the index, as missing
    # And an agent has no console at all
    client.force_login(agent)
    assert client.get("/admin/engagement/mailbox/").status_code in (302, 403)


def test_the_smtp_server_command_refuses_to_start_without_recipients(settings):
    # Given no recipients configured
    settings.CEA_SMTP_RECIPIENTS = []
    # When / Then
    with pytest.raises(CommandError, match="CEA_SMTP_RECIPIENTS is empty"):
        call_command("smtp_server", "--port", "2525")


def test_the_watch_command_names_mailboxes_that_do_not_exist(team_a_mailbox):
    # When / Then
    with pytest.raises(CommandError, match="No active mailbox named nope"):
        call_command("mailbox_watch", "nope", "--once")
