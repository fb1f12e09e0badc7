"""Outbound webhooks: managing subscriptions, relaying the journey log, and sending deliveries.

Where events come from. Records writes a journey event for every change of a customer's story
and must not know the integration layer, so the integration layer follows the journey log
(``webhook_relay``, a Celery beat task every ``CEA_WEBHOOK_RELAY_SECONDS``, 2 s by default) and
makes one ``WebhookDelivery`` per event and matching active subscription. A change therefore
reaches a subscriber within about one relay period after its commit, plus the POST itself.

No duplicates. A delivery's ``event_id`` is a uuid5 of the journey event's id, and
``(subscription, event_id)`` is unique: a relay that crashes after inserting and runs again
inserts nothing twice. Receivers see the same id in ``X-CEA-Delivery`` on every attempt and
redelivery, and should ignore an id they have processed.

No losses. Journey ids come from a sequence in insert order, not commit order: an id missing
when the relay reads may still commit. The relay keeps such gaps and looks for them again on
each run for ``CEA_WEBHOOK_RELAY_GAP_SECONDS`` (after which they were rolled back).

Sending. One attempt holds the delivery's row lock (``FOR UPDATE SKIP LOCKED``) for the POST, so
two workers never send it at once. Network errors, timeouts, 5xx, 408 and 429 are retried with
exponential backoff and jitter (at least the ``Retry-After`` asked for) up to
``CEA_WEBHOOK_MAX_ATTEMPTS``; any other answer outside 2xx, and a host that resolves to an address
that is not public (``targets``), fail the delivery at once. After
``CEA_WEBHOOK_DISABLE_AFTER`` failed deliveries in a row, the subscription is disabled with the
reason; its pending deliveries wait until it is enabled again.

Payloads are thin: ids, the journey event's kind and its payload, never the customer's profile;
the receiver reads the rest through the API with its token's scopes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cea.accounts.models import User
from cea.accounts.types import Actor
from cea.common.errors import Conflict, PermissionDenied, ValidationFailed
from cea.common.pii import redact_text, redact_value
from cea.common.roles import Role, role_of
from cea.common.tasks import send_on_commit
from integration.retry import backoff_seconds
from integration.validation import messages_of
from integration.webhooks.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEvent,
    WebhookRelayState,
    WebhookSubscription,
)
from integration.webhooks.serializers import WebhookSubscriptionInputSerializer
from integration.webhooks.targets import WebhookTargetRefused, WebhookTransport, webhook_target_problem
from records.journey.models import JourneyEvent
from records.journey.selectors import journey_events_after, journey_last_id

logger = logging.getLogger(__name__)

# Fixed forever: event ids already sent were made with it.
EVENT_ID_NAMESPACE = uuid.UUID("6f1d3c1e-6a55-4d8e-9f0b-3c2a7e5b9d41")
RESPONSE_BODY_LIMIT = 2000
ERROR_LIMIT = 1000
MAX_GAPS = 10_000
USER_AGENT = "CEA-Webhooks/1.0"

# Journey event kinds (records) → the webhook event they are published as.
_EVENT_OF_KIND = {
    "customer.created": WebhookEvent.CUSTOMER_CREATED,
    "customer.updated": WebhookEvent.CUSTOMER_UPDATED,
    "identity.added": WebhookEvent.CUSTOMER_UPDATED,
    "identity.removed": WebhookEvent.CUSTOMER_UPDATED,
    "customer.merged": WebhookEvent.CUSTOMER_MERGED,
    "case.created": WebhookEvent.CASE_CREATED,
    "interaction.recorded": WebhookEvent.INTERACTION_RECORDED,
}


def webhook_event_of(*, journey_kind: str) -> WebhookEvent | None:
    """The webhook event a journey event is published as; ``None`` for kinds not published.

    Every other ``case.*`` kind (updated, a status transition, a note, a linked interaction)
    is a ``case.updated``.
    """
    if journey_kind in _EVENT_OF_KIND:
        return _EVENT_OF_KIND[journey_kind]
    if journey_kind.startswith("case."):
        return WebhookEvent.CASE_UPDATED
    return None


def webhook_event_id(*, journey_event_id: int) -> uuid.UUID:
    """The event id of a journey event's webhook: the same on every relay of it."""
    return uuid.uuid5(EVENT_ID_NAMESPACE, f"journey-event:{journey_event_id}")


