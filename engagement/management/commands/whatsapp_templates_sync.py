"""manage.py whatsapp_templates_sync SOURCE [SOURCE ...]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from cea.common.errors import ApplicationError
from engagement.adapters.models import WebhookSource
from engagement.adapters.outbox import SendError
from engagement.adapters.whatsapp import whatsapp_templates_sync


class Command(BaseCommand):
    help = (
        "Keep each WhatsApp source's message templates in step with its WhatsApp Business Account's "
        "(GET /{BUSINESS_ACCOUNT_ID}/message_templates): created or updated by name and language."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("sources", nargs="+", help="The WhatsApp sources' names")

    def handle(self, *args, **options) -> None:
        for name in options["sources"]:
            source = WebhookSource.objects.filter(name=name).first()
            if source is None:
                raise CommandError(f"No source named {name!r}.")
            try:
                synced = whatsapp_templates_sync(source)
            except ApplicationError as error:
                raise CommandError(f"{name}: {error.message}") from error
            except SendError as error:
                raise CommandError(f"{name}: Meta: {error.reason}") from error
            self.stdout.write(f"{name}: {synced.created} created, {synced.updated} updated")
