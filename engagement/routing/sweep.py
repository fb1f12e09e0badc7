"""The routing sweep: what no trigger asked for (time-outs, presence timers, widening steps) happens here."""

from __future__ import annotations

from django.db.models import F

from engagement.routing.engine import dispatch_queue, route_agent
from engagement.routing.models import AgentProfile, Presence, WorkItem, WorkStatus
from engagement.routing.offers import offers_expire_due
from engagement.routing.presence import presence_sweep

# Free agents the sweep asks work for, longest idle first (a missed "agent available" trigger).
SWEEP_AGENTS = 200


def routing_sweep() -> dict:
    """Expire offers, run presence timers, then route every queue with waiting work and idle agents.

    Runs on a schedule (``CEA_ROUTING_SWEEP_SECONDS``): widening steps take effect here, and any
    trigger lost between commit and Celery is made good within one period.
    """
    done = {"offers_expired": offers_expire_due(), **presence_sweep()}
    queue_ids = list(WorkItem.objects.filter(status=WorkStatus.WAITING).values_list("queue_id", flat=True).distinct())
    done["offers"] = sum(dispatch_queue(queue_id) for queue_id in sorted(queue_ids))
    if queue_ids:
        free = AgentProfile.objects.filter(
            presence=Presence.AVAILABLE, user__is_active=True, load_units__lt=F("capacity_units")
        ).order_by("idle_since", "pk")[:SWEEP_AGENTS]
        done["offers"] += sum(route_agent(agent_id) is not None for agent_id in free.values_list("pk", flat=True))
    return done
