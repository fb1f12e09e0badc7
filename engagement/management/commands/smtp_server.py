"""manage.py smtp_server [--host H] [--port N]: CEA's SMTP server, until Ctrl-C or SIGTERM.

Mail for ``CEA_SMTP_RECIPIENTS`` becomes email conversations (engagement.adapters.mailboxes.smtp).
"""

from __future__ import annotations

import logging
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from engagement.adapters.mailboxes.smtp import Recipients, smtp_controller


class Command(BaseCommand):
    help = "Accept mail over SMTP for CEA_SMTP_RECIPIENTS; each message becomes an email conversation."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="The address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=2525, help="The port to listen on (default 2525)")

    def handle(self, *args, host: str, port: int, **options) -> None:
        recipients = Recipients(settings.CEA_SMTP_RECIPIENTS)
        if not recipients:
            raise CommandError(
                "CEA_SMTP_RECIPIENTS is empty: every recipient would be refused. Set it to the addresses "
                "(support@example.com) or domains (@help.example.com) to accept mail for."
            )
        # aiosmtpd logs every command of every session at INFO ("mail.log"); CEA logs what it refuses or fails.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        controller = smtp_controller(host=host, port=port, recipients=recipients)
        stopping = threading.Event()
        signal.signal(signal.SIGINT, lambda *_: stopping.set())
        signal.signal(signal.SIGTERM, lambda *_: stopping.set())
        try:
            controller.start()
        except (OSError, RuntimeError) as error:
            raise CommandError(f"The SMTP server cannot listen on {host}:{port}: {error}") from error
        accepted = sorted(recipients.addresses) + sorted(f"@{domain}" for domain in recipients.domains)
        self.stdout.write(f"CEA SMTP server on {host}:{port}, accepting mail for {', '.join(accepted)}")
        try:
            stopping.wait()
        finally:
            controller.stop()
