"""End: the flow solved the customer's need (contained in self-service).

``{"close": false}`` goes back to "anything else?" instead of ending the conversation.
"""

from __future__ import annotations

from engagement.selfservice.definition import FlowDef, StepDef
from engagement.selfservice.models import StepKind
from engagement.selfservice.session import Action, Outcome, Turn
from engagement.selfservice.steps.base import FlowRun, StepCheck, StepType


class End(StepType):
    kind = StepKind.END
    allowed_options = frozenset({"close"})
    finishes_flow = True

    def check_options(self, step: StepDef, check: StepCheck) -> None:
        if "close" in step.options and not isinstance(step.options["close"], bool):
            check.add("close is true (end the conversation) or false (back to the main menu).")

    def run(self, run: FlowRun, flow: FlowDef, step: StepDef) -> str | Turn:
        self.say_prompt(run, step)
        run.leave_flow()
        run.state.outcome = Outcome.SOLVED
        if step.options.get("close", True):
            run.turn.action = Action.END
            run.turn.reason = f"Solved in self-service: {flow.name}."
            return run.turn
        return run.flow_done()
