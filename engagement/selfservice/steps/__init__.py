"""The kinds of step a flow is made of, each in one module: its options, its check and its run.

``STEP_KINDS`` maps a kind's name (``models.StepKind``) to its ``StepType``. The checks of a
flow's steps (``flow_steps_problems``, run when a flow is saved) and the engine (``engine.py``,
run on each customer input) both look the kind up here, and nowhere else switch on it.

To add a kind: a ``StepKind`` member in ``models.py`` (with its migration: the field's choices),
and a module here with a ``StepType`` subclass (a ``WaitingStep`` if it waits for the customer's
answer) that says which options it accepts, checks them, names the steps they lead to and runs
the step; then list an instance in ``STEP_KINDS`` below. The console, the API, the demo loader,
chat and the IVR all take it from there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from engagement.selfservice.definition import Problems, StepDef
from engagement.selfservice.steps.ask import Ask
from engagement.selfservice.steps.base import FlowRun, StepCheck, StepType, WaitingStep
from engagement.selfservice.steps.branch import Branch
from engagement.selfservice.steps.end import End
from engagement.selfservice.steps.handover import Handover
from engagement.selfservice.steps.knowledge import Knowledge
from engagement.selfservice.steps.lookup import Lookup
from engagement.selfservice.steps.menu import Menu
from engagement.selfservice.steps.say import Say
from integration.lookups import lookup_names

__all__ = ["STEP_KINDS", "FlowRun", "StepType", "WaitingStep", "flow_steps_problems", "step_targets"]

STEP_KINDS: dict[str, StepType] = {
    kind.kind: kind for kind in (Say(), Ask(), Menu(), Lookup(), Knowledge(), Branch(), Handover(), End())
}


def step_targets(step: StepDef) -> list[str]:
    """The keys of every step ``step`` may go to: its next step and those its options name."""
    kind = STEP_KINDS.get(step.kind)
    options = step.options if isinstance(step.options, Mapping) else {}
    return ([step.next_step] if step.next_step else []) + (kind.option_targets(options) if kind else [])


def flow_steps_problems(steps: list[StepDef], *, known_lookups: Iterable[str] | None = None) -> Problems:
    """Check a flow's steps, given in order (the first is where the flow starts).

    Keys are unique; every target (next step, menu choice, branch case, failure path) exists;
    the options have the shape their kind needs; every step is reachable from the first.
    ``known_lookups`` defaults to the registered look-ups (``integration.lookups``).
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
        kind = STEP_KINDS.get(step.kind)
        if kind is None:
            problems.add(index, "kind", f"Unknown kind {step.kind!r}.")
        elif not isinstance(step.options, Mapping):
            problems.add(index, "options", "Options are a JSON object ({…}).")
        else:
            kind.check(step, StepCheck(problems=problems, index=index, keys=keys, known_lookups=known))
    for index in _unreachable(steps):
        problems.add(index, "key", f"No step leads here: it cannot be reached from the first step {steps[0].key!r}.")
    return problems


def _unreachable(steps: list[StepDef]) -> list[int]:
    """The indexes of the steps no path from the first step leads to."""
    by_key = {step.key: step for step in steps}
    reached = {steps[0].key}
    frontier = [steps[0]]
    while frontier:
        step = frontier.pop()
        if not isinstance(step.options, Mapping):
            continue
        for target in step_targets(step):
            if target in by_key and target not in reached:
                reached.add(target)
                frontier.append(by_key[target])
    return [index for index, step in enumerate(steps) if step.key not in reached]
