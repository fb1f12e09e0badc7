"""Proactive outbound: a conversation CEA starts with a customer, and a callback routed to agents.

``outbound_start`` checks, then does: who may (the system, administrators, integration clients, the
agents and supervisors of the customer's team), the customer's consent for the channel and the
purpose (records' ``Consent``: missing or withdrawn is a ``Conflict``), and an address for the
channel (an email or phone identity of the customer, else the profile's). It then opens an outbound
conversation through the funnel (``conversation_start``: the journey gets ``conversation.started``),
adds the first message and has it delivered after commit: email as agents' email replies are
(``deliver_email_reply``); SMS and WhatsApp (an approved template) through a source's provider by the
provider outbox, as agents' replies are, through the transport the adapters register
(``outreach_transport_register``, ``engagement.adapters.outreach``), in the thread the customer's
answers join; an SMS with no source through the configured sender (``deliver_outbound_sms``). Started by
an agent or a supervisor, the conversation is theirs and active, on their desk; started by the
system or a client, it waits in self-service for the customer's answer.

``callback_request`` books a callback: at ``due_at`` (now by default) a voice conversation with the
customer joins the queue as work (``conversation_escalate``), and the router offers it to an agent,
who calls the customer back. Before its due time nothing is queued: a task sent on commit with the
delay, and the beat's sweep (``callbacks_queue_due``) for any it missed, queue it when due.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from typing import Any, Protocol

from celery import signature
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext, gettext_lazy

from cea.accounts.models import User
from cea.accounts.types import Actor
from cea.common.channels import Channel, Direction
from cea.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from cea.common.roles import Role, role_of, sees_everything, team_ids_of
from cea.common.tasks import send_on_commit
from engagement.access import is_desk_user, require_handling_agent
from engagement.conversations.consent import consent_required
from engagement.conversations.delivery import Delivery
from engagement.conversations.models import AuthorKind, Conversation, ConversationStatus, Message
from engagement.conversations.services import conversation_start, conversation_status_push, message_add
from engagement.orchestration import conversation_end, conversation_escalate
from engagement.outbound.models import Callback, CallbackOutcome, CallbackStatus
from engagement.routing.models import Queue
from records.customers.models import Consent, ConsentPurpose, Customer, CustomerStatus
from records.identities.models import IdentityKind
from records.journey.services import journey_record

DELIVER_EMAIL_TASK = "engagement.conversations.deliver_email_reply"
DELIVER_SMS_TASK = "engagement.outbound.deliver_sms"
QUEUE_CALLBACK_TASK = "engagement.outbound.queue_due_callback"

WHATSAPP = "whatsapp"


@dataclass(frozen=True)
class Medium:
    """How CEA starts a conversation: the conversation's channel (also the channel the customer's
    consent is asked on), the kind of address it goes to, and whether it leaves through a source's
    provider (``provider``: which one; ``any``: any but WhatsApp)."""

    label: str
    channel: str
    address_kind: str
    provider: str = ""


ANY_PROVIDER = "any"
# The ways CEA can start a conversation (the ``channel`` of ``outbound_start``). WhatsApp is a
# social DM: its consent is the customer's Social DM consent.
MEDIA = {
    Channel.EMAIL.value: Medium("Email", Channel.EMAIL, IdentityKind.EMAIL),
    Channel.SMS.value: Medium("SMS", Channel.SMS, IdentityKind.PHONE, provider=ANY_PROVIDER),
    WHATSAPP: Medium("WhatsApp", Channel.SOCIAL, IdentityKind.PHONE, provider=WHATSAPP),
}
# The channels CEA can start a conversation on, and the kind of address each needs.
OUTBOUND_CHANNELS = {key: medium.address_kind for key, medium in MEDIA.items()}
MAX_TEXT = {Channel.EMAIL.value: 20_000, Channel.SMS.value: 1_600, WHATSAPP: 1_024}
MAX_SUBJECT = 300
MAX_SOURCE = 120
MAX_PARAM = 200
DEFAULT_SUBJECT = "A message from our customer service"
ADDRESS_LABELS: dict[str, str] = {IdentityKind.EMAIL: "email address", IdentityKind.PHONE: "phone number"}
NO_ADDRESS: dict[str, Any] = {
    IdentityKind.EMAIL: gettext_lazy("No email address."),
    IdentityKind.PHONE: gettext_lazy("No phone number."),
}
PLACEHOLDER = re.compile(r"\{\{\s*([0-9]{1,2})\s*\}\}")


@dataclass(frozen=True)
class OutreachTemplate:
    """An approved message template a source may send (``adapters.models.MessageTemplate``)."""

    id: int
    name: str
    language: str
    body: str
    params: int

    def render(self, values: list[str] | tuple[str, ...]) -> str:
        """The body with ``{{1}}``, ``{{2}}`` … replaced by ``values`` (a missing or blank one stays)."""

        def value(match: re.Match[str]) -> str:
            index = int(match.group(1)) - 1
            return values[index] if 0 <= index < len(values) and values[index] else match.group(0)

        return PLACEHOLDER.sub(value, self.body)


@dataclass(frozen=True)
class OutreachSource:
    """A source a conversation can be started through: its name, provider, and approved templates."""

    name: str
    label: str
    provider: str
    templates: tuple[OutreachTemplate, ...] = ()


class OutreachTransport(Protocol):
    """How a conversation CEA starts leaves through a source's provider. The adapters register one
    (``engagement.adapters.outreach``), as they register the reply transport: this layer is below them."""

    def sources(self, *, customer: Customer, provider: str) -> list[OutreachSource]:
        """The sources that can send for the customer's team, of ``provider`` (``ANY_PROVIDER``: but WhatsApp)."""
        ...

    def thread_open(self, *, through: str, channel: str, address: str, **start: Any) -> tuple[Conversation, bool]:
        """The open conversation of the thread the customer's answers through ``through`` join, or a new one."""
        ...

    def payload(self, *, source: str, channel: str, address: str, text: str) -> dict[str, Any]:
        """The first message's payload as a reply through ``source`` has it; ``ValidationFailed`` if refused."""
        ...

    def queued(self, *, message: Message, source: str) -> None:
        """Queue the message in the provider outbox (sent on commit)."""
        ...

    def text_shape(self, *, channel: str, text: str) -> dict[str, Any] | None:
        """How ``text`` is sent on ``channel``: an SMS's encoding and segments (``None``: no shape)."""
        ...


