"""The console for the integration layer: each part registers its models in its own admin module."""

from integration.connectors import admin as connectors_admin
from integration.outbox import admin as outbox_admin
from integration.sync import admin as sync_admin
from integration.webhooks import admin as webhooks_admin

__all__ = ["connectors_admin", "outbox_admin", "sync_admin", "webhooks_admin"]
