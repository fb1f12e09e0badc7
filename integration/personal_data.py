"""The parts of a customer's personal data that integration holds, registered in ``IntegrationConfig.ready``.

Write-backs in the outbox (payloads, back-ends' answers), webhook deliveries (the journey event's
details, subscribers' answers), the sync's dead letters and run errors (raw source records, which
carry no link to the customer: found by the customer's strong identifiers), and the aggregation
cache in Redis (keyed by the customer's legacy numbers).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection, transaction

from integration.aggregation.aggregate import _client as aggregate_redis
from integration.outbox.models import OutboxMessage, OutboxStatus
from integration.sync.models import SyncFailure, SyncRun
from integration.webhooks.models import WebhookDelivery
from records.privacy.erasure import erased_customer_ids, erasure_scrubber
from records.privacy.registry import register_personal_data
from records.privacy.scrub import ERASED, Scrubber, sanitised_payload

CANCELLED_BY_ERASURE = "Cancelled: the customer's personal data was erased before this was delivered."


def _deliveries(customer_id: int):
    ids = erased_customer_ids(customer_id)
    return WebhookDelivery.objects.filter(payload__data__customer_id__in=ids)


def _matching_ids(table: str, columns: tuple[str, ...], scrubber: Scrubber) -> list[int]:
    """Rows of ``table`` whose ``columns`` (as text) contain one of the customer's strong identifiers."""
    if not scrubber.strong:
        return []
    patterns = ["%" + value.replace("%", "\\%").replace("_", "\\_") + "%" for value in scrubber.strong]
    quote = connection.ops.quote_name
    where = " OR ".join(f"{quote(column)}::text ILIKE ANY(%s)" for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {quote(table)} WHERE {where}", [patterns] * len(columns))  # noqa: S608 - names from the models
        return [row[0] for row in cursor.fetchall()]


def export_integration(customer_id: int) -> dict[str, Any]:
    return {
        "write_backs": list(
            OutboxMessage.objects.filter(customer_id=customer_id).values("kind", "payload", "status", "created_at")
        ),
        "webhook_deliveries": list(_deliveries(customer_id).values("event", "payload", "status", "created_at")),
    }


def erase_integration(customer_id: int) -> int:
    """Payloads scrubbed of the customer's identifiers; write-backs still waiting are cancelled (the
    back-end would otherwise receive "[erased]" as the customer's data)."""
    scrubber = erasure_scrubber(customer_id)
    rows = 0
    outbox = OutboxMessage.objects.filter(customer_id__in=erased_customer_ids(customer_id))
    rows += outbox.filter(status=OutboxStatus.PENDING).update(
        status=OutboxStatus.FAILED, last_error=CANCELLED_BY_ERASURE
    )
    for message in outbox.only("pk", "payload", "result", "last_error"):
        rows += OutboxMessage.objects.filter(pk=message.pk).update(
            payload=sanitised_payload(scrubber.value(message.payload)),
            result=sanitised_payload(scrubber.value(message.result)),
            last_error=scrubber.text(message.last_error),
        )
    for delivery in _deliveries(customer_id).only("pk", "payload", "response_body", "last_error"):
        payload = dict(delivery.payload)
        payload["data"] = {**payload.get("data", {}), "details": sanitised_payload(payload["data"].get("details"))}
        rows += WebhookDelivery.objects.filter(pk=delivery.pk).update(
            payload=scrubber.value(payload),
            response_body=scrubber.text(delivery.response_body),
            last_error=scrubber.text(delivery.last_error),
        )
    failures = _matching_ids(SyncFailure._meta.db_table, ("record_key", "payload", "reason"), scrubber)
    for failure in SyncFailure.objects.filter(pk__in=failures):
        record_key = scrubber.text(failure.record_key)
        rows += SyncFailure.objects.filter(pk=failure.pk).update(
            record_key=record_key if record_key == failure.record_key else ERASED,
            payload=sanitised_payload(scrubber.value(failure.payload)),
            reason=scrubber.text(failure.reason),
        )
    for run in SyncRun.objects.filter(pk__in=_matching_ids(SyncRun._meta.db_table, ("errors",), scrubber)):
        rows += SyncRun.objects.filter(pk=run.pk).update(errors=scrubber.value(run.errors))
    keys = _aggregate_cache_keys(scrubber)
    transaction.on_commit(lambda: keys and aggregate_redis().delete(*keys))
    return rows + len(keys)


def _aggregate_cache_keys(scrubber: Scrubber) -> list[str]:
    """The aggregation layer's cached answers about the customer: keyed by connector and legacy number."""
    client = aggregate_redis()
    keys: list[str] = []
    for external_id in scrubber.legacy_ids:
        keys += client.scan_iter(match=f"{settings.REDIS_PREFIX}:aggregate:cache:*:{external_id}", count=1000)
    return keys


def register() -> None:
    register_personal_data("integration.records", export=export_integration, erase=erase_integration)
