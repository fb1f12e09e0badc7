"""Each connector's sync schedule as a django-celery-beat ``PeriodicTask``, editable in the console.

``settings["schedule_seconds"]`` (a whole number of seconds, 0 or absent: on demand only) is
where a connector's schedule comes from; ``connector_schedule_ensure`` writes it into beat's
tables, where an admin may also pause it or change its interval. The task is named
``integration: sync <connector name>`` and calls ``integration.sync.run(connector_id, "schedule")``.
"""

from __future__ import annotations

import json

from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from rest_framework import serializers

from cea.common.errors import ValidationFailed
from cea.common.serializers import WholeNumberField
from integration.connectors.models import Connector
from integration.sync.models import RunTrigger

TASK = "integration.sync.run"
_SCHEDULE_SECONDS = WholeNumberField(min_value=0)


def schedule_name(connector: Connector) -> str:
    return f"integration: sync {connector.name}"


def schedule_seconds_of(connector: Connector) -> int:
    """The connector's interval in seconds (0: none); raises ``ValidationFailed`` for a bad value."""
    try:
        return _SCHEDULE_SECONDS.run_validation((connector.settings or {}).get("schedule_seconds") or 0)
    except serializers.ValidationError:
        raise ValidationFailed(
            "schedule_seconds is a whole number of seconds (0 for on demand only).",
            fields={"settings": "schedule_seconds must be a whole number of seconds."},
        ) from None


@transaction.atomic
def connector_schedule_ensure(*, connector: Connector) -> PeriodicTask | None:
    """Create, update or remove the connector's periodic task to match its settings; return it.

    A connector switched off keeps its task, disabled, so its interval is not lost.
    """
    seconds = schedule_seconds_of(connector)
    existing = PeriodicTask.objects.filter(name=schedule_name(connector)).first()
    if not seconds:
        if existing is not None:
            existing.delete()
        return None
    interval, _ = IntervalSchedule.objects.get_or_create(every=seconds, period=IntervalSchedule.SECONDS)
    task = existing or PeriodicTask(name=schedule_name(connector))
    task.task = TASK
    task.interval = interval
    task.args = json.dumps([connector.pk, RunTrigger.SCHEDULE])
    task.enabled = connector.is_active
    # A run that could not start before the next one is due would only pile up behind it.
    task.expire_seconds = seconds
    task.save()
    return task
