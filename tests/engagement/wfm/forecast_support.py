"""Helpers of the forecasting tests: planning queues and an interaction history laid out from a series."""

from __future__ import annotations

from datetime import datetime, timedelta

from cea.common.channels import Direction
from engagement.wfm.forecasting.backtest import History
from engagement.wfm.planning.models import PlanningQueue
from records.interactions.models import Interaction

MONDAY = datetime.fromisoformat("2026-03-02T00:00:00+00:00")  # a Monday, in winter (UTC = London)


def planning_queue(*, queue: str = "support", team=None, interval_minutes: int = 30, **fields) -> PlanningQueue:
    return PlanningQueue.objects.create(
        queue=queue, channel=fields.pop("channel", "voice"), team=team, interval_minutes=interval_minutes, **fields
    )


def history_write(
    history: History, *, queue: str, start: datetime, interval_minutes: int, channel: str = "voice", aht: float = 300.0
) -> int:
    """Interactions for ``history``'s contacts, interval by interval from ``start``: the handled ones
    answered a minute after they started and ended ``aht`` seconds later, the rest abandoned."""
    step = timedelta(minutes=interval_minutes)
    rows = []
    for index, contacts in enumerate(history.contacts.astype(int)):
        handled = int(history.handled[index])
        for n in range(contacts):
            started = start + index * step + timedelta(seconds=5 * n % (interval_minutes * 60))
            answered = started + timedelta(minutes=1) if n < handled else None
            ended = answered + timedelta(seconds=aht) if answered else started + timedelta(minutes=2)
            rows.append(
                Interaction(
                    channel=channel,
                    direction=Direction.INBOUND,
                    queue=queue,
                    started_at=started,
                    answered_at=answered,
                    ended_at=ended,
                )
            )
    Interaction.objects.bulk_create(rows, batch_size=5000)
    return len(rows)
