"""The self-service engine: one customer input in, what to say and what to do out.

The engine knows flows, the session state and the words customers use; it does not touch the
database, Redis or the channels. ``engagement.selfservice.services`` loads the flows and the
state from the conversation's context, gives the engine a look-up and a knowledge function,
then writes the replies, the new state and any hand-over or ending. So the same flow runs on
web chat (``Mode.TEXT``: menus listed as text, answered by key or label) and on the voice IVR
(``Mode.VOICE``: menus spoken, answered by DTMF digits or speech text).

At any time: "agent", "human", "operator" or 0 hands over; "menu" or * goes back to the main
menu; "bye" ends (solved without an agent, so contained).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from engagement.selfservice.definition import (
    DEFAULT_RETRIES,
    MAX_ANSWER_CHARS,
    PATTERN_TIMEOUT_SECONDS,
    FlowDef,
    StepDef,
    pattern_fullmatch,
)
from engagement.selfservice.models import StepKind
from integration.lookups import LookupFailed

logger = logging.getLogger(__name__)

MAX_STEPS_PER_TURN = 30


class Mode(StrEnum):
    TEXT = "text"
    VOICE = "voice"


class Action(StrEnum):
    NONE = ""
    HANDOVER = "handover"
    END = "end"


class Outcome(StrEnum):
    SOLVED = "solved"
    HANDED_OVER = "handed_over"
    ENDED_BY_CUSTOMER = "ended_by_customer"


# --- What the assistant says -----------------------------------------------------------------

GREETING = "Hello, I'm the virtual assistant."
MAIN_MENU_TEXT = "How can I help? Reply with a number or a name:"
MAIN_MENU_TEXT_FREE = "You can also just type your question."
MAIN_MENU_VOICE_FREE = "Or say what you need."
NO_MENU_TEXT = "How can I help? Type your question, or 'agent' to talk to a person."
NO_MENU_VOICE = "How can I help? Say what you need, or press 0 to speak to an agent."
AGENT_CHOICE_TEXT = "0. Talk to an agent"
AGENT_CHOICE_VOICE = "To speak to an agent, press 0."
MENU_HINT_TEXT = "Reply with a number or a name, or 'agent' to talk to a person."
NOT_AN_OPTION = "Sorry, that is not one of the options."
DEFAULT_ASK_ERROR = "Sorry, I could not take that answer."
NO_INPUT = "Sorry, I did not get that."
HANDOVER_SAY = "I'm passing you to an agent, who will see everything you have told me."
RETRY_HANDOVER = "Let me pass you to an agent, who will see everything you have told me."
LOOKUP_SORRY = "Sorry, I can't check that for you right now."
NO_ANSWER = "Sorry, I couldn't find an answer to that."
OFFER_AGENT_TEXT = "Would you like to talk to an agent? Reply yes or no."
OFFER_AGENT_VOICE = "To speak to an agent, press 1 or say yes. To go back to the main menu, press 2 or say no."
ANYTHING_ELSE_TEXT = "Is there anything else? Type 'menu' for the options, 'agent' for a person, or 'bye' to finish."
ANYTHING_ELSE_VOICE = "To hear the menu again, press star. To speak to an agent, press 0."
GOODBYE = "Thank you for contacting us. Goodbye!"
START_AGAIN = "Sorry, that service has changed. Let's start again."
CIRCLES = "Sorry, something went wrong on my side."

# --- The words customers use ------------------------------------------------------------------

AGENT_WORDS = re.compile(
    r"\b(agents?|human|humans|operator|representative|real person|speak to someone|talk to someone)\b"
)
YES = {"yes", "y", "yeah", "yep", "yes please", "ok", "okay", "sure", "please"}
NO = {"no", "n", "nope", "no thanks", "no thank you"}
GOODBYES = {"bye", "goodbye", "bye bye", "thanks bye", "end", "quit", "exit", "done", "thats all", "nothing else"}
MENU_WORDS = {"menu", "main menu", "*", "star", "start over", "back", "restart"}
GREETINGS = {"hi", "hello", "hey", "hiya", "help", "start", "good morning", "good afternoon", "good evening"}
NUMBER_WORDS = {
    "zero": "0",
    "oh": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "star": "*",
    "hash": "#",
    "pound": "#",
}
PRESS = re.compile(r"^(press|option|number|choice)\s+")
TEMPLATE_VARIABLE = re.compile(r"\{([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*)\}")


def normalise(text: str) -> str:
    """Lower case, apostrophes dropped, other punctuation as spaces, single spaces."""
    text = text.lower().replace("'", "").replace("’", "")
    text = re.sub(r"[^\w\s#*]", " ", text)
    return " ".join(text.split())


def as_keypress(norm: str) -> str:
    """``"press one"``, ``"one"`` or ``"1"`` → ``"1"``; spoken digit strings become digits."""
    norm = PRESS.sub("", norm)
    words = norm.split()
    if words and all(word in NUMBER_WORDS for word in words):
        return "".join(NUMBER_WORDS[word] for word in words)
    return norm.replace(" ", "") if re.fullmatch(r"[0-9 ]+", norm) else norm


def wants_agent(norm: str) -> bool:
    return as_keypress(norm) == "0" or bool(AGENT_WORDS.search(norm))


def match_choice(norm: str, choices: list[tuple[str, str]]) -> str | None:
    """The key of the choice ``norm`` picks: by key (digits, spoken digits) or by label."""
    pressed = as_keypress(norm)
    for key, _ in choices:
        if pressed == key.lower():
            return key
    for key, label in choices:
        if norm == normalise(label):
            return key
    # "I'd like the opening hours please" picks "Opening hours" when no other label is in it.
    within = [key for key, label in choices if normalise(label) and f" {normalise(label)} " in f" {norm} "]
    return within[0] if len(within) == 1 else None


def render(template: str, variables: Mapping[str, Any]) -> str:
    """Fill ``{name}`` and ``{name.field}`` from ``variables``; unknown names become empty."""

    def value_of(match: re.Match) -> str:
        value = lookup_path(variables, match.group(1))
        if value is None:
            return ""
        if isinstance(value, list):
            return ", ".join(str(item) for item in value)
        return str(value)

    # An empty variable must not leave a double space behind.
    return re.sub(r"[ \t]{2,}", " ", TEMPLATE_VARIABLE.sub(value_of, template)).strip()


def lookup_path(variables: Mapping[str, Any], path: str) -> Any:
    value: Any = variables
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def compact(value: Any, depth: int = 0) -> Any:
    """A look-up's answer cut down to what fits the context: short strings, short lists, shallow."""
    if isinstance(value, str):
        return value[:MAX_ANSWER_CHARS]
    if isinstance(value, bool | int | float) or value is None:
        return value if not (isinstance(value, float) and not math.isfinite(value)) else None
    if depth >= 3:
        return str(value)[:MAX_ANSWER_CHARS]
    if isinstance(value, Mapping):
        return {str(k)[:60]: compact(v, depth + 1) for k, v in list(value.items())[:20]}
    if isinstance(value, list | tuple):
        return [compact(v, depth + 1) for v in list(value)[:5]]
    return str(value)[:MAX_ANSWER_CHARS]