def webhook_signature(*, secret: str, timestamp: str, body: str | bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the secret>`` (``X-CEA-Signature``)."""
    raw = body.encode() if isinstance(body, str) else body
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def webhook_secret_new() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


# --- Subscriptions ------------------------------------------------------------------------------


def webhook_manage_check(*, actor: Actor) -> None:
    """Admins and integration clients manage webhooks; everybody else is refused (403)."""
    if role_of(actor) not in (Role.ADMIN, Role.INTEGRATION):
        raise PermissionDenied("Only administrators and integration clients manage webhooks.")


def webhook_subscription_check(*, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Cleaned subscription fields (``name``, ``url``, ``events``, ``secret``, each optional here).

    The rules are ``WebhookSubscriptionInputSerializer``'s (the API's too), then the URL's host
    must be a public address (``targets``). A ``secret`` of ``None`` is left out (keep or
    generate one). Raises ``ValidationFailed`` naming each refused field.
    """
    given = {name: value for name, value in fields.items() if not (name == "secret" and value is None)}
    serializer = WebhookSubscriptionInputSerializer(data=given, partial=True)
    serializer.is_valid()
    errors = {name: messages_of(problems) for name, problems in serializer.errors.items()}
    # Only a well-formed URL is resolved, and only where private targets are refused.
    resolve = "url" in given and "url" not in errors and not settings.CEA_WEBHOOK_ALLOW_PRIVATE_TARGETS
    if resolve and (problem := webhook_target_problem(given["url"].strip())):
        errors["url"] = [problem]
    if errors:
        raise ValidationFailed("The subscription has invalid fields.", fields=errors)
    return dict(serializer.validated_data)


@transaction.atomic
def webhook_subscription_create(
    *, actor: Actor, name: str, url: str, events: Iterable[str], secret: str | None = None
) -> tuple[WebhookSubscription, str]:
    """A new active subscription and its signing secret (generated when not given).

    The secret is returned here once, to be shown once; nothing shows it again. The subscription
    receives events recorded from now on, not older ones.
    """
    webhook_manage_check(actor=actor)
    cleaned = webhook_subscription_check(fields={"name": name, "url": url, "events": list(events), "secret": secret})
    secret_value = cleaned.pop("secret", None) or webhook_secret_new()
    subscription = WebhookSubscription.objects.create(
        **cleaned, secret=secret_value, created_by=actor if isinstance(actor, User) and actor.pk else None
    )
    return subscription, secret_value


@transaction.atomic
def webhook_subscription_update(
    *, actor: Actor, subscription: WebhookSubscription, **fields: Any
) -> WebhookSubscription:
    """Change ``name``, ``url``, ``events`` or ``secret`` (a new secret signs the next attempts)."""
    webhook_manage_check(actor=actor)
    unknown = set(fields) - {"name", "url", "events", "secret"}
    if unknown:
        raise ValidationFailed(f"Cannot change {', '.join(sorted(unknown))}.")
    cleaned = webhook_subscription_check(fields=fields)
    changed = [name for name, value in cleaned.items() if getattr(subscription, name) != value]
    if changed:
        for name in changed:
            setattr(subscription, name, cleaned[name])
        subscription.save(update_fields=[*changed, "updated_at"])
    return subscription


@transaction.atomic
def webhook_subscription_delete(*, actor: Actor, subscription: WebhookSubscription) -> None:
    """Delete the subscription and its delivery log."""
    webhook_manage_check(actor=actor)
    subscription.delete()


def _subscription_disable(subscription: WebhookSubscription, *, reason: str) -> None:
    """Expects the subscription's row lock."""
    subscription.is_active = False
    subscription.disabled_at = timezone.now()
    subscription.disabled_reason = reason[:300]
    subscription.save(update_fields=["is_active", "disabled_at", "disabled_reason", "updated_at"])
    logger.warning("Webhook subscription %s disabled: %s", subscription.pk, reason)


@transaction.atomic
def webhook_subscription_disable(
    *, actor: Actor, subscription: WebhookSubscription, reason: str
) -> WebhookSubscription:
    webhook_manage_check(actor=actor)
    locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    if locked.is_active:
        _subscription_disable(locked, reason=reason or "Disabled by hand.")
    return locked


@transaction.atomic
def webhook_subscription_enable(*, actor: Actor, subscription: WebhookSubscription) -> WebhookSubscription:
    """Enable a disabled subscription: its failure count starts again and its waiting deliveries are sent."""
    webhook_manage_check(actor=actor)
    locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    if locked.is_active:
        return locked
    locked.is_active = True
    locked.failures_in_row = 0
    locked.disabled_at = None
    locked.disabled_reason = ""
    locked.save(update_fields=["is_active", "failures_in_row", "disabled_at", "disabled_reason", "updated_at"])
    # Those due go now; those not yet due are skipped by their attempt and sent by the sweep.
    waiting = list(
        WebhookDelivery.objects.filter(subscription=locked, status=DeliveryStatus.PENDING).values_list("pk", flat=True)
    )
    _deliver_on_commit(waiting)
    return locked


@transaction.atomic
def webhook_delivery_redeliver(*, actor: Actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again now, with the same event id and body, its attempts counted afresh.

    A delivery of a disabled subscription waits until the subscription is enabled (409 here).
    """
    webhook_manage_check(actor=actor)
    locked = WebhookDelivery.objects.select_for_update().select_related("subscription").get(pk=delivery.pk)
    if not locked.subscription.is_active:
        raise Conflict("The subscription is disabled; enable it first.")
    locked.status = DeliveryStatus.PENDING
    locked.attempts = 0
    locked.next_attempt_at = timezone.now()
    locked.delivered_at = None
    locked.save(update_fields=["status", "attempts", "next_attempt_at", "delivered_at"])
    _deliver_on_commit([locked.pk])
    return locked


def _deliver_on_commit(delivery_ids: list[int]) -> None:
    from integration.webhooks.tasks import webhook_deliver  # the task calls back into this module

    for delivery_id in delivery_ids:
        send_on_commit(webhook_deliver, delivery_id)


# --- The relay: journey log → deliveries ---------------------------------------------------------


def _relay_state_locked() -> WebhookRelayState | None:
    """The relay's state row, locked; ``None`` when another relay holds it (it is running)."""
    state = WebhookRelayState.objects.select_for_update(skip_locked=True).filter(pk=1).first()
    if state is not None:
        return state
    if WebhookRelayState.objects.filter(pk=1).exists():
        return None
    # First run: start after the events older than every subscription (they would match none).
    oldest = WebhookSubscription.objects.order_by("created_at").values_list("created_at", flat=True).first()
    start = journey_last_id(recorded_before=oldest) if oldest is not None else journey_last_id()
    try:
        with transaction.atomic():
            WebhookRelayState.objects.create(pk=1, last_id=start)
    except IntegrityError:
        return None  # another relay made it first and is running
    return WebhookRelayState.objects.select_for_update(skip_locked=True).filter(pk=1).first()


def _envelope(event: JourneyEvent, hook_event: str, event_id: uuid.UUID) -> dict[str, Any]:
    return {
        "id": str(event_id),
        "type": hook_event,
        "occurred_at": event.occurred_at.isoformat(),
        "data": {
            "customer_id": event.customer_id,
            "journey_event_id": event.pk,
            "kind": event.kind,
            "channel": event.channel,
            "source_system": event.source_system,
            # Redacted when recorded (journey_record); again here for events older than that.
            "details": redact_value(event.payload),
        },
    }


def _insert_deliveries(rows: list[tuple[int, str, uuid.UUID, str]]) -> list[int]:
    """Insert ``(subscription_id, event, event_id, payload_json)`` rows; the ids of those that were new."""
    if not rows:
        return []
    values = ", ".join(["(%s, %s, %s, %s::jsonb, 'pending', 0, now(), '', '', now())"] * len(rows))
    params = [value for row in rows for value in row]
    sql = (
        "INSERT INTO integration_webhookdelivery"  # noqa: S608 - placeholders only
        " (subscription_id, event, event_id, payload, status, attempts, next_attempt_at,"
        " response_body, last_error, created_at)"
        f" VALUES {values} ON CONFLICT (subscription_id, event_id) DO NOTHING RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


@dataclass(frozen=True)
class RelayResult:
    events_read: int
    deliveries_created: int
    last_id: int
    gaps: int


def webhook_relay(*, batch: int | None = None) -> RelayResult | None:
    """Read the journey events after the watermark and make their deliveries; ``None`` if another relay runs.

    One transaction: the deliveries and the new watermark commit together; the deliveries are
    sent after commit. Safe to run concurrently (the second run returns at once) and again
    after a crash (event ids are deterministic and deliveries unique).
    """
    batch = batch or settings.CEA_WEBHOOK_RELAY_BATCH
    with transaction.atomic():
        state = _relay_state_locked()
        if state is None:
            return None
        gaps = {int(event_id): float(first_missed) for event_id, first_missed in (state.gaps or {}).items()}
        events = journey_events_after(after_id=state.last_id, limit=batch, also_ids=sorted(gaps))
        subscriptions = list(WebhookSubscription.objects.filter(is_active=True))
        rows = []
        for event in events:
            hook_event = webhook_event_of(journey_kind=event.kind)
            if hook_event is None:
                continue
            event_id = webhook_event_id(journey_event_id=event.pk)
            envelope = None
            for subscription in subscriptions:
                if hook_event in subscription.events and event.recorded_at >= subscription.created_at:
                    envelope = envelope or json.dumps(_envelope(event, hook_event, event_id), cls=DjangoJSONEncoder)
                    rows.append((subscription.pk, hook_event.value, event_id, envelope))
        created = _insert_deliveries(rows)

        now = time.time()
        expected = state.last_id + 1
        for event in events:
            gaps.pop(event.pk, None)
            if event.pk >= expected:
                for missing in range(max(expected, event.pk - MAX_GAPS), event.pk):
                    gaps[missing] = now
                expected = event.pk + 1
        horizon = now - settings.CEA_WEBHOOK_RELAY_GAP_SECONDS
        kept = sorted((event_id for event_id, first in gaps.items() if first > horizon), reverse=True)[:MAX_GAPS]
        state.last_id = expected - 1
        state.gaps = {str(event_id): gaps[event_id] for event_id in kept}
        state.relayed_at = timezone.now()
        state.save(update_fields=["last_id", "gaps", "relayed_at"])
        _deliver_on_commit(created)
    return RelayResult(events_read=len(events), deliveries_created=len(created), last_id=state.last_id, gaps=len(kept))


# --- Sending ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttemptOutcome:
    """What one attempt did: ``status`` is the delivery's status after it (or ``skipped``)."""

    status: str
    retry_in: float | None = None
    response_status: int | None = None


SKIPPED = AttemptOutcome(status="skipped")


@dataclass(frozen=True)
class _Answer:
    status: int
    reason: str
    body: str
    retry_after: float | None


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - timezone.now()).total_seconds(), 0.0)


def _post(subscription: WebhookSubscription, delivery: WebhookDelivery) -> tuple[_Answer | None, str]:
    """POST the delivery; the answer (or ``None``) and the network error's description.

    Raises ``WebhookTargetRefused`` (nothing sent) when the host resolves to an address that is
    not public. Redirects are not followed. Only the start of the answer's body is read (what the
    log keeps), so a receiver answering with a large body costs nothing.
    """
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-CEA-Event": delivery.event,
        "X-CEA-Delivery": str(delivery.event_id),
        "X-CEA-Timestamp": timestamp,
        "X-CEA-Signature": webhook_signature(secret=subscription.secret, timestamp=timestamp, body=body),
    }
    transport = WebhookTransport(allow_private=settings.CEA_WEBHOOK_ALLOW_PRIVATE_TARGETS)
    try:
        with (
            httpx.Client(transport=transport, timeout=settings.CEA_WEBHOOK_TIMEOUT_SECONDS) as client,
            client.stream(
                "POST", subscription.url, content=body.encode(), headers=headers, follow_redirects=False
            ) as response,
        ):
            start = bytearray()
            for chunk in response.iter_bytes():
                start.extend(chunk)
                if len(start) >= RESPONSE_BODY_LIMIT * 4:
                    break
            text = start.decode(response.encoding or "utf-8", errors="replace").replace("\x00", "")
            return _Answer(
                status=response.status_code,
                reason=response.reason_phrase,
                body=redact_text(text[: RESPONSE_BODY_LIMIT * 2])[:RESPONSE_BODY_LIMIT],
                retry_after=_retry_after(response.headers.get("Retry-After")),
            ), ""
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        return None, (f"{type(error).__name__}: {error}".replace("\x00", "")[:ERROR_LIMIT])