_transport: list[OutreachTransport] = []


def outreach_transport_register(transport: OutreachTransport) -> None:
    """Make ``transport`` send the SMS and WhatsApp conversations CEA starts (once, at start-up)."""
    _transport[:] = [transport]


def require_outreach(actor: Actor, customer: Customer) -> None:
    """The system (``None``), administrators, integration clients and the agents and supervisors of
    the customer's team may contact the customer or book a callback; anyone else ``PermissionDenied``."""
    if actor is None or sees_everything(actor):
        return
    if role_of(actor) in (Role.AGENT, Role.SUPERVISOR) and customer.team_id in team_ids_of(actor):
        return
    raise PermissionDenied("Only the customer's team (or an administrator) may contact this customer.")


def outreach_customer(*, user: Actor, customer_id: int) -> Customer:
    """The customer an agent or a supervisor of their team may start a conversation with (the 360
    page's panel); for anyone else, as for an unknown id, ``NotFound``: the panel does not exist."""
    customer = Customer.objects.select_related("team").filter(pk=customer_id).first()
    if (
        customer is None
        or role_of(user) not in (Role.AGENT, Role.SUPERVISOR)
        or customer.team_id not in team_ids_of(user)
    ):
        raise NotFound(f"No customer {customer_id} you may contact.")
    return customer


