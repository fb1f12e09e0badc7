"""Celery tasks of the integration layer. The worker discovers ``<app>.tasks`` modules: each
package's tasks are imported here so that they register."""

from integration.sync import tasks as sync_tasks

__all__ = ["sync_tasks"]
