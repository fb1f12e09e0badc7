"""Look-up: ask a back-end (``integration.lookups``) and remember its answer.

``{"lookup": "order_status", "inputs": {"order": "order_number"}, "result": "order",
"on_failure": "step-key"}``: without ``on_failure``, a failed look-up offers an agent.
"""

from __future__ import annotations

from collections.abc import Mapping

from engagement.selfservice.definition import MAX_ANSWER_CHARS, NAME, VARIABLE, FlowDef, StepDef
from engagement.selfservice.models import StepKind
from engagement.selfservice.session import Turn
from engagement.selfservice.steps.base import FlowRun, StepCheck, StepType
from engagement.selfservice.words import LOOKUP_SORRY, compact, lookup_path
from integration.lookups import LookupFailed


class Lookup(StepType):
    kind = StepKind.LOOKUP
    allowed_options = frozenset({"lookup", "inputs", "result", "on_failure"})
    failure_option = "on_failure"

    def check_options(self, step: StepDef, check: StepCheck) -> None:
        options = step.options
        known = ", ".join(sorted(check.known_lookups))
        name = options.get("lookup")
        if not isinstance(name, str) or not name:
            check.add(f"A look-up step names its look-up (one of: {known}).")
        elif name not in check.known_lookups:
            check.add(f"There is no look-up {name!r} (known: {known}).")
        inputs = options.get("inputs", {})
        if not isinstance(inputs, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) and VARIABLE.match(v) for k, v in inputs.items()
        ):
            check.add('inputs maps each input of the look-up to a variable: {"order": "order_number"}.')
        if "result" in options and (not isinstance(options["result"], str) or not NAME.match(options["result"])):
            check.add("result is the variable that holds the answer: lower-case letters, digits, _.")

    def run(self, run: FlowRun, flow: FlowDef, step: StepDef) -> str | Turn:
        options = step.options
        name = str(options.get("lookup", ""))
        result_variable = str(options.get("result") or name)
        variables = run.variables()
        inputs = {
            str(input_name): lookup_path(variables, str(variable))
            for input_name, variable in (options.get("inputs") or {}).items()
        }
        try:
            result = run.lookup(name, inputs)
        except LookupFailed as exc:
            run.answers[result_variable] = {"failed": exc.reason[:MAX_ANSWER_CHARS]}
            return self.failed(
                run, step, LOOKUP_SORRY, reason=f"The {name} look-up in {flow.name} failed: {exc.reason}."
            )
        run.answers[result_variable] = compact(result)
        self.say_prompt(run, step)
        return step.next_step