def contact_address(*, customer: Customer, kind: str) -> str | None:
    """The customer's address of ``kind`` (email or phone): their primary identity of that kind, else a
    verified one, else the oldest; failing that, the profile's email or phone. ``None`` when there is none."""
    value = (
        customer.identities.filter(kind=kind)
        .order_by("-is_primary", F("verified_at").desc(nulls_last=True), "created_at", "id")
        .values_list("value", flat=True)
        .first()
    )
    if value:
        return value
    return (customer.email if kind == IdentityKind.EMAIL else customer.phone) or None


def whatsapp_address(*, customer: Customer) -> str | None:
    """The customer's WhatsApp number in E.164 (``+<wa id>``: WhatsApp's id of a number is its E.164
    form without ``+``, and the WhatsApp adapter identifies and threads its senders by ``+<wa id>``):
    their ``whatsapp:`` social identity (primary first), else their phone number; ``None`` when they
    have neither."""
    value = (
        customer.identities.filter(kind=IdentityKind.SOCIAL, value__startswith=f"{WHATSAPP}:")
        .order_by("-is_primary", F("verified_at").desc(nulls_last=True), "created_at", "id")
        .values_list("value", flat=True)
        .first()
    )
    if value:
        return "+" + value.partition(":")[2].lstrip("+")
    return contact_address(customer=customer, kind=IdentityKind.PHONE)


def medium_address(*, customer: Customer, channel: str) -> str | None:
    """Where a conversation started on ``channel`` (a key of ``MEDIA``) goes to; ``None``: nowhere."""
    if channel == WHATSAPP:
        return whatsapp_address(customer=customer)
    return contact_address(customer=customer, kind=MEDIA[channel].address_kind)


def outreach_text_shape(*, channel: str, text: str) -> dict[str, Any] | None:
    """How ``text`` goes out on ``channel`` (a key of ``MEDIA``): an SMS's segments, for the panel."""
    medium = MEDIA.get(channel)
    if medium is None or not _transport:
        return None
    return _transport[0].text_shape(channel=medium.channel, text=text)


def outreach_sources(*, customer: Customer, channel: str) -> list[OutreachSource]:
    """The sources a conversation on ``channel`` (a key of ``MEDIA``) can be started through for
    ``customer`` (none for email, or without a registered transport)."""
    provider = MEDIA[channel].provider
    if not provider or not _transport:
        return []
    return _transport[0].sources(customer=customer, provider=provider)


@dataclass(frozen=True)
class OutboundOption:
    channel: str
    purpose: str
    label: str


def outbound_options(*, customer: Customer) -> list[OutboundOption]:
    """The email and SMS channel and purpose pairs the customer granted, with an address: what the
    desk's form offers (the 360 page's panel, ``outreach_channels``, offers WhatsApp too)."""
    direct = [Channel.EMAIL, Channel.SMS]
    granted = Consent.objects.filter(customer=customer, granted=True, channel__in=direct).order_by("channel", "purpose")
    return [
        OutboundOption(
            channel=consent.channel,
            purpose=consent.purpose,
            label=f"{Channel(consent.channel).label} · {ConsentPurpose(consent.purpose).label}",
        )
        for consent in granted
        if contact_address(customer=customer, kind=OUTBOUND_CHANNELS[consent.channel])
    ]


@dataclass(frozen=True)
class OutreachChannel:
    """One way to start a conversation with a customer for a purpose, as the 360 page's panel offers
    it: ``available``, or the ``reason`` it is not; the sources it may go through (``sources``:
    empty for email, and for SMS sent through the configured sender), and WhatsApp's templates."""

    key: str
    label: str
    available: bool
    reason: str = ""
    address: str = ""
    sources: tuple[OutreachSource, ...] = ()
    templates: tuple[OutreachTemplate, ...] = ()


