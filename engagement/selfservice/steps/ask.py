"""Ask: say the prompt, wait for the answer, check it against the pattern and remember it.

``{"variable": "order_number", "pattern": "^[0-9]{6}$", "error": "Six digits, please.",
"retries": 2}``: only the variable is required.
"""

from __future__ import annotations

import logging
import re

from engagement.selfservice.definition import (
    MAX_ANSWER_CHARS,
    NAME,
    PATTERN_TIMEOUT_SECONDS,
    FlowDef,
    StepDef,
    pattern_fullmatch,
    pattern_problem,
)
from engagement.selfservice.models import StepKind
from engagement.selfservice.session import Turn
from engagement.selfservice.steps.base import FlowRun, StepCheck, WaitingStep
from engagement.selfservice.words import DEFAULT_ASK_ERROR, as_keypress, normalise

# The engine's log, where operators look for what a flow did.
logger = logging.getLogger("engagement.selfservice.engine")


class Ask(WaitingStep):
    kind = StepKind.ASK
    allowed_options = frozenset({"variable", "pattern", "retries", "error"})

    def check_options(self, step: StepDef, check: StepCheck) -> None:
        options = step.options
        variable = options.get("variable")
        if not isinstance(variable, str) or not NAME.match(variable):
            check.add("An ask step needs a variable: lower-case letters, digits and _.")
        if "pattern" in options:
            problem = pattern_problem(options["pattern"])
            if problem:
                check.add(problem)
        if "error" in options and not isinstance(options["error"], str):
            check.add("error is the text said when an answer is refused.")
        check.retries(options)

    def prompt(self, run: FlowRun, step: StepDef, prompt: str) -> None:
        run.say(prompt)
        run.turn.expect = {"kind": "ask", "choices": []}

    def answer(self, run: FlowRun, flow: FlowDef, step: StepDef, norm: str) -> Turn:
        value = self.validated(run, flow, step)
        if value is None:
            return run.retry(flow, step, str(step.options.get("error") or DEFAULT_ASK_ERROR))
        run.answers[str(step.options["variable"])] = value
        return self.answered(run, flow, step.next_step)

    @staticmethod
    def validated(run: FlowRun, flow: FlowDef, step: StepDef) -> str | None:
        """The answer as the step's pattern accepts it, or ``None`` (refused).

        Each try at the pattern is time-bounded: a pattern that cannot tell in time refuses the
        answer (the customer is asked again, then handed over) and is logged for the supervisor.
        """
        value = run.text[:MAX_ANSWER_CHARS]
        pattern = step.options.get("pattern")
        if not pattern:
            return value or None
        candidates = [value, re.sub(r"[\s\-]", "", value), as_keypress(normalise(value))]
        for candidate in candidates:
            if not candidate:
                continue
            matched = pattern_fullmatch(str(pattern), candidate)
            if matched is None:
                logger.warning(
                    "The pattern of step %r of flow %r could not be matched within %s s; the answer is refused.",
                    step.key,
                    flow.name,
                    PATTERN_TIMEOUT_SECONDS,
                )
                return None
            if matched:
                return candidate
        return None
