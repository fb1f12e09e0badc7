"""Writes of planning queues: create and change one (a planner, on their teams), and discover them
from the interaction history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone

from cea.accounts.models import Team
from cea.accounts.types import AnyUser
from cea.common.channels import Channel
from cea.common.errors import PermissionDenied, ValidationFailed
from engagement.routing.models import Queue
from engagement.wfm.access import require_planner, team_planned
from engagement.wfm.planning.models import PlanningQueue, StaffingModel
from records.interactions.selectors import interaction_queue_channels

CHANGEABLE = frozenset(
    {
        "label",
        "team",
        "skill",
        "interval_minutes",
        "target_kind",
        "service_level_percent",
        "service_level_seconds",
        "asa_seconds",
        "model",
        "patience_seconds",
        "concurrency",
        "max_occupancy_percent",
        "shrinkage_percent",
        "is_active",
    }
)
CHAT_LIKE = frozenset({Channel.CHAT, Channel.SMS, Channel.SOCIAL, Channel.MOBILE_APP})
DEFERRED = frozenset({Channel.EMAIL, Channel.WEB_FORM, Channel.IOT})


def _checked_save(planning_queue: PlanningQueue) -> PlanningQueue:
    """Validate every field and constraint, then save; ``ValidationFailed`` with field messages."""
    try:
        planning_queue.full_clean()
    except DjangoValidationError as error:
        raise ValidationFailed("Please correct the planning queue's fields.", fields=error.message_dict) from error
    planning_queue.save()
    return planning_queue


def _require_team(user: AnyUser, team: Team | None) -> None:
    if not team_planned(user, team.pk if team else None):
        raise PermissionDenied("You plan only your own teams' queues.", fields={"team": ["Not a team you supervise."]})


def _unknown_fields(fields: dict[str, Any]) -> None:
    unknown = sorted(set(fields) - CHANGEABLE)
    if unknown:
        raise ValidationFailed(
            "Unknown fields.", fields={name: ["Not a field of a planning queue."] for name in unknown}
        )


@transaction.atomic
def planning_queue_create(*, user: AnyUser, queue: str, channel: str, **fields: Any) -> PlanningQueue:
    """A new planning queue of ``queue`` on ``channel``; a supervisor only for one of their teams (no team:
    admins only). Model defaults by channel when ``model`` is not given (``model_defaults``)."""
    require_planner(user)
    _unknown_fields(fields)
    _require_team(user, fields.get("team"))
    values = {**model_defaults(channel), **fields}
    return _checked_save(PlanningQueue(queue=queue.strip(), channel=channel, **values))


@transaction.atomic
def planning_queue_update(*, user: AnyUser, planning_queue: PlanningQueue, **changes: Any) -> PlanningQueue:
    """Change ``planning_queue``'s target, model or team; the caller fetched it with ``access_planned_queue``.
    Moving it to a team needs that team to be the user's too. Locks the row."""
    require_planner(user)
    _unknown_fields(changes)
    locked = PlanningQueue.objects.select_for_update().get(pk=planning_queue.pk)
    _require_team(user, locked.team)
    if "team" in changes:
        _require_team(user, changes["team"])
    for name, value in changes.items():
        setattr(locked, name, value)
    return _checked_save(locked)


def model_defaults(channel: str) -> dict[str, Any]:
    """How a channel is staffed unless told otherwise: voice (and branches) Erlang C; chat and other
    messaging ``chat`` at two contacts at once; e-mail, web forms and devices ``backlog``."""
    if channel in CHAT_LIKE:
        return {"model": StaffingModel.CHAT, "concurrency": 2}
    if channel in DEFERRED:
        return {"model": StaffingModel.BACKLOG, "concurrency": 1}
    return {"model": StaffingModel.ERLANG_C, "concurrency": 1}


def _targets_from_routing(queue_name: str) -> dict[str, Any]:
    routing_queue = Queue.objects.filter(name=queue_name).first()
    if routing_queue is None:
        return {}
    return {
        "label": routing_queue.label,
        "service_level_percent": min(99, routing_queue.service_level_percent),
        "service_level_seconds": routing_queue.service_level_seconds,
        "routing_team_id": routing_queue.team_id,
    }


@transaction.atomic
def planning_queues_discover(
    *, since: dt.datetime | None = None, min_contacts_per_day: float = 1.0, now: dt.datetime | None = None
) -> list[PlanningQueue]:
    """Create a planning queue for every (queue, channel) of inbound contacts since ``since`` (all history:
    None) with at least ``min_contacts_per_day`` on average over the days observed; existing planning
    queues are left as they are. Team: the one most of its contacts belonged to, else the routing queue's;
    targets copied from the routing queue of the same name when there is one. Returns those created.

    A system action (the demo loader, an admin's console): it checks nobody."""
    now = now or timezone.now()
    existing = set(PlanningQueue.objects.values_list("queue", "channel"))
    created = []
    for found in interaction_queue_channels(since=since):
        if (found["queue"], found["channel"]) in existing:
            continue
        days = max(1.0, (now - (since or found["first_started_at"])) / dt.timedelta(days=1))
        if found["contacts"] / days < min_contacts_per_day:
            continue
        targets = _targets_from_routing(found["queue"])
        team_id = found["team_id"] or targets.pop("routing_team_id", None)
        targets.pop("routing_team_id", None)
        planning_queue = PlanningQueue(
            queue=found["queue"],
            channel=found["channel"],
            team_id=team_id,
            **model_defaults(found["channel"]),
            **targets,
        )
        created.append(_checked_save(planning_queue))
    return created
