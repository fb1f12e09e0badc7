"""A queue's routing rules (bullseye steps): validation and which step holds at an item's age.

Steps are data, edited in the console. They are valid when, in position order, every step but the
last ends (``until_seconds``) later than the one before, only the last step may run for ever, an
overflow step is last, and it overflows to another, active queue.
"""

from __future__ import annotations

from dataclasses import dataclass

from cea.common.errors import ValidationFailed
from engagement.routing.models import Queue, RoutingStep


@dataclass(frozen=True)
class Step:
    """What the router needs of a ``RoutingStep``."""

    position: int
    until_seconds: int | None
    skill_id: int | None
    min_proficiency: int
    overflow_to_id: int | None

    @property
    def overflows(self) -> bool:
        return self.overflow_to_id is not None


ANY_AGENT = Step(position=0, until_seconds=None, skill_id=None, min_proficiency=1, overflow_to_id=None)


def steps_validate(steps: list[Step], *, queue_id: int | None = None) -> None:
    """Raise ``ValidationFailed`` naming the first step that breaks a rule.

    An overflow step's target is looked up in the database: it must be an active queue.
    """
    previous_until = 0
    for index, step in enumerate(steps):
        label = f"Step {index + 1}"
        last = index == len(steps) - 1
        if step.overflows:
            if not last:
                raise ValidationFailed(f"{label} overflows to another queue: it must be the last step.")
            if queue_id is not None and step.overflow_to_id == queue_id:
                raise ValidationFailed(f"{label} overflows to its own queue.")
            if step.skill_id is not None:
                raise ValidationFailed(f"{label} overflows: it cannot also ask for a skill.")
            if not _active_queue(step.overflow_to_id):
                raise ValidationFailed(f"{label} overflows to a queue that does not exist or is closed.")
            if index == 0 and queue_id is not None and _overflows_at_once_to(step.overflow_to_id, queue_id):
                raise ValidationFailed(
                    f"{label} overflows at once to a queue that overflows at once back here: "
                    "its work would go round for ever."
                )
            continue
        if not 1 <= step.min_proficiency <= 5:
            raise ValidationFailed(f"{label}: proficiency is from 1 to 5.")
        if step.until_seconds is None:
            if not last:
                raise ValidationFailed(f"{label} has no time limit, so the steps after it could never apply.")
            continue
        if step.until_seconds <= previous_until:
            raise ValidationFailed(
                f"{label} ends at {step.until_seconds} s, which is not after the step before it ({previous_until} s)."
            )
        previous_until = step.until_seconds


def _active_queue(queue_id: int) -> bool:
    return Queue.objects.filter(pk=queue_id, is_active=True).exists()


def _overflows_at_once_to(start_id: int, home_id: int) -> bool:
    """Whether work put in queue ``start_id`` is moved on at once, queue after queue, to ``home_id``.

    A queue whose first step overflows moves work on at age 0; a loop of such queues would move an
    item round and round without ever offering it.
    """
    seen: set[int] = set()
    current = start_id
    while current not in seen:
        seen.add(current)
        first = RoutingStep.objects.filter(queue_id=current).order_by("position", "id").first()
        if first is None or first.overflow_to_id is None:
            return False
        if first.overflow_to_id == home_id:
            return True
        current = first.overflow_to_id
    return False


def step_at(steps: list[Step], age_seconds: float) -> tuple[int, Step]:
    """The step holding for an item that has waited ``age_seconds`` in the queue, with its index.

    Past the last step's limit the last step keeps holding (a queue whose rules all end still
    routes its work: to the agents of the last step).
    """
    if not steps:
        return 0, ANY_AGENT
    for index, step in enumerate(steps):
        if step.overflows or step.until_seconds is None or age_seconds < step.until_seconds:
            return index, step
    return len(steps) - 1, steps[-1]


def step_start(steps: list[Step], index: int) -> int:
    """The age at which step ``index`` starts to hold."""
    return 0 if index == 0 else (steps[index - 1].until_seconds or 0)


def queue_steps(queue) -> list[Step]:
    return [
        Step(
            position=step.position,
            until_seconds=step.until_seconds,
            skill_id=step.skill_id,
            min_proficiency=step.min_proficiency,
            overflow_to_id=step.overflow_to_id,
        )
        for step in queue.steps.order_by("position", "id")
    ]