def outreach_channels(*, customer: Customer, purpose: str) -> list[OutreachChannel]:
    """Email, SMS and WhatsApp for ``customer`` and ``purpose``: each available when the customer has
    an address for it and granted consent on its channel for the purpose (and, for WhatsApp, when
    the team has a WhatsApp source with an approved template); otherwise with the reason."""
    consents = dict(Consent.objects.filter(customer=customer, purpose=purpose).values_list("channel", "granted"))
    found = []
    for key, medium in MEDIA.items():
        address = medium_address(customer=customer, channel=key) or ""
        sources = tuple(outreach_sources(customer=customer, channel=key))
        templates = tuple(template for source in sources for template in source.templates)
        reason = ""
        consent = {"purpose": purpose, "channel": Channel(medium.channel).label}
        if not address:
            reason = str(NO_ADDRESS[medium.address_kind])
        elif medium.channel not in consents:
            reason = gettext("No consent to %(purpose)s messages by %(channel)s.") % consent
        elif not consents[medium.channel]:
            reason = gettext("Consent to %(purpose)s messages by %(channel)s withdrawn.") % consent
        elif key == WHATSAPP and not sources:
            reason = gettext("No WhatsApp source for this team.")
        elif key == WHATSAPP and not templates:
            reason = gettext("No approved WhatsApp template.")
        found.append(
            OutreachChannel(
                key=key,
                label=medium.label,
                available=not reason,
                reason=reason,
                address=address,
                sources=sources,
                templates=templates,
            )
        )
    return found


def _outbound_problems(*, channel: str, text: str, purpose: str, source: str, subject: str) -> dict[str, str]:
    problems = {}
    if channel not in MEDIA:
        problems["channel"] = f"CEA starts conversations by {', '.join(MEDIA)}."
    elif channel != WHATSAPP and (not text.strip() or len(text) > MAX_TEXT[channel]):
        problems["text"] = f"A text of 1-{MAX_TEXT[channel]} characters."
    if purpose not in ConsentPurpose.values:
        problems["purpose"] = f"One of {', '.join(ConsentPurpose.values)}."
    if not source.strip() or len(source) > MAX_SOURCE:
        problems["source"] = f"What starts it (agent, strategy:<key> …), 1-{MAX_SOURCE} characters."
    if len(subject) > MAX_SUBJECT:
        problems["subject"] = f"At most {MAX_SUBJECT} characters."
    return problems


def _mail_domain() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "cea.invalid"


def _live_customer(customer: Customer) -> Customer:
    customer = Customer.objects.select_related("team").get(pk=customer.pk)
    if customer.status == CustomerStatus.MERGED:
        raise Conflict(f"Customer {customer.pk} was merged into {customer.merged_into_id}.", code="customer_merged")
    return customer


def _outreach_source(*, customer: Customer, channel: str, through: str) -> OutreachSource | None:
    """The source an SMS or WhatsApp goes out through: ``through`` if named (it must be one of
    ``outreach_sources``), else the only one. ``None``: an SMS without a source, sent through the
    configured sender. ``ValidationFailed`` (``through``) for an unknown source or a choice to make,
    ``Conflict`` (``no_source``) for WhatsApp without a source."""
    sources = outreach_sources(customer=customer, channel=channel)
    if channel == Channel.EMAIL:
        return None
    if through:
        chosen = next((source for source in sources if source.name == through), None)
        if chosen is None:
            names = ", ".join(source.name for source in sources) or "none"
            raise ValidationFailed(
                f"No {MEDIA[channel].label} source {through!r} for this customer.",
                fields={"through": f"One of: {names}."},
            )
        return chosen
    if len(sources) > 1:
        names = ", ".join(source.name for source in sources)
        raise ValidationFailed(
            f"Choose the {MEDIA[channel].label} source to send through.", fields={"through": f"One of: {names}."}
        )
    if sources:
        return sources[0]
    if channel == WHATSAPP:
        raise Conflict("There is no WhatsApp source to send through for this team.", code="no_source")
    return None


