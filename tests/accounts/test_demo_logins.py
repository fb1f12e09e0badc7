"""manage.py ensure_demo_logins: three demo users, passwords kept in the data folder (settings.DATA_DIR)."""

from __future__ import annotations

import io
import json
import stat

import pytest
from django.core.management import call_command

from cea.accounts.models import Team, User

pytestmark = pytest.mark.django_db


def test_the_demo_logins_are_made_once_and_their_passwords_kept_in_the_data_folder(settings, tmp_path):
    # Given: a data folder of the test's own, and the demo team
    settings.DATA_DIR = tmp_path
    team = Team.objects.create(name="Retail Support")
    # When: the command runs twice
    call_command("ensure_demo_logins", stdout=io.StringIO())
    first = json.loads((tmp_path / "demo-logins.json").read_text())
    call_command("ensure_demo_logins", stdout=io.StringIO())
    second = json.loads((tmp_path / "demo-logins.json").read_text())
    # Then: three users, the same passwords both times, readable by the owner only
    assert sorted(first) == ["demo.admin", "demo.agent", "demo.supervisor"]
    assert first == second
    assert stat.S_IMODE((tmp_path / "demo-logins.json").stat().st_mode) == 0o600
    for username, password in first.items():
        user = User.objects.get(username=username)
        assert user.check_password(password)
        assert list(user.teams.all()) == ([] if username == "demo.admin" else [team])
