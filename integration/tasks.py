"""Celery tasks of the integration layer. The worker discovers ``<app>.tasks`` modules: each
package's tasks are imported here so that they register."""

from integration.outbox import tasks as outbox_tasks
from integration.sync import tasks as sync_tasks
from integration.webhooks import tasks as webhooks_tasks

__all__ = ["outbox_tasks", "sync_tasks", "webhooks_tasks"]