def _template_message(
    *, source: OutreachSource, template_id: int | None, params: list[str]
) -> tuple[str, dict[str, Any]]:
    """WhatsApp's first message: the rendered body of ``source``'s approved template ``template_id``
    with ``params``, and its payload's ``template``. ``ValidationFailed`` by field otherwise."""
    template = next((t for t in source.templates if t.id == template_id), None)
    if template is None:
        raise ValidationFailed(
            "Choose an approved WhatsApp template.",
            fields={"template": f"An approved template of the source {source.name!r}."},
            code="no_approved_template",
        )
    params = [param.strip() for param in params]
    if len(params) != template.params or any(not p or len(p) > MAX_PARAM for p in params):
        raise ValidationFailed(
            f"The template {template.name!r} takes {template.params} values.",
            fields={"params": f"{template.params} values of 1-{MAX_PARAM} characters."},
        )
    return template.render(params), {"name": template.name, "language": template.language, "params": params}


@transaction.atomic
def outbound_start(
    *,
    actor: Actor,
    customer: Customer,
    channel: str,
    purpose: str,
    source: str,
    text: str = "",
    subject: str = "",
    through: str = "",
    template: int | None = None,
    params: list[str] | tuple[str, ...] = (),
) -> Conversation:
    """Start a conversation with ``customer`` by ``channel`` (email, sms or whatsapp) and deliver its
    first message: ``text`` (email, SMS) or the approved WhatsApp ``template`` with ``params``.

    SMS and WhatsApp leave through a source's provider (``through``, or the only one the customer's
    team has; ``outreach_sources``) by the provider outbox, as agents' replies do; their
    conversation is the thread the customer's answers through that source join
    (``<source>:<address>:<n>``, ``ingest.open_thread``). An SMS with no source at all goes through
    the configured sender. Email threads by its Message-ID.

    ``PermissionDenied`` (``require_outreach``), ``ValidationFailed`` by field, ``Conflict`` for a
    missing or withdrawn consent, a customer without an address for the channel
    (``no_contact_address``), a merged customer, no WhatsApp source (``no_source``) or an open
    conversation on the same thread (``conversation_open``). On a refusal nothing is written.
    """
    require_outreach(actor, customer)
    problems = _outbound_problems(channel=channel, text=text, purpose=purpose, source=source, subject=subject)
    if problems:
        raise ValidationFailed("The outbound message is invalid.", fields=problems)
    medium = MEDIA[channel]
    customer = _live_customer(customer)
    consent_required(customer=customer, channel=medium.channel, purpose=purpose)
    address = medium_address(customer=customer, channel=channel)
    if address is None:
        what = ADDRESS_LABELS.get(medium.address_kind, "WhatsApp number")
        raise Conflict(f"The customer has no {what} to write to.", code="no_contact_address")
    provider_source = _outreach_source(customer=customer, channel=channel, through=through)
    payload: dict[str, Any] = {}
    if provider_source is not None and channel == WHATSAPP:
        text, payload["template"] = _template_message(source=provider_source, template_id=template, params=list(params))
    if provider_source is not None:
        # The provider's payload (source, provider, to, from, an SMS's shape), as agents' replies have it.
        payload.update(
            _transport[0].payload(
                source=provider_source.name, channel=medium.channel, address=address, text=text.strip()
            )
        )
    subject = subject.strip() or (DEFAULT_SUBJECT if channel == Channel.EMAIL else "")
    start: dict[str, Any] = {
        "direction": Direction.OUTBOUND,
        "contact_kind": medium.address_kind,
        "contact_value": address,
        "customer": customer,
        "subject": subject,
        "source": source,
        "context": {"outbound": {"purpose": purpose, "source": source}},
    }
    if provider_source is None:
        conversation, _ = conversation_start(channel=medium.channel, **start)
    else:
        start["context"]["webhook_source"] = provider_source.name
        conversation, created = _transport[0].thread_open(
            through=provider_source.name, channel=medium.channel, address=address, **start
        )
        if not created:
            raise Conflict(
                f"The customer already has an open {medium.label} conversation through {provider_source.name} "
                f"({conversation}): write to them there.",
                code="conversation_open",
            )
    agent = actor if isinstance(actor, User) and is_desk_user(actor) else None
    if agent is not None:  # the agent's own conversation, on their desk until they wrap it up
        conversation.status = ConversationStatus.ACTIVE
        conversation.agent = agent
        conversation.answered_at = conversation.created_at
        conversation.save(update_fields=["status", "agent", "answered_at", "updated_at"])
        conversation_status_push(conversation=conversation)
    external_id = ""
    if provider_source is not None:
        payload.update(purpose=purpose, started_by=source)  # "source" is the provider's source here
    else:
        payload.update(delivery=Delivery.QUEUED, to=address, purpose=purpose, source=source)
    if channel == Channel.EMAIL:
        external_id = f"outbound.{conversation.pk}.{get_random_string(16).lower()}@{_mail_domain()}"
        payload.update(message_id=external_id, subject=subject, in_reply_to=[], references=[])
    message, _ = message_add(
        conversation=conversation,
        direction=Direction.OUTBOUND,
        author_kind=AuthorKind.AGENT if agent is not None else AuthorKind.SYSTEM,
        author=agent,
        author_name=str(actor) if actor is not None else "",
        body=text.strip(),
        external_id=external_id,
        payload=payload,
    )
    if provider_source is not None:
        _transport[0].queued(message=message, source=provider_source.name)
    else:
        send_on_commit(signature(DELIVER_EMAIL_TASK if channel == Channel.EMAIL else DELIVER_SMS_TASK), message.pk)
    return conversation


