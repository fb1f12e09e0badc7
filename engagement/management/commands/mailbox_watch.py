"""manage.py mailbox_watch [NAME ...] [--once]: read IMAP mailboxes, with IDLE where the server has it.

Without ``--once``, one thread per mailbox reads it, then waits in IDLE for new mail (or polls a
server without IDLE) until Ctrl-C or SIGTERM; the beat's poll leaves watched mailboxes alone.
With ``--once``, each mailbox is read once (for cron, or to try a new mailbox's settings).
"""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from engagement.adapters.mailboxes.imap import mailbox_fetch, mailbox_watch
from engagement.adapters.mailboxes.models import Mailbox


class Command(BaseCommand):
    help = "Read IMAP mailboxes (all active ones, or those named): IDLE where the server supports it, else polling."

    def add_arguments(self, parser) -> None:
        parser.add_argument("names", nargs="*", help="Mailbox names (default: every active mailbox)")
        parser.add_argument("--once", action="store_true", help="Read each mailbox once and exit")

    def handle(self, *args, names: list[str], once: bool, **options) -> None:
        mailboxes = Mailbox.objects.filter(is_active=True)
        if names:
            mailboxes = mailboxes.filter(name__in=names)
            missing = set(names) - set(mailboxes.values_list("name", flat=True))
            if missing:
                raise CommandError(f"No active mailbox named {', '.join(sorted(missing))}.")
        chosen = list(mailboxes.values_list("pk", "name"))
        if not chosen:
            raise CommandError("No active mailbox to read: add one in the console (Engagement › Mailboxes).")
        if once:
            for mailbox_id, name in chosen:
                result = mailbox_fetch(mailbox_id=mailbox_id)
                if result is None:
                    self.stdout.write(f"{name}: not read (busy, or failed: see its last error in the console)")
                else:
                    self.stdout.write(
                        f"{name}: {result.kept} kept, {result.duplicates} already kept, {result.refused} refused"
                    )
            return
        stop = threading.Event()
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        threads = [
            threading.Thread(
                target=mailbox_watch, kwargs={"mailbox_id": mailbox_id, "stop": stop}, name=f"mailbox-{name}"
            )
            for mailbox_id, name in chosen
        ]
        for thread in threads:
            thread.start()
        self.stdout.write(f"Watching {', '.join(name for _, name in chosen)} (Ctrl-C stops)")
        for thread in threads:
            thread.join()
