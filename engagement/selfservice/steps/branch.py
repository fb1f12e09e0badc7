"""Branch: go to the step listed for a remembered value.

``{"variable": "verification_level", "cases": {"verified": "tell"}, "default": "to-agent"}``:
values are compared normalised; a value not listed goes to the default, else the next step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engagement.selfservice.definition import VARIABLE, FlowDef, StepDef
from engagement.selfservice.models import StepKind
from engagement.selfservice.session import Turn
from engagement.selfservice.steps.base import FlowRun, StepCheck, StepType
from engagement.selfservice.words import lookup_path, normalise


class Branch(StepType):
    kind = StepKind.BRANCH
    allowed_options = frozenset({"variable", "cases", "default"})

    def check_options(self, step: StepDef, check: StepCheck) -> None:
        options = step.options
        variable = options.get("variable")
        if not isinstance(variable, str) or not VARIABLE.match(variable):
            check.add("A branch needs the variable it looks at (e.g. verification_level).")
        cases = options.get("cases")
        if not isinstance(cases, Mapping) or not cases:
            check.add('A branch needs cases: {"value": "step-key"}.')
        else:
            for value, target in cases.items():
                check.target(target, f"The case {value!r}")
        if "default" in options:
            check.target(options["default"], "default")
        elif not step.next_step:
            check.add("A branch needs a default (or a next step) for values not listed.")

    def option_targets(self, options: Mapping[str, Any]) -> list[str]:
        cases = options.get("cases")
        found = [str(target) for target in cases.values() if target] if isinstance(cases, Mapping) else []
        return found + ([str(options["default"])] if options.get("default") else [])

    def run(self, run: FlowRun, flow: FlowDef, step: StepDef) -> str | Turn:
        options = step.options
        value = lookup_path(run.variables(), str(options.get("variable", "")))
        cases = {normalise(str(case)): str(target) for case, target in (options.get("cases") or {}).items()}
        self.say_prompt(run, step)
        return cases.get(normalise(str(value)) if value is not None else "") or str(
            options.get("default") or step.next_step
        )
