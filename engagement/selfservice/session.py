"""Where a conversation is in self-service, and what one turn of the engine produces."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Mode(StrEnum):
    """How the customer talks to the engine: chat text, or the IVR's digits and speech."""

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


STATE_KEY = "selfservice"  # the conversation's context key that holds its ``SessionState``


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


LookupFunction = Callable[[str, dict[str, Any]], dict[str, Any]]
KnowledgeFunction = Callable[[str], Knowledge | None]
