"""Conversations CEA starts on SMS and WhatsApp leave through a source's provider, as replies do.

``outbound.services.outbound_start`` checks who may, the consent and the address, then asks the
transport registered here (``ProviderOutreach``, registered with the reply transport in
``outbox.register``) for the sources it may go through, the thread the customer's answers join,
the first message's payload and its queueing in the provider outbox. Outbound sits below the
adapters, so it reaches them only through this registration.

- Sources: ``outbox.sending_sources`` of the conversation's channel (active, a sender id, a
  provider with an adapter), of the customer's team or of no team; WhatsApp's are the social
  sources of the WhatsApp provider, SMS's the SMS sources of any other. A WhatsApp source offers
  its approved ``MessageTemplate`` rows.
- Thread: ``<source>:<address>:<n>`` through ``ingest.open_thread``, the key the source's inbound
  webhook threads the customer's messages by (``webhooks._sender_ingest``), so their answer joins
  the conversation while it is open.
- Payload: ``outbox.provider_payload`` (``delivery``, ``source``, ``provider``, ``to``, ``from``,
  ``receipts``), with an SMS's shape (``sms_rules.sms_check``, a 400 for too many segments).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from cea.common.channels import Channel
from engagement.adapters.ingest import open_thread
from engagement.adapters.models import MessageTemplate, Provider, TemplateStatus
from engagement.adapters.outbox import provider_message_queue, provider_payload, sending_sources
from engagement.adapters.sms_rules import sms_check, sms_shape
from engagement.conversations.models import Conversation, Message
from engagement.outbound.services import ANY_PROVIDER, MEDIA, OutreachSource, OutreachTemplate
from records.customers.models import Customer


class ProviderOutreach:
    """The outreach transport of SMS and WhatsApp: through a source's provider, by the outbox."""

    def sources(self, *, customer: Customer, provider: str) -> list[OutreachSource]:
        channel = next(medium.channel for medium in MEDIA.values() if medium.provider == provider)
        sources = sending_sources(channel=channel).filter(Q(team__isnull=True) | Q(team_id=customer.team_id))
        if provider == ANY_PROVIDER:
            sources = sources.exclude(provider=Provider.WHATSAPP)
        else:
            sources = sources.filter(provider=provider)
        found = list(sources.order_by("name"))
        templates: dict[int, list[OutreachTemplate]] = {}
        if provider == Provider.WHATSAPP:
            approved = MessageTemplate.objects.filter(source__in=found, status=TemplateStatus.APPROVED)
            for template in approved.order_by("name", "language", "id"):
                templates.setdefault(template.source_id, []).append(
                    OutreachTemplate(
                        id=template.pk,
                        name=template.name,
                        language=template.language,
                        body=template.body,
                        params=template.params,
                    )
                )
        return [
            OutreachSource(
                name=source.name,
                label=f"{source.name} ({source.sender_id})",
                provider=source.provider,
                templates=tuple(templates.get(source.pk, ())),
            )
            for source in found
        ]

    def thread_open(self, *, through: str, channel: str, address: str, **start: Any) -> tuple[Conversation, bool]:
        return open_thread(channel=channel, thread_key=f"{through}:{address}", **start)

    def payload(self, *, source: str, channel: str, address: str, text: str) -> dict:
        webhook_source = sending_sources(channel=channel).get(name=source)
        payload = provider_payload(source=webhook_source, to=address)
        if channel == Channel.SMS:
            payload["sms"] = sms_check(text).as_dict()
        return payload

    def queued(self, *, message: Message, source: str) -> None:
        provider_message_queue(message=message, source=sending_sources(channel=message.channel).get(name=source))

    def text_shape(self, *, channel: str, text: str) -> dict | None:
        return sms_shape(text).as_dict() if channel == Channel.SMS else None


def register() -> None:
    """Conversations CEA starts on SMS and WhatsApp leave through a source's provider (``outbox.register``)."""
    from engagement.outbound.services import outreach_transport_register

    outreach_transport_register(ProviderOutreach())