# --- State --------------------------------------------------------------------------------------


@dataclass
class SessionState:
    """Where a conversation is in self-service; kept in its context under ``selfservice``."""

    flow: str = ""  # the intent of the running flow
    step: str = ""  # the ask or menu step waiting for an answer
    retries: int = 0  # refused answers (or no input) at the current step or main menu
    greeted: bool = False
    offer: str = ""  # why an agent was offered, while the yes/no answer is awaited
    outcome: str = ""
    last_message: int = 0  # the last customer message handled (a message is handled once)

    @classmethod
    def from_json(cls, value: Any) -> SessionState:
        if not isinstance(value, Mapping):
            return cls()
        state = cls()
        for name, default in asdict(cls()).items():
            item = value.get(name, default)
            if isinstance(item, type(default)) and not (isinstance(item, bool) and not isinstance(default, bool)):
                setattr(state, name, item)
        return state

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Knowledge:
    """An answer from the knowledge base."""

    id: int
    title: str
    body: str


@dataclass
class Turn:
    """What one input produced."""

    replies: list[str] = field(default_factory=list)
    action: Action = Action.NONE
    reason: str = ""
    queue: str = ""
    # What input is awaited next: {"kind": "menu"|"ask"|"yes_no"|"free", "choices": [...]}; None when done.
    expect: dict[str, Any] | None = None
    step: str = ""


