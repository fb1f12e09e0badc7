"""manage.py ensure_demo_site [--port N] [--origin URL ...]"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cea.accounts.models import Team
from cea.common.env import env_int
from cea.common.errors import ApplicationError
from engagement.webchat.services import demo_site_ensure

DEMO_TEAM = "Retail Support"


def demo_origins(*, hosts: list[str], port: int, trusted: list[str], behind_tls: bool) -> list[str]:
    """The origins the demo shop is served from: each concrete allowed host on ``port``.

    Wildcards (``*``, ``.example.com``) and Django's ``testserver`` name no browser origin and are
    skipped; ``CSRF_TRUSTED_ORIGINS`` already are origins; behind a TLS proxy the https origin
    on the default port is added too.
    """
    origins = []
    for host in hosts:
        if not host or host == "*" or host.startswith(".") or host == "testserver":
            continue
        origins.append(f"http://{host}:{port}" if port != 80 else f"http://{host}")
        if behind_tls:
            origins.append(f"https://{host}")
    return [*origins, *trusted]


class Command(BaseCommand):
    help = (
        "Create the demo shop's web chat site key (key site_demo_shop) once, and allow the origins this "
        "server answers on (ALLOWED_HOSTS on --port, CSRF_TRUSTED_ORIGINS, and any --origin). Idempotent."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--port",
            type=int,
            default=None,
            help="The port the web server listens on (default: $PORT, else 8000)",
        )
        parser.add_argument("--origin", action="append", default=[], help="Another origin to allow (repeatable)")

    def handle(self, *args, port: int | None, origin: list[str], **options) -> None:
        port = port if port is not None else env_int("PORT", 8000, minimum=1, maximum=65535)
        if not 1 <= port <= 65535:
            raise CommandError("--port is 1-65535.")
        origins = demo_origins(
            hosts=list(settings.ALLOWED_HOSTS),
            port=port,
            trusted=list(settings.CSRF_TRUSTED_ORIGINS),
            behind_tls=getattr(settings, "SECURE_PROXY_SSL_HEADER", None) is not None,
        )
        try:
            site, created, added = demo_site_ensure(
                origins=[*origins, *origin], team=Team.objects.filter(name=DEMO_TEAM).first()
            )
        except ApplicationError as refusal:
            raise CommandError(refusal.message) from None
        if created:
            self.stdout.write(f"Created the demo site key {site.key} for {', '.join(site.allowed_origins)}.")
        elif added:
            self.stdout.write(f"Demo site key {site.key}: allowed {', '.join(added)} as well.")
        else:
            self.stdout.write(f"Demo site key {site.key} is up to date.")