# --- Callbacks ------------------------------------------------------------------------------------


def _callback_problems(*, queue: str, reason: str, source: str) -> dict[str, str]:
    problems = {}
    if not reason.strip() or len(reason) > 300:
        problems["reason"] = "Why to call back, 1-300 characters."
    if not source.strip() or len(source) > MAX_SOURCE:
        problems["source"] = f"What asks for it (agent, strategy:<key> …), 1-{MAX_SOURCE} characters."
    return problems


@transaction.atomic
def callback_request(
    *,
    actor: Actor,
    customer: Customer,
    queue: str,
    reason: str,
    due_at: datetime | None = None,
    source: str,
    phone: str = "",
) -> Callback:
    """Book a callback of ``customer`` through ``queue`` at ``due_at`` (now, or a past time: at once).

    ``phone`` is a number the customer gave for this callback (blank: their own). The retry policy
    (``max_attempts``, ``retry_minutes``) comes from ``CEA_CALLBACK_MAX_ATTEMPTS`` and
    ``CEA_CALLBACK_RETRY_MINUTES`` when it is booked.

    Records ``callback.requested`` in the customer's journey. Due now, its voice conversation joins
    the queue at once; later, a task sent on commit (and the beat's sweep) queues it when due.
    ``PermissionDenied`` (``require_outreach``), ``ValidationFailed`` by field, ``NotFound`` for a
    queue that is not an active one, ``Conflict`` for a customer without a phone number
    (``no_contact_address``) or a merged one.
    """
    require_outreach(actor, customer)
    problems = _callback_problems(queue=queue, reason=reason, source=source)
    if problems:
        raise ValidationFailed("The callback is invalid.", fields=problems)
    if not Queue.objects.filter(name=queue, is_active=True).exists():
        raise NotFound(f"No active queue {queue!r}.")
    customer = _live_customer(customer)
    if not phone and contact_address(customer=customer, kind=IdentityKind.PHONE) is None:
        raise Conflict("The customer has no phone number to call back.", code="no_contact_address")
    now = timezone.now()
    callback = Callback.objects.create(
        customer=customer,
        queue=queue,
        reason=reason.strip(),
        source=source,
        due_at=max(due_at or now, now),
        requested_by=actor if isinstance(actor, User) else None,
        phone=phone,
        max_attempts=settings.CEA_CALLBACK_MAX_ATTEMPTS,
        retry_minutes=settings.CEA_CALLBACK_RETRY_MINUTES,
    )
    journey_record(
        customer=customer,
        kind="callback.requested",
        source_system="engagement",
        channel=Channel.VOICE,
        summary=f"Callback requested for {callback.due_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC: {callback.reason}",
        payload={"callback_id": callback.pk, "queue": queue, "due_at": callback.due_at.isoformat(), "source": source},
    )
    if callback.due_at <= now:
        _queue(callback, now=now)
    else:
        send_on_commit(signature(QUEUE_CALLBACK_TASK), callback.pk, countdown=(callback.due_at - now).total_seconds())
    return callback


