"""The self-service engine: one customer input in, what to say and what to do out.

The engine knows flows, the session state and the words customers use (``words.py``); what each
kind of step does is in its module under ``steps/``, looked up by the step's kind. It does not
touch the database, Redis or the channels. ``engagement.selfservice.services`` loads the flows
and the state from the conversation's context, gives the engine a look-up and a knowledge
function, then writes the replies, the new state and any hand-over or ending. So the same flow
runs on web chat (``Mode.TEXT``: menus listed as text, answered by key or label) and on the
voice IVR (``Mode.VOICE``: menus spoken, answered by DTMF digits or speech text).

At any time: "agent", "human", "operator" or 0 hands over; "menu" or * goes back to the main
menu; "bye" ends (solved without an agent, so contained).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, cast

from engagement.selfservice.definition import DEFAULT_RETRIES, MAX_ANSWER_CHARS, FlowDef, StepDef
from engagement.selfservice.models import StepKind
from engagement.selfservice.session import (
    Action,
    KnowledgeFunction,
    LookupFunction,
    Mode,
    Outcome,
    SessionState,
    Turn,
)
from engagement.selfservice.steps import STEP_KINDS, WaitingStep
from engagement.selfservice.words import (
    AGENT_CHOICE_TEXT,
    AGENT_CHOICE_VOICE,
    ANYTHING_ELSE_TEXT,
    ANYTHING_ELSE_VOICE,
    CIRCLES,
    GOODBYE,
    GOODBYES,
    GREETING,
    GREETINGS,
    HANDOVER_SAY,
    MAIN_MENU_TEXT,
    MAIN_MENU_TEXT_FREE,
    MAIN_MENU_VOICE_FREE,
    MENU_WORDS,
    NO,
    NO_ANSWER,
    NO_INPUT,
    NO_MENU_TEXT,
    NO_MENU_VOICE,
    NOT_AN_OPTION,
    OFFER_AGENT_TEXT,
    OFFER_AGENT_VOICE,
    RETRY_HANDOVER,
    START_AGAIN,
    YES,
    as_keypress,
    match_choice,
    normalise,
    render,
    wants_agent,
)

MAX_STEPS_PER_TURN = 30


class Engine:
    """Runs one turn. Mutates ``state`` and ``answers``; read them back after the turn."""

    def __init__(
        self,
        *,
        flows: list[FlowDef],
        state: SessionState,
        answers: dict[str, Any],
        intent: str,
        mode: Mode,
        facts: Mapping[str, Any],
        lookup: LookupFunction,
        knowledge: KnowledgeFunction,
    ) -> None:
        self.flows = {flow.intent: flow for flow in flows}
        self.menu_flows = sorted((f for f in flows if f.menu_key), key=lambda f: (f.menu_key.zfill(2), f.name))
        self.state = state
        self.answers = answers
        self.intent = intent
        self.mode = mode
        self.facts = facts
        self.lookup = lookup
        self.knowledge = knowledge
        self.turn = Turn()
        self.text = ""

    # --- Entry points -------------------------------------------------------------------------

    def start(self) -> Turn:
        """The conversation opened (or the call connected): greet and offer the main menu."""
        if self.state.greeted:
            return self.no_input()
        self._main_menu(greet=True)
        return self.turn

    def handle(self, text: str) -> Turn:
        """One input: a chat message, DTMF digits or recognised speech."""
        self.text = text.strip()[:1000]
        norm = normalise(self.text)
        if not norm:
            return self.no_input()
        if wants_agent(norm):
            return self.handover(reason="The customer asked for an agent.", say=HANDOVER_SAY)
        if self.state.offer:
            why, self.state.offer = self.state.offer, ""
            # On the phone the offer is also answered by key (1 yes, 2 no); in text, by word.
            pressed = as_keypress(norm) if self.mode == Mode.VOICE else ""
            if norm in YES or pressed == "1":
                return self.handover(reason=f"The customer accepted an agent. {why}", say=HANDOVER_SAY)
            self.leave_flow()
            if norm in NO or pressed == "2":
                self._main_menu()
                return self.turn
        if norm in MENU_WORDS or as_keypress(norm) == "*":
            self.leave_flow()
            self._main_menu()
            return self.turn
        if self.state.flow and self.state.step:
            return self._answer(norm)
        if self.state.flow:  # finished or offered an agent: the customer has moved on
            self.leave_flow()
        return self._idle(norm)

    def no_input(self) -> Turn:
        """Nothing was said or pressed (an IVR time-out, an empty message)."""
        if not self.state.greeted:
            return self.start()
        flow, step = self._current()
        if flow and step:
            return self.retry(flow, step, NO_INPUT)
        self.state.retries += 1
        if self.state.retries > DEFAULT_RETRIES:
            return self.handover(reason="No usable input at the main menu.", say=RETRY_HANDOVER)
        self.say(NO_INPUT)
        self._main_menu()
        return self.turn

    # --- Without a flow -----------------------------------------------------------------------

    def _idle(self, norm: str) -> Turn:
        if norm in GOODBYES or norm in {"no thanks", "no thank you"}:
            self.say(GOODBYE)
            self.state.outcome = Outcome.ENDED_BY_CUSTOMER
            self.turn.action = Action.END
            self.turn.reason = "The customer ended the conversation."
            return self.turn
        key = match_choice(norm, [(f.menu_key, f.name) for f in self.menu_flows])
        if key is not None:
            return self._start_flow(next(f for f in self.menu_flows if f.menu_key == key))
        triggered = self._triggered(norm)
        if triggered is not None:
            return self._start_flow(triggered)
        if norm in GREETINGS:
            self._main_menu(greet=not self.state.greeted)
            return self.turn
        if re.fullmatch(r"[0-9#* ]+", as_keypress(norm)) or (self.mode == Mode.VOICE and len(norm) < 3):
            self.state.retries += 1
            if self.state.retries > DEFAULT_RETRIES:
                return self.handover(reason="No valid choice at the main menu.", say=RETRY_HANDOVER)
            self.say(NOT_AN_OPTION)
            self._main_menu()
            return self.turn
        # A question in the customer's own words: the knowledge base.
        self.state.retries = 0
        self.state.greeted = True
        self.answers["question"] = self.text[:MAX_ANSWER_CHARS]
        article = self.knowledge(self.text)
        if article is None:
            return self.offer_agent(NO_ANSWER, reason=f"No knowledge article answered {self.text[:100]!r}.")
        self.answers["knowledge_article"] = article.title[:MAX_ANSWER_CHARS]
        self.say(article.body)
        self.say(ANYTHING_ELSE_VOICE if self.mode == Mode.VOICE else ANYTHING_ELSE_TEXT)
        self.turn.expect = {"kind": "free", "choices": self._main_menu_keys()}
        return self.turn

    def _triggered(self, norm: str) -> FlowDef | None:
        best: tuple[int, FlowDef] | None = None
        for flow in self.flows.values():
            for phrase in flow.trigger_phrases:
                phrase_norm = normalise(phrase)
                if phrase_norm and f" {phrase_norm} " in f" {norm} " and (best is None or len(phrase_norm) > best[0]):
                    best = (len(phrase_norm), flow)
        return best[1] if best else None

    def _main_menu_keys(self) -> list[str]:
        return [f.menu_key for f in self.menu_flows] + ["0"]

    def _main_menu(self, *, greet: bool = False) -> None:
        self.state.greeted = True
        self.state.step = ""
        if greet:
            self.say(GREETING)
        if not self.menu_flows:
            self.say(NO_MENU_VOICE if self.mode == Mode.VOICE else NO_MENU_TEXT)
        elif self.mode == Mode.VOICE:
            spoken = " ".join(f"For {f.name}, press {f.menu_key}." for f in self.menu_flows)
            self.say(f"{spoken} {AGENT_CHOICE_VOICE} {MAIN_MENU_VOICE_FREE}")
        else:
            listed = "\n".join(f"{f.menu_key}. {f.name}" for f in self.menu_flows)
            self.say(f"{MAIN_MENU_TEXT}\n{listed}\n{AGENT_CHOICE_TEXT}\n{MAIN_MENU_TEXT_FREE}")
        self.turn.expect = {"kind": "menu", "choices": self._main_menu_keys()}

    # --- Inside a flow ------------------------------------------------------------------------

    def _current(self) -> tuple[FlowDef | None, StepDef | None]:
        flow = self.flows.get(self.state.flow)
        return flow, (flow.steps.get(self.state.step) if flow else None)

    def leave_flow(self) -> None:
        self.state.flow = ""
        self.state.step = ""
        self.state.retries = 0

    def _start_flow(self, flow: FlowDef) -> Turn:
        self.leave_flow()
        self.state.flow = flow.intent
        self.state.greeted = True
        self.state.outcome = ""
        self.intent = flow.intent
        return self.run_steps(flow, flow.first)

    def _answer(self, norm: str) -> Turn:
        flow, step = self._current()
        kind = STEP_KINDS.get(step.kind) if step is not None else None
        if flow is None or step is None or not isinstance(kind, WaitingStep):
            # The flow was switched off or edited while the customer was in it.
            self.leave_flow()
            self.say(START_AGAIN)
            self._main_menu()
            return self.turn
        return kind.answer(self, flow, step, norm)

    def retry(self, flow: FlowDef, step: StepDef, error: str) -> Turn:
        self.state.retries += 1
        allowed = step.options.get("retries", DEFAULT_RETRIES)
        if self.state.retries > allowed:
            return self.handover(
                reason=f"No valid answer at {flow.name} / {step.key} after {self.state.retries} tries.",
                say=RETRY_HANDOVER,
                queue=flow.queue,
            )
        self.say(error)
        return self.wait_at(step)

    def wait_at(self, step: StepDef) -> Turn:
        """Say a waiting (ask or menu) step's prompt and wait at it."""
        self.state.step = step.key
        self.turn.step = step.key
        kind = STEP_KINDS.get(step.kind)
        # A step edited into a kind that does not wait, while a customer waited at it, is
        # prompted as a menu without choices; the customer's answer then starts again.
        waiting = kind if isinstance(kind, WaitingStep) else cast(WaitingStep, STEP_KINDS[StepKind.MENU])
        waiting.prompt(self, step, render(step.prompt, self.variables()))
        return self.turn

    def run_steps(self, flow: FlowDef, key: str) -> Turn:
        """Run steps from ``key`` until one waits for the customer or the flow finishes."""
        for _ in range(MAX_STEPS_PER_TURN):
            if not key:
                return self.flow_done()
            step = flow.steps.get(key)
            if step is None:
                return self.handover(reason=f"The flow {flow.name} has no step {key!r}.", say=RETRY_HANDOVER)
            self.turn.step = step.key
            kind = STEP_KINDS.get(step.kind)
            if kind is None:
                return self.handover(reason=f"Unknown step kind {step.kind!r}.", say=RETRY_HANDOVER)
            went_on = kind.run(self, flow, step)
            if isinstance(went_on, Turn):
                return went_on
            key = went_on
        return self.handover(reason=f"The flow {flow.name} went round in circles.", say=CIRCLES + " " + RETRY_HANDOVER)

    def flow_done(self) -> Turn:
        self.leave_flow()
        self.say(ANYTHING_ELSE_VOICE if self.mode == Mode.VOICE else ANYTHING_ELSE_TEXT)
        self.turn.expect = {"kind": "free", "choices": self._main_menu_keys()}
        return self.turn

    # --- Endings --------------------------------------------------------------------------

    def offer_agent(self, sorry: str, *, reason: str) -> Turn:
        # The flow stays named (its queue takes the hand-over if the customer says yes).
        self.state.step = ""
        self.state.retries = 0
        self.state.offer = reason[:300]
        self.say(f"{sorry} {OFFER_AGENT_VOICE if self.mode == Mode.VOICE else OFFER_AGENT_TEXT}")
        self.turn.expect = {"kind": "yes_no", "choices": ["1", "2"] if self.mode == Mode.VOICE else []}
        return self.turn

    def handover(self, *, reason: str, say: str, queue: str = "") -> Turn:
        flow = self.flows.get(self.state.flow)
        self.say(say)
        self.state.step = ""
        self.state.offer = ""
        self.state.outcome = Outcome.HANDED_OVER
        self.turn.action = Action.HANDOVER
        self.turn.reason = reason
        self.turn.queue = queue or (flow.queue if flow else "")
        self.turn.expect = None
        return self.turn

    # --- Helpers --------------------------------------------------------------------------

    def variables(self) -> dict[str, Any]:
        return {**self.answers, **self.facts, "intent": self.intent}

    def say(self, text: str) -> None:
        if text.strip():
            self.turn.replies.append(text.strip())
