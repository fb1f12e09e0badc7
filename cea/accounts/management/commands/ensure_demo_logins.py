"""manage.py ensure_demo_logins: the demo agent, supervisor and admin, with passwords printed.

Passwords are random, made once and kept in ``<data>/demo-logins.json`` (readable by the
owner only), so a demo reachable by others does not share well-known passwords.
"""

from __future__ import annotations

import json
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand

from cea.accounts.models import Team, User
from cea.accounts.services import user_create, user_set_role
from cea.common.roles import Role

DEMO_LOGINS = (("demo.agent", Role.AGENT), ("demo.supervisor", Role.SUPERVISOR), ("demo.admin", Role.ADMIN))
DEMO_TEAM = "Retail Support"


class Command(BaseCommand):
    help = "Create (or reset) the demo logins and print them."

    def handle(self, *args, **options) -> None:
        path = settings.DATA_DIR / "demo-logins.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        passwords = json.loads(path.read_text()) if path.exists() else {}
        team = Team.objects.filter(name=DEMO_TEAM).first()
        self.stdout.write("Demo logins:")
        for username, role in DEMO_LOGINS:
            password = passwords.setdefault(username, secrets.token_urlsafe(9))
            user = User.objects.filter(username=username).first()
            if user is None:
                user = user_create(
                    username=username,
                    role=role,
                    password=password,
                    validate=False,
                    first_name="Demo",
                    last_name=str(role.label),
                )
            else:
                user_set_role(user=user, role=role)
                user.set_password(password)
                user.save(update_fields=["password"])
            if team and role != Role.ADMIN:
                user.teams.add(team)
            self.stdout.write(f"  {role.label:<14} {username:<16} {password}")
        path.write_text(json.dumps(passwords, indent=2))
        path.chmod(0o600)
