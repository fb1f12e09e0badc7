"""The console for the integration layer: each part registers its models in its own admin module."""

from integration.connectors import admin as connectors_admin
from integration.sync import admin as sync_admin

__all__ = ["connectors_admin", "sync_admin"]
