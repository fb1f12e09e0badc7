"""A flow as the engine runs it, and the rules its definition must keep before it is saved.

The console (admin), the API, the demo loader and the engine share these: a flow that the checks
accept is one the engine can run on chat and on the IVR alike. What each kind of step accepts
and does is in ``steps/`` (``steps.flow_steps_problems`` checks a flow's steps); here are the
rules the kinds share (names, menu keys, retries, ask patterns) and the checks of a flow's own
fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import regex

from engagement.selfservice.models import Flow

VARIABLE = re.compile(r"^[a-z][a-z0-9_]{0,59}(\.[a-z0-9_]{1,60}){0,3}$")
NAME = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
MENU_KEY = re.compile(r"^[1-9#][0-9]?$")
# Said at any time, these keys are not the flow's: 0 asks for an agent, * goes back to the main menu.
RESERVED_KEYS = {"0", "*"}
MAX_RETRIES = 5
DEFAULT_RETRIES = 2
# The longest customer answer an ask step keeps (and matches against its pattern).
MAX_ANSWER_CHARS = 200
# Ask patterns are supervisors' regular expressions run on customers' text. They are matched by
# the ``regex`` engine (the stdlib's ``re`` has no time limit), each match within
# PATTERN_TIMEOUT_SECONDS; a pattern is at most PATTERN_MAX_CHARS long.
PATTERN_MAX_CHARS = 200
PATTERN_TIMEOUT_SECONDS = 0.1
# Answers tried when a pattern is saved: long runs of one kind of character and then one no
# pattern expects, the input on which nested repetition backtracks exponentially.
_PATTERN_PROBES = tuple(filler * MAX_ANSWER_CHARS + "\x00" for filler in ("a", "A", "0", " ", "-", "."))


@dataclass(frozen=True)
class StepDef:
    """One step as written (a console form, the API, a stored row); its options are not checked yet."""

    key: str
    kind: str
    prompt: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)
    next_step: str = ""
    position: int = 0


@dataclass(frozen=True)
class FlowDef:
    name: str
    intent: str
    queue: str
    menu_key: str
    trigger_phrases: tuple[str, ...]
    steps: Mapping[str, StepDef]
    first: str

    @classmethod
    def of(cls, flow: Flow, steps: Iterable) -> FlowDef:
        ordered = sorted(steps, key=lambda s: (s.position, s.pk or 0))
        defs = {
            s.key: StepDef(
                key=s.key,
                kind=s.kind,
                prompt=s.prompt,
                options=s.options or {},
                next_step=s.next_step,
                position=s.position,
            )
            for s in ordered
        }
        return cls(
            name=flow.name,
            intent=flow.intent,
            queue=flow.queue,
            menu_key=flow.menu_key,
            trigger_phrases=tuple(trigger_phrases_of(flow.trigger_phrases)),
            steps=defs,
            first=ordered[0].key if ordered else "",
        )


def trigger_phrases_of(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


# --- Checks ---------------------------------------------------------------------------------


@dataclass
class Problems:
    """What is wrong with a flow's steps: per step (by its index in the list given) and per field."""

    by_step: dict[int, dict[str, list[str]]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def add(self, index: int, field_name: str, message: str) -> None:
        self.by_step.setdefault(index, {}).setdefault(field_name, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.by_step or self.general)

    def messages(self, steps: list[StepDef]) -> list[str]:
        """Every problem as one sentence naming its step, for the service's error and for logs."""
        out = list(self.general)
        for index in sorted(self.by_step):
            for field_name, messages in self.by_step[index].items():
                out += [f"Step {steps[index].key or index + 1!r} ({field_name}): {m}" for m in messages]
        return out


def pattern_problem(pattern: Any) -> str | None:
    """Why ``pattern`` cannot be an ask step's pattern, or ``None``.

    It must be text of at most PATTERN_MAX_CHARS characters that ``regex`` compiles, and match
    (or fail) each probe answer within the time bound: this refuses the usual catastrophic
    shapes, such as ``(a+)+`` or ``(a|aa)*``. It cannot prove a pattern fast on every answer,
    which is why answers are matched with the same time bound (``pattern_fullmatch``).
    """
    if not isinstance(pattern, str) or not pattern:
        return "pattern is a regular expression (text)."
    if len(pattern) > PATTERN_MAX_CHARS:
        return f"pattern is at most {PATTERN_MAX_CHARS} characters (this one has {len(pattern)})."
    try:
        compiled = regex.compile(pattern)
    except (regex.error, RecursionError, OverflowError) as exc:
        return f"pattern is not a valid regular expression: {exc}."
    try:
        for probe in _PATTERN_PROBES:
            compiled.fullmatch(probe, timeout=PATTERN_TIMEOUT_SECONDS)
    except TimeoutError:
        return (
            "pattern takes too long to match some answers: repetition inside repetition, such as (a+)+ or "
            "(a|aa)*, can take exponential time. Write it so that each character can be matched only one way."
        )
    return None


def pattern_fullmatch(pattern: str, answer: str) -> bool | None:
    """Whether all of ``answer`` matches ``pattern``; ``None`` when that could not be told within
    PATTERN_TIMEOUT_SECONDS, or the pattern does not compile (one stored before the checks)."""
    try:
        return regex.fullmatch(pattern, answer, timeout=PATTERN_TIMEOUT_SECONDS) is not None
    except (TimeoutError, regex.error, RecursionError, OverflowError):
        return None


def flow_fields_problems(
    *, menu_key: str, trigger_phrases: str, other_menu_keys: Iterable[str]
) -> dict[str, list[str]]:
    """Checks on a flow's own fields; ``other_menu_keys`` are those of the other active flows."""
    problems: dict[str, list[str]] = {}
    if menu_key:
        if menu_key in RESERVED_KEYS:
            problems.setdefault("menu_key", []).append(
                "0 asks for an agent and * goes back to the menu: pick another key."
            )
        elif not MENU_KEY.match(menu_key):
            problems.setdefault("menu_key", []).append(
                "The key is a digit 1-9 (or two digits, or #), so callers can press it."
            )
        elif menu_key in set(other_menu_keys):
            problems.setdefault("menu_key", []).append(f"Another active flow already has the menu key {menu_key!r}.")
    for phrase in trigger_phrases_of(trigger_phrases):
        if len(phrase) < 3:
            problems.setdefault("trigger_phrases", []).append(f"The phrase {phrase!r} is too short to recognise.")
    return problems
