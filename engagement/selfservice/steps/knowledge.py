"""Knowledge: answer from the knowledge base.

``{"query": "opening hours", "on_no_match": "step-key"}``: the query may hold ``{variables}``;
without one, the customer's own words are searched. Without ``on_no_match``, no answer offers
an agent.
"""

from __future__ import annotations

from engagement.selfservice.definition import MAX_ANSWER_CHARS, FlowDef, StepDef
from engagement.selfservice.models import StepKind
from engagement.selfservice.session import Turn
from engagement.selfservice.steps.base import FlowRun, StepCheck, StepType
from engagement.selfservice.words import NO_ANSWER, render


class Knowledge(StepType):
    kind = StepKind.KNOWLEDGE
    allowed_options = frozenset({"query", "on_no_match"})
    failure_option = "on_no_match"

    def check_options(self, step: StepDef, check: StepCheck) -> None:
        query = step.options.get("query")
        if "query" in step.options and (not isinstance(query, str) or not query.strip()):
            check.add("query is the question to search for (text, {variables} allowed).")

    def run(self, run: FlowRun, flow: FlowDef, step: StepDef) -> str | Turn:
        options = step.options
        query = render(str(options["query"]), run.variables()) if options.get("query") else run.text
        article = run.knowledge(query) if query else None
        if article is None:
            return self.failed(run, step, NO_ANSWER, reason=f"No knowledge article answered {query[:100]!r}.")
        run.answers["knowledge_article"] = article.title[:MAX_ANSWER_CHARS]
        self.say_prompt(run, step)
        run.say(article.body)
        return step.next_step
