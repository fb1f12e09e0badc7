"""Writes of routing's configuration: business-hours schedules and the queue's choice of one.

Schedules are global configuration, like queues: administrators write them (``actor`` ``None`` is
the system, e.g. the demo load); supervisors and integration clients read them. Each write checks
everything first (``engagement.routing.hours.hours_problems``) and then saves the schedule with its
ranges and closures in one transaction: a refused write leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.db import transaction

from cea.accounts.types import Actor
from cea.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from cea.common.roles import is_admin
from engagement.routing.hours import ClosedDays, HoursSpec, WeeklyRange, hours_problems
from engagement.routing.models import BusinessHours, Closure, OpeningRange, Queue


def require_routing_admin(actor: Actor) -> None:
    """Only administrators (or the system, ``None``) change routing's configuration."""
    if actor is not None and not is_admin(actor):
        raise PermissionDenied("Only administrators change business hours and queues.")


def _check(*, name: str, spec: HoursSpec, schedule_id: int | None) -> None:
    problems = hours_problems(spec)
    others = BusinessHours.objects.filter(name=name)
    taken = (others.exclude(pk=schedule_id) if schedule_id is not None else others).exists()
    if not name:
        problems["name"] = ["Give the schedule a name."]
    elif taken:
        problems["name"] = [f"There is already a schedule named {name!r}."]
    if problems:
        raise ValidationFailed("The business hours are invalid.", fields=problems)


def _write_parts(*, schedule: BusinessHours, spec: HoursSpec) -> None:
    schedule.ranges.all().delete()
    schedule.closures.all().delete()
    OpeningRange.objects.bulk_create(
        OpeningRange(schedule=schedule, weekday=weekly.weekday, opens=weekly.opens, closes=weekly.closes)
        for weekly in spec.ranges
    )
    Closure.objects.bulk_create(
        Closure(schedule=schedule, name=closure.name.strip(), first_day=closure.first_day, last_day=closure.last_day)
        for closure in spec.closures
    )


@transaction.atomic
def business_hours_create(
    *,
    actor: Actor,
    name: str,
    label: str = "",
    time_zone: str | None = None,
    ranges: Sequence[WeeklyRange],
    closures: Sequence[ClosedDays] = (),
) -> BusinessHours:
    """A new schedule with its weekly ranges and closures (``time_zone`` default: the deployment's).
    ``ValidationFailed`` (by field) when any is wrong; nothing is written then."""
    require_routing_admin(actor)
    spec = HoursSpec(time_zone=time_zone or settings.TIME_ZONE, ranges=tuple(ranges), closures=tuple(closures))
    _check(name=name, spec=spec, schedule_id=None)
    schedule = BusinessHours.objects.create(name=name, label=label, time_zone=spec.time_zone)
    _write_parts(schedule=schedule, spec=spec)
    return schedule


@transaction.atomic
def business_hours_update(
    *,
    actor: Actor,
    name: str,
    new_name: str | None = None,
    label: str = "",
    time_zone: str | None = None,
    ranges: Sequence[WeeklyRange],
    closures: Sequence[ClosedDays] = (),
) -> BusinessHours:
    """Replace the schedule ``name``'s settings, ranges and closures (locks its row). ``NotFound``,
    ``ValidationFailed`` (by field); on a refusal nothing changes."""
    require_routing_admin(actor)
    schedule = BusinessHours.objects.select_for_update().filter(name=name).first()
    if schedule is None:
        raise NotFound(f"No business hours {name!r}.")
    spec = HoursSpec(time_zone=time_zone or settings.TIME_ZONE, ranges=tuple(ranges), closures=tuple(closures))
    _check(name=new_name or name, spec=spec, schedule_id=schedule.pk)
    schedule.name, schedule.label, schedule.time_zone = new_name or name, label, spec.time_zone
    schedule.save(update_fields=["name", "label", "time_zone", "updated_at"])
    _write_parts(schedule=schedule, spec=spec)
    return schedule


@transaction.atomic
def business_hours_delete(*, actor: Actor, name: str) -> None:
    """Delete the schedule ``name``; ``Conflict`` while queues use it (they would silently become always open)."""
    require_routing_admin(actor)
    schedule = BusinessHours.objects.select_for_update().filter(name=name).first()
    if schedule is None:
        raise NotFound(f"No business hours {name!r}.")
    users = sorted(schedule.queues.values_list("name", flat=True))
    if users:
        raise Conflict(f"Queues {', '.join(users)} use these business hours: point them elsewhere first.")
    schedule.delete()


@transaction.atomic
def queue_business_hours_set(*, actor: Actor, queue_name: str, schedule_name: str | None) -> Queue:
    """Point the queue ``queue_name`` to the schedule ``schedule_name`` (``None``: always open)."""
    require_routing_admin(actor)
    queue = Queue.objects.select_for_update().filter(name=queue_name).first()
    if queue is None:
        raise NotFound(f"No queue {queue_name!r}.")
    schedule = None
    if schedule_name:
        schedule = BusinessHours.objects.filter(name=schedule_name).first()
        if schedule is None:
            raise ValidationFailed(
                "Unknown business hours.", fields={"business_hours": f"No business hours {schedule_name!r}."}
            )
    queue.business_hours = schedule
    queue.save(update_fields=["business_hours", "updated_at"])
    return queue
