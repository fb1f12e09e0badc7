"""All models of the integration layer, gathered for Django; each lives in its domain package."""

from integration.connectors.models import Connector
from integration.outbox.models import OutboxMessage
from integration.sync.models import ProcessedFile, SyncFailure, SyncRun
from integration.webhooks.models import WebhookDelivery, WebhookRelayState, WebhookSubscription

__all__ = [
    "Connector",
    "OutboxMessage",
    "ProcessedFile",
    "SyncFailure",
    "SyncRun",
    "WebhookDelivery",
    "WebhookRelayState",
    "WebhookSubscription",
]