def _queue(callback: Callback, *, now: datetime) -> None:
    """Open the callback's voice conversation and put it in its queue; the callback's row is locked."""
    customer = callback.customer
    phone = callback.phone or contact_address(customer=customer, kind=IdentityKind.PHONE) or ""
    conversation, _ = conversation_start(
        channel=Channel.VOICE,
        direction=Direction.OUTBOUND,
        contact_kind=IdentityKind.PHONE,
        contact_value=phone,
        customer=customer,
        queue=callback.queue,
        subject=f"Callback: {callback.reason}",
        source=callback.source,
        context={
            "callback": {
                "id": callback.pk,
                "reason": callback.reason,
                "due_at": callback.due_at.isoformat(),
                "attempt": callback.attempts + 1,
                "max_attempts": callback.max_attempts,
            }
        },
    )
    conversation_escalate(conversation=conversation, queue=callback.queue, reason=f"callback: {callback.reason}")
    callback.status = CallbackStatus.QUEUED
    callback.conversation = conversation
    callback.queued_at = now
    callback.attempts += 1
    callback.save(update_fields=["status", "conversation", "queued_at", "attempts"])


@transaction.atomic
def callback_queue_due(*, callback_id: int, now: datetime | None = None) -> bool:
    """Queue the callback if it is scheduled and due; ``True`` if it was queued now. Idempotent."""
    now = now or timezone.now()
    callback = (
        Callback.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related("customer")
        .filter(pk=callback_id, status=CallbackStatus.SCHEDULED, due_at__lte=now)
        .first()
    )
    if callback is None:
        return False
    _queue(callback, now=now)
    return True