LookupFunction = Callable[[str, dict[str, Any]], dict]
KnowledgeFunction = Callable[[str], Knowledge | None]


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
            return self._handover(reason="The customer asked for an agent.", say=HANDOVER_SAY)
        if self.state.offer:
            why, self.state.offer = self.state.offer, ""
            # On the phone the offer is also answered by key (1 yes, 2 no); in text, by word.
            pressed = as_keypress(norm) if self.mode == Mode.VOICE else ""
            if norm in YES or pressed == "1":
                return self._handover(reason=f"The customer accepted an agent. {why}", say=HANDOVER_SAY)
            self._leave_flow()
            if norm in NO or pressed == "2":
                self._main_menu()
                return self.turn
        if norm in MENU_WORDS or as_keypress(norm) == "*":
            self._leave_flow()
            self._main_menu()
            return self.turn
        if self.state.flow and self.state.step:
            return self._answer(norm)
        if self.state.flow:  # finished or offered an agent: the customer has moved on
            self._leave_flow()
        return self._idle(norm)

    def no_input(self) -> Turn:
        """Nothing was said or pressed (an IVR time-out, an empty message)."""
        if not self.state.greeted:
            return self.start()
        flow, step = self._current()
        if flow and step:
            return self._retry(flow, step, NO_INPUT)
        self.state.retries += 1
        if self.state.retries > DEFAULT_RETRIES:
            return self._handover(reason="No usable input at the main menu.", say=RETRY_HANDOVER)
        self._say(NO_INPUT)
        self._main_menu()
        return self.turn

    # --- Without a flow -----------------------------------------------------------------------

    def _idle(self, norm: str) -> Turn:
        if norm in GOODBYES or norm in {"no thanks", "no thank you"}:
            self._say(GOODBYE)
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
                return self._handover(reason="No valid choice at the main menu.", say=RETRY_HANDOVER)
            self._say(NOT_AN_OPTION)
            self._main_menu()
            return self.turn
        # A question in the customer's own words: the knowledge base.
        self.state.retries = 0
        self.state.greeted = True
        self.answers["question"] = self.text[:MAX_ANSWER_CHARS]
        article = self.knowledge(self.text)
        if article is None:
            return self._offer_agent(NO_ANSWER, reason=f"No knowledge article answered {self.text[:100]!r}.")
        self.answers["knowledge_article"] = article.title[:MAX_ANSWER_CHARS]
        self._say(article.body)
        self._say(ANYTHING_ELSE_VOICE if self.mode == Mode.VOICE else ANYTHING_ELSE_TEXT)
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
            self._say(GREETING)
        if not self.menu_flows:
            self._say(NO_MENU_VOICE if self.mode == Mode.VOICE else NO_MENU_TEXT)
        elif self.mode == Mode.VOICE:
            spoken = " ".join(f"For {f.name}, press {f.menu_key}." for f in self.menu_flows)
            self._say(f"{spoken} {AGENT_CHOICE_VOICE} {MAIN_MENU_VOICE_FREE}")
        else:
            listed = "\n".join(f"{f.menu_key}. {f.name}" for f in self.menu_flows)
            self._say(f"{MAIN_MENU_TEXT}\n{listed}\n{AGENT_CHOICE_TEXT}\n{MAIN_MENU_TEXT_FREE}")
        self.turn.expect = {"kind": "menu", "choices": self._main_menu_keys()}

    # --- Inside a flow ------------------------------------------------------------------------

    def _current(self) -> tuple[FlowDef | None, StepDef | None]:
        flow = self.flows.get(self.state.flow)
        return flow, (flow.steps.get(self.state.step) if flow else None)

    def _leave_flow(self) -> None:
        self.state.flow = ""
        self.state.step = ""
        self.state.retries = 0

    def _start_flow(self, flow: FlowDef) -> Turn:
        self._leave_flow()
        self.state.flow = flow.intent
        self.state.greeted = True
        self.state.outcome = ""
        self.intent = flow.intent
        return self._run(flow, flow.first)

    def _answer(self, norm: str) -> Turn:
        flow, step = self._current()
        if flow is None or step is None or step.kind not in (StepKind.ASK, StepKind.MENU):
            # The flow was switched off or edited while the customer was in it.
            self._leave_flow()
            self._say(START_AGAIN)
            self._main_menu()
            return self.turn
        if step.kind == StepKind.ASK:
            value = self._validated(flow, step)
            if value is None:
                return self._retry(flow, step, str(step.options.get("error") or DEFAULT_ASK_ERROR))
            self.answers[str(step.options["variable"])] = value
            self.state.step = ""
            self.state.retries = 0
            return self._run(flow, step.next_step)
        choices = [c for c in step.options.get("choices", []) if isinstance(c, Mapping)]
        key = match_choice(norm, [(str(c["key"]), str(c["label"])) for c in choices])
        if key is None:
            return self._retry(flow, step, NOT_AN_OPTION)
        choice = next(c for c in choices if str(c["key"]) == key)
        self.answers[str(step.options.get("variable") or step.key.replace("-", "_"))] = str(choice["label"])
        self.state.step = ""
        self.state.retries = 0
        return self._run(flow, str(choice["next"]))

    def _validated(self, flow: FlowDef, step: StepDef) -> str | None:
        """The answer as the step's pattern accepts it, or ``None`` (refused).

        Each try at the pattern is time-bounded: a pattern that cannot tell in time refuses the
        answer (the customer is asked again, then handed over) and is logged for the supervisor.
        """
        value = self.text[:MAX_ANSWER_CHARS]
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

    def _retry(self, flow: FlowDef, step: StepDef, error: str) -> Turn:
        self.state.retries += 1
        allowed = step.options.get("retries", DEFAULT_RETRIES)
        if self.state.retries > allowed:
            return self._handover(
                reason=f"No valid answer at {flow.name} / {step.key} after {self.state.retries} tries.",
                say=RETRY_HANDOVER,
                queue=flow.queue,
            )
        self._say(error)
        self._prompt(step)
        return self.turn

    def _prompt(self, step: StepDef) -> None:
        """Say an ask or menu step's prompt and wait at it."""
        self.state.step = step.key
        self.turn.step = step.key
        prompt = render(step.prompt, self.variables())
        if step.kind == StepKind.ASK:
            self._say(prompt)
            self.turn.expect = {"kind": "ask", "choices": []}
            return
        choices = [c for c in step.options.get("choices", []) if isinstance(c, Mapping)]
        if self.mode == Mode.VOICE:
            spoken = " ".join(f"For {c['label']}, press {c['key']}." for c in choices)
            self._say(f"{prompt} {spoken} {AGENT_CHOICE_VOICE}".strip())
        else:
            listed = "\n".join(f"{c['key']}. {c['label']}" for c in choices)
            self._say(f"{prompt}\n{listed}\n{MENU_HINT_TEXT}".strip())
        self.turn.expect = {"kind": "menu", "choices": [str(c["key"]) for c in choices] + ["0"]}

    def _run(self, flow: FlowDef, key: str) -> Turn:
        """Run steps from ``key`` until one waits for the customer or the flow finishes."""
        for _ in range(MAX_STEPS_PER_TURN):
            if not key:
                return self._flow_done()
            step = flow.steps.get(key)
            if step is None:
                return self._handover(reason=f"The flow {flow.name} has no step {key!r}.", say=RETRY_HANDOVER)
            self.turn.step = step.key
            options = step.options
            if step.kind == StepKind.SAY:
                self._say(render(step.prompt, self.variables()))
                key = step.next_step
            elif step.kind in (StepKind.ASK, StepKind.MENU):
                self._prompt(step)
                return self.turn
            elif step.kind == StepKind.LOOKUP:
                name = str(options.get("lookup", ""))
                result_variable = str(options.get("result") or name)
                inputs = {
                    str(input_name): lookup_path(self.variables(), str(variable))
                    for input_name, variable in (options.get("inputs") or {}).items()
                }
                try:
                    result = self.lookup(name, inputs)
                except LookupFailed as exc:
                    self.answers[result_variable] = {"failed": exc.reason[:MAX_ANSWER_CHARS]}
                    if options.get("on_failure"):
                        key = str(options["on_failure"])
                        continue
                    return self._offer_agent(
                        LOOKUP_SORRY, reason=f"The {name} look-up in {flow.name} failed: {exc.reason}."
                    )
                self.answers[result_variable] = compact(result)
                if step.prompt:
                    self._say(render(step.prompt, self.variables()))
                key = step.next_step
            elif step.kind == StepKind.KNOWLEDGE:
                query = render(str(options["query"]), self.variables()) if options.get("query") else self.text
                article = self.knowledge(query) if query else None
                if article is None:
                    if options.get("on_no_match"):
                        key = str(options["on_no_match"])
                        continue
                    return self._offer_agent(NO_ANSWER, reason=f"No knowledge article answered {query[:100]!r}.")
                self.answers["knowledge_article"] = article.title[:MAX_ANSWER_CHARS]
                if step.prompt:
                    self._say(render(step.prompt, self.variables()))
                self._say(article.body)
                key = step.next_step
            elif step.kind == StepKind.BRANCH:
                value = lookup_path(self.variables(), str(options.get("variable", "")))
                cases = {normalise(str(case)): str(target) for case, target in (options.get("cases") or {}).items()}
                if step.prompt:
                    self._say(render(step.prompt, self.variables()))
                key = cases.get(normalise(str(value)) if value is not None else "") or str(
                    options.get("default") or step.next_step
                )
            elif step.kind == StepKind.HANDOVER:
                return self._handover(
                    reason=str(options.get("reason") or f"Hand-over from {flow.name} at {step.key}."),
                    say=render(step.prompt, self.variables()) or HANDOVER_SAY,
                    queue=str(options.get("queue") or flow.queue),
                )
            elif step.kind == StepKind.END:
                if step.prompt:
                    self._say(render(step.prompt, self.variables()))
                self._leave_flow()
                self.state.outcome = Outcome.SOLVED
                if options.get("close", True):
                    self.turn.action = Action.END
                    self.turn.reason = f"Solved in self-service: {flow.name}."
                    return self.turn
                self._say(ANYTHING_ELSE_VOICE if self.mode == Mode.VOICE else ANYTHING_ELSE_TEXT)
                self.turn.expect = {"kind": "free", "choices": self._main_menu_keys()}
                return self.turn
            else:
                return self._handover(reason=f"Unknown step kind {step.kind!r}.", say=RETRY_HANDOVER)
        return self._handover(reason=f"The flow {flow.name} went round in circles.", say=CIRCLES + " " + RETRY_HANDOVER)

    def _flow_done(self) -> Turn:
        self._leave_flow()
        self._say(ANYTHING_ELSE_VOICE if self.mode == Mode.VOICE else ANYTHING_ELSE_TEXT)
        self.turn.expect = {"kind": "free", "choices": self._main_menu_keys()}
        return self.turn

    # --- Endings --------------------------------------------------------------------------

    def _offer_agent(self, sorry: str, *, reason: str) -> Turn:
        # The flow stays named (its queue takes the hand-over if the customer says yes).
        self.state.step = ""
        self.state.retries = 0
        self.state.offer = reason[:300]
        self._say(f"{sorry} {OFFER_AGENT_VOICE if self.mode == Mode.VOICE else OFFER_AGENT_TEXT}")
        self.turn.expect = {"kind": "yes_no", "choices": ["1", "2"] if self.mode == Mode.VOICE else []}
        return self.turn

    def _handover(self, *, reason: str, say: str, queue: str = "") -> Turn:
        flow = self.flows.get(self.state.flow)
        self._say(say)
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

    def _say(self, text: str) -> None:
        if text.strip():
            self.turn.replies.append(text.strip())
