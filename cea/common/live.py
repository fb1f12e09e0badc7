"""Live pushes to browsers, sent only after the surrounding transaction commits.

Like Zulip's ``send_event_on_commit``: a push describing a change must never
arrive before the change is visible, nor arrive for a change that rolled back.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def push_on_commit(group: str, event: dict[str, Any]) -> None:
    """Send ``event`` to the Channels ``group`` once the current transaction commits."""

    def send() -> None:
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(group, event)

    transaction.on_commit(send)
