"""Helpers of the routing tests (not collected as tests): agents, queues, waiting work, time travel.

Time is controlled by moving a work item's ``enqueued_at`` / ``entered_queue_at`` into the past
(its rank moves with it, as ``work_enqueue`` would have computed it then), never by sleeping.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from django.db.models import Sum
from django.utils import timezone

from cea.common.channels import Channel
from engagement.conversations.services import conversation_start
from engagement.orchestration import conversation_escalate
from engagement.routing.models import (
    LOADED_WORK,
    OPEN_WORK,
    AgentProfile,
    AgentSkill,
    Offer,
    OfferStatus,
    Presence,
    Queue,
    RoutingStep,
    WorkItem,
)
from engagement.routing.presence import agent_profile_for, presence_set
from engagement.routing.priority import rank_of
from tests.accounts.factories import UserFactory
from tests.support import eager_celery

__all__ = ["eager_celery"]  # re-exported for the routing tests

_visitors = itertools.count(1)


def routable(
    user,
    *,
    presence: str = Presence.AVAILABLE,
    capacity: int = 4,
    channels: tuple[str, ...] = (),
    skills: dict | None = None,
    idle_minutes: float | None = None,
) -> AgentProfile:
    """Give ``user`` a routing profile: presence (set through the service), capacity, channels, skills.

    ``idle_minutes``: how long ago they became idle (longest idle goes first).
    """
    profile = agent_profile_for(user)
    AgentProfile.objects.filter(pk=profile.pk).update(capacity_units=capacity, channels=list(channels))
    if presence != Presence.OFFLINE:
        presence_set(actor=user, agent_user=user, presence=presence, reason_code="break" if presence == "away" else "")
    if idle_minutes is not None:
        AgentProfile.objects.filter(pk=profile.pk).update(idle_since=timezone.now() - timedelta(minutes=idle_minutes))
    for skill, proficiency in (skills or {}).items():
        AgentSkill.objects.create(agent=profile, skill=skill, proficiency=proficiency)
    return fresh(profile)


def make_agent(username: str, *, teams=(), role: str = "agent", **profile) -> AgentProfile:
    """A new user of ``role`` in ``teams`` with a routing profile (available unless told otherwise)."""
    return routable(UserFactory(username=username, role=role, teams=list(teams)), **profile)


def make_queue(name: str, *, steps: list[dict] = (), **fields) -> Queue:
    """A queue and its bullseye ``steps`` (dicts of ``RoutingStep`` fields, in position order)."""
    queue = Queue.objects.create(name=name, label=fields.pop("label", name.title()), **fields)
    for position, step in enumerate(steps):
        RoutingStep.objects.create(queue=queue, position=position, **step)
    return queue


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
