"""A flow as the engine runs it, and the checks a flow definition must pass before it is saved.

The console (admin), the demo loader and the engine share these: a flow that the console
accepts is one the engine can run on chat and on the IVR alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import regex

from engagement.selfservice.models import Flow, StepKind
from integration.lookups import lookup_names

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

# The options each kind accepts; anything else is a typo the console reports.
ALLOWED_OPTIONS: dict[str, set[str]] = {
    StepKind.SAY: set(),
    StepKind.ASK: {"variable", "pattern", "retries", "error"},
    StepKind.MENU: {"choices", "variable", "retries"},
    StepKind.LOOKUP: {"lookup", "inputs", "result", "on_failure"},
    StepKind.KNOWLEDGE: {"query", "on_no_match"},
    StepKind.BRANCH: {"variable", "cases", "default"},
    StepKind.HANDOVER: {"queue", "reason"},
    StepKind.END: {"close"},
}


@dataclass(frozen=True)
class StepDef:
    key: str
    kind: str
    prompt: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)
    next_step: str = ""
    position: int = 0

    def targets(self) -> list[tuple[str, str]]:
        """``(field, step key)`` of every step this one may go to."""
        found: list[tuple[str, str]] = []
        if self.next_step:
            found.append(("next_step", self.next_step))
        options = self.options if isinstance(self.options, Mapping) else {}
        if self.kind == StepKind.MENU and isinstance(options.get("choices"), list):
            found += [
                ("options", str(c.get("next") or ""))
                for c in options["choices"]
                if isinstance(c, Mapping) and c.get("next")
            ]
        if self.kind == StepKind.BRANCH:
            if isinstance(options.get("cases"), Mapping):
                found += [("options", str(target)) for target in options["cases"].values() if target]
            if options.get("default"):
                found.append(("options", str(options["default"])))
        if self.kind == StepKind.LOOKUP and options.get("on_failure"):
            found.append(("options", str(options["on_failure"])))
        if self.kind == StepKind.KNOWLEDGE and options.get("on_no_match"):
            found.append(("options", str(options["on_no_match"])))
        return found


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


def _is_step_key(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _check_target(problems: Problems, index: int, field_name: str, target: Any, keys: set[str], what: str) -> None:
    if not _is_step_key(target):
        problems.add(index, field_name, f"{what} must name a step.")
    elif target not in keys:
        problems.add(index, field_name, f"{what}: there is no step with the key {target!r} in this flow.")


def _check_retries(problems: Problems, index: int, options: Mapping[str, Any]) -> None:
    if "retries" in options:
        retries = options["retries"]
        if not isinstance(retries, int) or isinstance(retries, bool) or not 0 <= retries <= MAX_RETRIES:
            problems.add(index, "options", f"retries is a whole number from 0 to {MAX_RETRIES}.")


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


def _check_options(problems: Problems, index: int, step: StepDef, keys: set[str], known_lookups: set[str]) -> None:
    options = step.options
    kind = step.kind
    unknown = sorted(set(options) - ALLOWED_OPTIONS[kind])
    if unknown:
        allowed = ", ".join(sorted(ALLOWED_OPTIONS[kind])) or "none"
        problems.add(
            index, "options", f"Unknown option(s) for a {kind} step: {', '.join(unknown)} (allowed: {allowed})."
        )
    if kind == StepKind.ASK:
        variable = options.get("variable")
        if not isinstance(variable, str) or not NAME.match(variable):
            problems.add(index, "options", "An ask step needs a variable: lower-case letters, digits and _.")
        if "pattern" in options:
            problem = pattern_problem(options["pattern"])
            if problem:
                problems.add(index, "options", problem)
        if "error" in options and not isinstance(options["error"], str):
            problems.add(index, "options", "error is the text said when an answer is refused.")
        _check_retries(problems, index, options)
    elif kind == StepKind.MENU:
        choices = options.get("choices")
        if not isinstance(choices, list) or not choices:
            problems.add(index, "options", 'A menu needs choices: [{"key": "1", "label": "…", "next": "step"}].')
        else:
            seen_keys: set[str] = set()
            seen_labels: set[str] = set()
            for number, choice in enumerate(choices, start=1):
                if not isinstance(choice, Mapping) or set(choice) - {"key", "label", "next"}:
                    problems.add(index, "options", f"Choice {number} is an object with key, label and next only.")
                    continue
                key, label = choice.get("key"), choice.get("label")
                if not isinstance(key, str) or not MENU_KEY.match(key):
                    problems.add(index, "options", f"Choice {number}: the key is a digit 1-9 (or two digits, or #).")
                elif key in seen_keys:
                    problems.add(index, "options", f"Choice {number}: the key {key!r} is used twice.")
                seen_keys.add(str(key))
                if not isinstance(label, str) or not label.strip():
                    problems.add(index, "options", f"Choice {number} needs a label.")
                elif label.strip().lower() in seen_labels:
                    problems.add(index, "options", f"Choice {number}: the label {label!r} is used twice.")
                else:
                    seen_labels.add(label.strip().lower())
                _check_target(problems, index, "options", choice.get("next"), keys, f"Choice {number}'s next")
        if "variable" in options and (not isinstance(options["variable"], str) or not NAME.match(options["variable"])):
            problems.add(index, "options", "variable: lower-case letters, digits and _.")
        _check_retries(problems, index, options)
    elif kind == StepKind.LOOKUP:
        name = options.get("lookup")
        if not isinstance(name, str) or not name:
            problems.add(
                index, "options", f"A look-up step names its look-up (one of: {', '.join(sorted(known_lookups))})."
            )
        elif name not in known_lookups:
            problems.add(index, "options", f"There is no look-up {name!r} (known: {', '.join(sorted(known_lookups))}).")
        inputs = options.get("inputs", {})
        if not isinstance(inputs, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) and VARIABLE.match(v) for k, v in inputs.items()
        ):
            problems.add(
                index, "options", 'inputs maps each input of the look-up to a variable: {"order": "order_number"}.'
            )
        if "result" in options and (not isinstance(options["result"], str) or not NAME.match(options["result"])):
            problems.add(
                index, "options", "result is the variable that holds the answer: lower-case letters, digits, _."
            )
        if "on_failure" in options:
            _check_target(problems, index, "options", options["on_failure"], keys, "on_failure")
    elif kind == StepKind.KNOWLEDGE:
        if "query" in options and (not isinstance(options["query"], str) or not options["query"].strip()):
            problems.add(index, "options", "query is the question to search for (text, {variables} allowed).")
        if "on_no_match" in options:
            _check_target(problems, index, "options", options["on_no_match"], keys, "on_no_match")
    elif kind == StepKind.BRANCH:
        variable = options.get("variable")
        if not isinstance(variable, str) or not VARIABLE.match(variable):
            problems.add(index, "options", "A branch needs the variable it looks at (e.g. verification_level).")
        cases = options.get("cases")
        if not isinstance(cases, Mapping) or not cases:
            problems.add(index, "options", 'A branch needs cases: {"value": "step-key"}.')
        else:
            for value, target in cases.items():
                _check_target(problems, index, "options", target, keys, f"The case {value!r}")
        if "default" in options:
            _check_target(problems, index, "options", options["default"], keys, "default")
        elif not step.next_step:
            problems.add(index, "options", "A branch needs a default (or a next step) for values not listed.")
    elif kind == StepKind.HANDOVER:
        for name in ("queue", "reason"):
            if name in options and not isinstance(options[name], str):
                problems.add(index, "options", f"{name} is text.")
    elif kind == StepKind.END and "close" in options and not isinstance(options["close"], bool):
        problems.add(index, "options", "close is true (end the conversation) or false (back to the main menu).")


def flow_steps_problems(steps: list[StepDef], *, known_lookups: Iterable[str] | None = None) -> Problems:
    """Check a flow's steps, given in order (the first is where the flow starts).

    Keys are unique; every target (next step, menu choice, branch case, failure path) exists;
    the options have the shape their kind needs; every step is reachable from the first.
    """
    problems = Problems()
    if not steps:
        problems.general.append("A flow needs at least one step.")
        return problems
    known = set(lookup_names() if known_lookups is None else known_lookups)
    keys: set[str] = set()
    for index, step in enumerate(steps):
        if step.key in keys:
            problems.add(index, "key", f"Another step already uses the key {step.key!r}.")
        keys.add(step.key)
    for index, step in enumerate(steps):
        if step.kind not in StepKind.values:
            problems.add(index, "kind", f"Unknown kind {step.kind!r}.")
            continue
        if not isinstance(step.options, Mapping):
            problems.add(index, "options", "Options are a JSON object ({…}).")
            continue
        if step.kind in (StepKind.SAY, StepKind.ASK, StepKind.MENU) and not step.prompt.strip():
            problems.add(index, "prompt", f"A {step.kind} step needs a prompt.")
        if step.kind in (StepKind.HANDOVER, StepKind.END) and step.next_step:
            problems.add(index, "next_step", f"A {step.kind} step finishes the flow: leave the next step empty.")
        elif step.next_step and step.next_step not in keys:
            problems.add(index, "next_step", f"There is no step with the key {step.next_step!r} in this flow.")
        _check_options(problems, index, step, keys, known)
    # Reachability from the first step, over every kind of target.
    by_key = {step.key: step for step in steps}
    reached = {steps[0].key}
    frontier = [steps[0]]
    while frontier:
        step = frontier.pop()
        if not isinstance(step.options, Mapping):
            continue
        for _, target in step.targets():
            if target in by_key and target not in reached:
                reached.add(target)
                frontier.append(by_key[target])
    for index, step in enumerate(steps):
        if step.key not in reached:
            problems.add(
                index, "key", f"No step leads here: it cannot be reached from the first step {steps[0].key!r}."
            )
    return problems


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
