"""What makes an agent's contract and a shift template well-formed, checked alike by the console and
any service: ``{field: message}`` dicts (empty: nothing wrong)."""

from __future__ import annotations

import itertools
from typing import Any

from engagement.wfm.scheduling.models import ActivityKind, AgentContract, ShiftTemplate

BREAK_KINDS = (ActivityKind.BREAK, ActivityKind.LUNCH)
BREAK_KEYS = {"kind", "minutes", "after_minutes", "spread_minutes"}


def contract_errors(contract: AgentContract) -> dict[str, str]:
    errors: dict[str, str] = {}
    if contract.min_hours_week > contract.max_hours_week:
        errors["min_hours_week"] = "The minimum hours must not be above the maximum."
    if contract.earliest_start >= contract.latest_end:
        errors["latest_end"] = "The working day must end after its earliest start."
    weekdays = list(contract.weekdays or [])
    if any(day not in range(7) for day in weekdays) or len(set(weekdays)) != len(weekdays):
        errors["weekdays"] = "Weekdays are 0 (Monday) to 6 (Sunday), each once."
    elif weekdays and len(weekdays) < contract.max_days_week:
        errors["max_days_week"] = f"Only {len(weekdays)} weekdays are allowed, fewer than the days a week."
    return errors


def _break_error(position: int, item: Any, length: int) -> str | None:
    label = f"Break {position}"
    if not isinstance(item, dict) or set(item) - BREAK_KEYS or not {"kind", "minutes", "after_minutes"} <= set(item):
        return f"{label}: give kind, minutes, after_minutes (and spread_minutes), nothing else."
    if item["kind"] not in BREAK_KINDS:
        return f"{label}: the kind is break or lunch."
    numbers = [item["minutes"], item["after_minutes"], item.get("spread_minutes", 0)]
    if not all(isinstance(number, int) and not isinstance(number, bool) and number >= 0 for number in numbers):
        return f"{label}: minutes are whole numbers, zero or more."
    minutes, after, spread = numbers
    if not 5 <= minutes <= 120:
        return f"{label}: between 5 and 120 minutes."
    if after - spread <= 0 or after + spread + minutes >= length:
        return f"{label}: it must fall inside the shift, after its start and before its end, spread included."
    return None


def template_errors(template: ShiftTemplate) -> dict[str, str]:
    """The template's start window and its breaks: a list of ``{"kind", "minutes", "after_minutes",
    "spread_minutes"}``, each inside the shift, not overlapping the next one at their nominal times."""
    errors: dict[str, str] = {}
    if template.earliest_start > template.latest_start:
        errors["latest_start"] = "The latest start must not be before the earliest."
    breaks = template.breaks
    if not isinstance(breaks, list):
        return {**errors, "breaks": "Breaks are a list (empty for none)."}
    found = [_break_error(position, item, template.length_minutes or 0) for position, item in enumerate(breaks, 1)]
    problems = [problem for problem in found if problem is not None]
    if not problems:
        ordered = sorted(breaks, key=lambda item: item["after_minutes"])
        for earlier, later in itertools.pairwise(ordered):
            if earlier["after_minutes"] + earlier["minutes"] > later["after_minutes"]:
                problems.append(f"The {earlier['kind']} at {earlier['after_minutes']} minutes overlaps the next.")
    if problems:
        errors["breaks"] = " ".join(problems)
    return errors
