"""What every step kind is made of: the options it accepts, its check and its run, side by side.

A kind is a subclass of ``StepType`` (or of ``WaitingStep``, for a kind that waits for the
customer's answer) in a module of its own in this package, registered in ``steps/__init__.py``.
The checks run when a flow is saved (console, API, demo loader); the run, when the engine reaches
a step of the kind. Both see only a ``StepDef``; the run talks to the engine through ``FlowRun``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from engagement.selfservice.definition import MAX_RETRIES, FlowDef, Problems, StepDef
from engagement.selfservice.session import KnowledgeFunction, LookupFunction, Mode, SessionState, Turn
from engagement.selfservice.words import render


class FlowRun(Protocol):
    """What a step's run may use of the engine running it (``engine.Engine`` is the one).

    The run changes ``state``, ``answers`` and ``turn`` in place, as the engine's own code does.
    """

    mode: Mode
    state: SessionState
    answers: dict[str, Any]
    turn: Turn
    text: str  # the customer's input of this turn
    lookup: LookupFunction
    knowledge: KnowledgeFunction

    def variables(self) -> dict[str, Any]:
        """The answers, the facts and the intent: what ``{name}`` in a prompt is filled from."""
        ...

    def say(self, text: str) -> None:
        """Add ``text`` to the turn's replies (blank text is not said)."""
        ...

    def run_steps(self, flow: FlowDef, key: str) -> Turn:
        """Run the flow from the step ``key`` ("" finishes it) until it waits or ends."""
        ...

    def wait_at(self, step: StepDef) -> Turn:
        """Say the waiting step's prompt and wait for the customer's answer at it."""
        ...

    def retry(self, flow: FlowDef, step: StepDef, error: str) -> Turn:
        """Refuse the answer with ``error`` and ask again, or hand over after the step's retries."""
        ...

    def offer_agent(self, sorry: str, *, reason: str) -> Turn:
        """Apologise with ``sorry`` and ask whether the customer wants an agent."""
        ...

    def handover(self, *, reason: str, say: str, queue: str = "") -> Turn:
        """Say ``say`` and hand the conversation to an agent (``queue``, or the flow's)."""
        ...

    def leave_flow(self) -> None:
        """Forget the running flow and its step."""
        ...

    def flow_done(self) -> Turn:
        """Leave the flow and ask whether there is anything else."""
        ...


@dataclass
class StepCheck:
    """One step's check: where its problems go, and the step keys and look-ups it may name."""

    problems: Problems
    index: int
    keys: set[str]
    known_lookups: set[str]

    def add(self, message: str, field_name: str = "options") -> None:
        self.problems.add(self.index, field_name, message)

    def target(self, target: Any, what: str) -> None:
        """``target`` (an option) must name a step of this flow."""
        if not isinstance(target, str) or not target:
            self.add(f"{what} must name a step.")
        elif target not in self.keys:
            self.add(f"{what}: there is no step with the key {target!r} in this flow.")

    def retries(self, options: Mapping[str, Any]) -> None:
        """The optional ``retries`` is how many refused answers are asked again."""
        if "retries" in options:
            retries = options["retries"]
            if not isinstance(retries, int) or isinstance(retries, bool) or not 0 <= retries <= MAX_RETRIES:
                self.add(f"retries is a whole number from 0 to {MAX_RETRIES}.")


class StepType:
    """A kind of step. A subclass sets the class attributes and overrides what its kind does."""

    kind: ClassVar[str]
    # The options the kind accepts; anything else is a typo the console reports.
    allowed_options: ClassVar[frozenset[str]] = frozenset()
    needs_prompt: ClassVar[bool] = False
    # A hand-over or an end: there is no next step after it.
    finishes_flow: ClassVar[bool] = False
    # The option naming the step to go to when the step finds no answer (a look-up fails, the
    # knowledge base has nothing); without it, the customer is offered an agent.
    failure_option: ClassVar[str] = ""

    def check(self, step: StepDef, check: StepCheck) -> None:
        """Add to ``check`` what is wrong with ``step``: its prompt, next step and options.

        ``step.options`` is a mapping here (the caller reports any other value).
        """
        if self.needs_prompt and not step.prompt.strip():
            check.add(f"A {step.kind} step needs a prompt.", "prompt")
        if self.finishes_flow and step.next_step:
            check.add(f"A {step.kind} step finishes the flow: leave the next step empty.", "next_step")
        elif step.next_step and step.next_step not in check.keys:
            check.add(f"There is no step with the key {step.next_step!r} in this flow.", "next_step")
        unknown = sorted(set(step.options) - self.allowed_options)
        if unknown:
            allowed = ", ".join(sorted(self.allowed_options)) or "none"
            check.add(f"Unknown option(s) for a {step.kind} step: {', '.join(unknown)} (allowed: {allowed}).")
        self.check_options(step, check)
        if self.failure_option and self.failure_option in step.options:
            check.target(step.options[self.failure_option], self.failure_option)

    def check_options(self, step: StepDef, check: StepCheck) -> None:
        """Add to ``check`` what is wrong with the kind's own options (the unknown ones and the
        failure path are checked by ``check``)."""

    def option_targets(self, options: Mapping[str, Any]) -> list[str]:
        """The keys of the steps the options may lead to (the next step aside)."""
        failure = options.get(self.failure_option) if self.failure_option else None
        return [str(failure)] if failure else []

    def run(self, run: FlowRun, flow: FlowDef, step: StepDef) -> str | Turn:
        """Do the step: the key of the step to run next ("" finishes the flow), or the turn when
        the flow stops here (it waits for the customer, hands over or ends)."""
        raise NotImplementedError

    def failed(self, run: FlowRun, step: StepDef, sorry: str, *, reason: str) -> str | Turn:
        """The step found no answer: on to its failure path, or ``sorry`` and an agent offered."""
        failure = step.options.get(self.failure_option)
        if failure:
            return str(failure)
        return run.offer_agent(sorry, reason=reason)

    @staticmethod
    def say_prompt(run: FlowRun, step: StepDef) -> None:
        """Say the step's prompt with its ``{variables}`` filled in (an empty prompt says nothing)."""
        run.say(render(step.prompt, run.variables()))


class WaitingStep(StepType):
    """A kind that says its prompt and waits for the customer's answer (ask, menu)."""

    needs_prompt = True

    def run(self, run: FlowRun, flow: FlowDef, step: StepDef) -> str | Turn:
        return run.wait_at(step)

    def prompt(self, run: FlowRun, step: StepDef, prompt: str) -> None:
        """Say ``prompt`` (rendered) with whatever the kind adds, and set what the turn expects."""
        raise NotImplementedError

    def answer(self, run: FlowRun, flow: FlowDef, step: StepDef, norm: str) -> Turn:
        """Take the customer's answer (``run.text``; ``norm`` normalised) at this step."""
        raise NotImplementedError

    @staticmethod
    def answered(run: FlowRun, flow: FlowDef, key: str) -> Turn:
        """The answer is taken: stop waiting and run on from the step ``key``."""
        run.state.step = ""
        run.state.retries = 0
        return run.run_steps(flow, key)
