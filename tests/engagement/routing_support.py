"""Helpers of the routing tests (not collected as tests): waiting work, offers, loads, time travel.
Agents and queues come from tests/engagement/factories.py.

Time is controlled by moving a work item's ``enqueued_at`` / ``entered_queue_at`` into the past
(its rank moves with it, as ``work_enqueue`` would have computed it then), never by sleeping.
"""

from __future__ import annotations

import datetime as dt
import itertools
from datetime import datetime, timedelta

from django.db.models import Sum
from django.utils import timezone

from cea.common.channels import Channel
from engagement.conversations.services import conversation_start
from engagement.orchestration import conversation_escalate
from engagement.routing.hours import ClosedDays, WeeklyRange
from engagement.routing.models import (
    LOADED_WORK,
    OPEN_WORK,
    AgentProfile,
    Offer,
    OfferStatus,
    Queue,
    WorkItem,
)
from engagement.routing.priority import rank_of
from engagement.routing.services import business_hours_create
from tests.support import eager_celery

__all__ = ["eager_celery"]  # re-exported for the routing tests

_visitors = itertools.count(1)


def waiting(
    queue: Queue, *, channel: str = Channel.CHAT, customer=None, age_seconds: float = 0, visitor: str = ""
) -> WorkItem:
    """A conversation escalated to ``queue`` (through the funnel), its work item ``age_seconds`` old."""
    conversation, _ = conversation_start(
        channel=channel, customer=customer, visitor=visitor or f"visitor-{next(_visitors)}"
    )
    conversation_escalate(conversation=conversation, queue=queue.name)
    item = WorkItem.objects.get(conversation=conversation, status__in=OPEN_WORK)  # offered if a trigger ran
    return age(item, age_seconds) if age_seconds else item


def age(item: WorkItem, seconds: float, *, in_queue_only: bool = False) -> WorkItem:
    """Move ``item``'s time in the queue (and, unless ``in_queue_only``, its whole wait) ``seconds`` back."""
    item.refresh_from_db()
    delta = timedelta(seconds=seconds)
    item.entered_queue_at -= delta
    fields = ["entered_queue_at"]
    if not in_queue_only:
        item.enqueued_at -= delta
        item.rank = rank_of(
            priority=item.priority, ageing_per_minute=item.queue.ageing_per_minute, enqueued_at=item.enqueued_at
        )
        fields += ["enqueued_at", "rank"]
    item.save(update_fields=fields)
    return item


def minutes_ago(minutes: float) -> datetime:
    return timezone.now() - timedelta(minutes=minutes)


def fresh(obj):
    obj.refresh_from_db()
    return obj


def pending_offer(item: WorkItem) -> Offer:
    """The one pending offer of ``item`` (fails if there is none or more than one)."""
    return Offer.objects.select_related("agent__user").get(work_item=item, status=OfferStatus.PENDING)


def loaded_units(profile: AgentProfile) -> int:
    """The units of ``profile``'s offered, assigned and wrap-up work, as ``load_units`` should say."""
    return WorkItem.objects.filter(agent=profile, status__in=LOADED_WORK).aggregate(total=Sum("units"))["total"] or 0


def closed_today_and_tomorrow(name: str = "office"):
    """Business hours open 09:00-17:00 UTC every day, but closed all of today and tomorrow (UTC):
    a queue with them is closed now, and opens at 09:00 the day after tomorrow."""
    today = timezone.now().astimezone(dt.UTC).date()
    return business_hours_create(
        actor=None,
        name=name,
        time_zone="UTC",
        ranges=[WeeklyRange(day, dt.time(9), dt.time(17)) for day in range(7)],
        closures=[ClosedDays("Stocktake", today, today + dt.timedelta(days=1))],
    )
