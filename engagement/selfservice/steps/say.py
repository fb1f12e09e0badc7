"""Say: say the prompt, then go on to the next step."""

from __future__ import annotations

from engagement.selfservice.definition import FlowDef, StepDef
from engagement.selfservice.models import StepKind
from engagement.selfservice.session import Turn
from engagement.selfservice.steps.base import FlowRun, StepType


class Say(StepType):
    kind = StepKind.SAY
    needs_prompt = True

    def run(self, run: FlowRun, flow: FlowDef, step: StepDef) -> str | Turn:
        self.say_prompt(run, step)
        return step.next_step
