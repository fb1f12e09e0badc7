"""Hand-over: pass the conversation to an agent, who sees everything the customer said.

``{"queue": "billing", "reason": "Balance for a customer not verified."}``: both optional (the
flow's queue; a reason naming the flow and the step).
"""

from __future__ import annotations

from engagement.selfservice.definition import FlowDef, StepDef
from engagement.selfservice.models import StepKind
from engagement.selfservice.session import Turn
from engagement.selfservice.steps.base import FlowRun, StepCheck, StepType
from engagement.selfservice.words import HANDOVER_SAY, render


class Handover(StepType):
    kind = StepKind.HANDOVER
    allowed_options = frozenset({"queue", "reason"})
    finishes_flow = True

    def check_options(self, step: StepDef, check: StepCheck) -> None:
        for name in ("queue", "reason"):
            if name in step.options and not isinstance(step.options[name], str):
                check.add(f"{name} is text.")

    def run(self, run: FlowRun, flow: FlowDef, step: StepDef) -> str | Turn:
        options = step.options
        return run.handover(
            reason=str(options.get("reason") or f"Hand-over from {flow.name} at {step.key}."),
            say=render(step.prompt, run.variables()) or HANDOVER_SAY,
            queue=str(options.get("queue") or flow.queue),
        )