def callbacks_queue_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Queue every scheduled callback that is due (the beat's sweep); returns how many were queued.

    First, every queued callback whose conversation ended with no outcome recorded counts as not
    answered (``callbacks_unanswered``), so that it is retried or given up.
    """
    now = now or timezone.now()
    callbacks_unanswered(now=now, limit=limit)
    due = Callback.objects.filter(status=CallbackStatus.SCHEDULED, due_at__lte=now).order_by("due_at", "id")
    return sum(callback_queue_due(callback_id=pk, now=now) for pk in due.values_list("pk", flat=True)[:limit])


# --- Outcomes and retries -------------------------------------------------------------------------

MAX_OUTCOME_NOTE = 500


def _log_attempt(callback: Callback, *, outcome: str, now: datetime, by: str, note: str = "") -> None:
    callback.attempt_log = [
        *callback.attempt_log,
        {
            "attempt": callback.attempts,
            "conversation": callback.conversation_id,
            "outcome": outcome,
            "at": now.isoformat(),
            "by": by,
            "note": note,
        },
    ]


def _not_answered(callback: Callback, *, now: datetime) -> None:
    """Schedule the next attempt after the policy's gap, or give up after the last; the row is locked."""
    if callback.attempts >= callback.max_attempts:
        callback.status = CallbackStatus.GAVE_UP
        callback.finished_at = now
        callback.save(update_fields=["status", "finished_at", "attempt_log"])
        journey_record(
            customer=callback.customer,
            kind="callback.gave_up",
            source_system="engagement",
            channel=Channel.VOICE,
            summary=f"Callback given up after {callback.attempts} attempts without an answer: {callback.reason}",
            payload={"callback_id": callback.pk, "attempts": callback.attempts, "queue": callback.queue},
        )
        return
    callback.status = CallbackStatus.SCHEDULED
    callback.due_at = now + timedelta(minutes=callback.retry_minutes)
    callback.conversation = None
    callback.queued_at = None
    callback.save(update_fields=["status", "due_at", "conversation", "queued_at", "attempt_log"])
    send_on_commit(signature(QUEUE_CALLBACK_TASK), callback.pk, countdown=callback.retry_minutes * 60.0)


@transaction.atomic
def callback_outcome(*, actor: Actor, conversation: Conversation, outcome: str, note: str = "") -> Callback:
    """Record how the call of a queued callback went, and end its conversation (the agent wraps up).

    ``answered`` finishes the callback; ``no_answer`` schedules the next attempt (``retry_minutes``
    later) or, after ``max_attempts``, gives it up (``callback.gave_up`` in the journey). Only the
    conversation's handling agent, a supervisor or an administrator (``require_handling_agent``);
    ``ValidationFailed`` for an unknown outcome or a long note; ``NotFound`` when the conversation is
    not a callback's; ``Conflict`` (``callback_not_queued``) when its outcome is already recorded.
    """
    if outcome not in CallbackOutcome.values:
        raise ValidationFailed("Unknown outcome.", fields={"outcome": f"One of {', '.join(CallbackOutcome.values)}."})
    if len(note) > MAX_OUTCOME_NOTE:
        raise ValidationFailed("The note is too long.", fields={"note": f"At most {MAX_OUTCOME_NOTE} characters."})
    locked = Conversation.objects.select_for_update(of=("self",)).get(pk=conversation.pk)
    require_handling_agent(actor, locked)
    callback = (
        Callback.objects.select_for_update(of=("self",)).select_related("customer").filter(conversation=locked).first()
    )
    if callback is None:
        raise NotFound(f"Conversation {conversation.pk} is not a callback's.")
    if callback.status != CallbackStatus.QUEUED:
        raise Conflict(f"Callback {callback.pk} is {callback.status}.", code="callback_not_queued")
    now = timezone.now()
    _log_attempt(callback, outcome=outcome, now=now, by=str(actor) if actor is not None else "system", note=note)
    if outcome == CallbackOutcome.ANSWERED:
        callback.status = CallbackStatus.ANSWERED
        callback.finished_at = now
        callback.save(update_fields=["status", "finished_at", "attempt_log"])
    else:
        _not_answered(callback, now=now)
    if locked.status != ConversationStatus.ENDED:
        conversation_end(actor=actor, conversation=locked, disposition=f"callback {outcome}")
    return callback


def callbacks_unanswered(*, now: datetime | None = None, limit: int = 500) -> int:
    """Queued callbacks whose conversation ended with no outcome recorded count as not answered:
    retried or given up. Returns how many. Idempotent (each is locked, skipped if taken)."""
    now = now or timezone.now()
    ended = Callback.objects.filter(
        status=CallbackStatus.QUEUED, conversation__status=ConversationStatus.ENDED
    ).values_list("pk", flat=True)[:limit]
    count = 0
    for pk in ended:
        with transaction.atomic():
            callback = (
                Callback.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("customer")
                .filter(pk=pk, status=CallbackStatus.QUEUED, conversation__status=ConversationStatus.ENDED)
                .first()
            )
            if callback is None:
                continue
            _log_attempt(callback, outcome=CallbackOutcome.NO_ANSWER, now=now, by="system", note="ended, no outcome")
            _not_answered(callback, now=now)
            count += 1
    return count