def webhook_delivery_attempt(*, delivery_id: int, now: datetime | None = None) -> AttemptOutcome:
    """Send delivery ``delivery_id`` once if it is pending, due and its subscription active; record the result.

    Holds the delivery's row lock (``FOR UPDATE SKIP LOCKED``) during the POST: a delivery being
    sent is skipped by every other worker. A delivery not yet due (an early duplicate trigger)
    is skipped. Returns ``retry_in`` (seconds) when the delivery should be tried again.
    """
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("subscription")
            .filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now + timedelta(seconds=1))
            .first()
        )
        if delivery is None or not delivery.subscription.is_active:
            return SKIPPED
        subscription = delivery.subscription
        try:
            response, error = _post(subscription, delivery)
            refused = False
        except WebhookTargetRefused as refusal:
            response, error, refused = None, f"Refused: {refusal}", True
            logger.warning("Webhook delivery %s to subscription %s not sent: %s", delivery.pk, subscription.pk, refusal)
        delivery.attempts += 1
        retry_after = None
        if response is not None:
            delivery.response_status = response.status
            delivery.response_body = response.body
            if 200 <= response.status < 300:
                error = ""
            else:
                error = f"HTTP {response.status} {response.reason}".strip()
                retry_after = response.retry_after
        else:
            delivery.response_status = None
            delivery.response_body = ""
        retryable = not refused and (response is None or response.status in (408, 429) or response.status >= 500)
        delivery.last_error = error
        retry_in = None
        if not error:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = timezone.now()
        elif retryable and delivery.attempts < settings.CEA_WEBHOOK_MAX_ATTEMPTS:
            retry_in = backoff_seconds(
                attempt=delivery.attempts,
                base=settings.CEA_WEBHOOK_RETRY_BASE_SECONDS,
                cap=settings.CEA_WEBHOOK_RETRY_MAX_SECONDS,
                retry_after=retry_after,
            )
            delivery.next_attempt_at = timezone.now() + timedelta(seconds=retry_in)
        else:
            delivery.status = DeliveryStatus.FAILED
        delivery.save(
            update_fields=[
                "status",
                "attempts",
                "next_attempt_at",
                "response_status",
                "response_body",
                "last_error",
                "delivered_at",
            ]
        )
        if delivery.status != DeliveryStatus.PENDING:
            _count_outcome(subscription.pk, delivered=delivery.status == DeliveryStatus.DELIVERED, error=error)
    return AttemptOutcome(status=delivery.status, retry_in=retry_in, response_status=delivery.response_status)


def _count_outcome(subscription_id: int, *, delivered: bool, error: str) -> None:
    """A delivery ended: reset the subscription's failures in a row, or count one and maybe disable it."""
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription_id)
    if delivered:
        if subscription.failures_in_row:
            subscription.failures_in_row = 0
            subscription.save(update_fields=["failures_in_row", "updated_at"])
        return
    subscription.failures_in_row += 1
    subscription.save(update_fields=["failures_in_row", "updated_at"])
    if subscription.is_active and subscription.failures_in_row >= settings.CEA_WEBHOOK_DISABLE_AFTER:
        _subscription_disable(
            subscription,
            reason=f"{subscription.failures_in_row} deliveries in a row failed; the last: {error}",
        )
