"""What the self-service assistant says, and how it reads what customers say.

The engine (``engine.py``) and the step kinds (``steps/``) both speak with these texts and read
the customer's input with these functions; none of them touches the database or the channels.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from django.utils.translation import gettext_lazy

from engagement.selfservice.definition import MAX_ANSWER_CHARS

# --- What the assistant says -----------------------------------------------------------------
# Lazy: each is read in the language of the turn (the web chat's visitor's, docs/translations.md),
# when the engine says it (``say`` makes it a ``str``). Typed ``str`` for the callers.
_: Callable[[str], str] = gettext_lazy  # type: ignore[assignment]


GREETING = _("Hello, I'm the virtual assistant.")
MAIN_MENU_TEXT = _("How can I help? Reply with a number or a name:")
MAIN_MENU_TEXT_FREE = _("You can also just type your question.")
MAIN_MENU_VOICE_FREE = _("Or say what you need.")
NO_MENU_TEXT = _("How can I help? Type your question, or 'agent' to talk to a person.")
NO_MENU_VOICE = _("How can I help? Say what you need, or press 0 to speak to an agent.")
AGENT_CHOICE_TEXT = _("0. Talk to an agent")
AGENT_CHOICE_VOICE = _("To speak to an agent, press 0.")
MENU_HINT_TEXT = _("Reply with a number or a name, or 'agent' to talk to a person.")
NOT_AN_OPTION = _("Sorry, that is not one of the options.")
DEFAULT_ASK_ERROR = _("Sorry, I could not take that answer.")
NO_INPUT = _("Sorry, I did not get that.")
HANDOVER_SAY = _("I'm passing you to an agent, who will see everything you have told me.")
RETRY_HANDOVER = _("Let me pass you to an agent, who will see everything you have told me.")
LOOKUP_SORRY = _("Sorry, I can't check that for you right now.")
NO_ANSWER = _("Sorry, I couldn't find an answer to that.")
OFFER_AGENT_TEXT = _("Would you like to talk to an agent? Reply yes or no.")
OFFER_AGENT_VOICE = _("To speak to an agent, press 1 or say yes. To go back to the main menu, press 2 or say no.")
ANYTHING_ELSE_TEXT = _("Is there anything else? Type 'menu' for the options, 'agent' for a person, or 'bye' to finish.")
ANYTHING_ELSE_VOICE = _("To hear the menu again, press star. To speak to an agent, press 0.")
GOODBYE = _("Thank you for contacting us. Goodbye!")
START_AGAIN = _("Sorry, that service has changed. Let's start again.")
CIRCLES = _("Sorry, something went wrong on my side.")

# --- The words customers use ------------------------------------------------------------------

AGENT_WORDS = re.compile(
    r"\b(agents?|human|humans|operator|representative|real person|speak to someone|talk to someone"
    r"|mitarbeiter(in)?|mensch|berater(in)?|kundenberater(in)?|echte person)\b"
)
YES = {"yes", "y", "yeah", "yep", "yes please", "ok", "okay", "sure", "please", "ja", "j", "ja bitte", "gerne", "bitte"}
NO = {"no", "n", "nope", "no thanks", "no thank you", "nein", "nein danke"}
GOODBYES = {"bye", "goodbye", "bye bye", "thanks bye", "end", "quit", "exit", "done", "thats all", "nothing else"}
GOODBYES |= {"tschüss", "tschuess", "auf wiedersehen", "ende", "danke tschüss", "das wars", "nichts weiter"}
MENU_WORDS = {"menu", "main menu", "*", "star", "start over", "back", "restart", "menü", "hauptmenü", "zurück"}
GREETINGS = {"hi", "hello", "hey", "hiya", "help", "start", "good morning", "good afternoon", "good evening"}
GREETINGS |= {"hallo", "hilfe", "guten morgen", "guten tag", "guten abend", "moin", "servus"}
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

    def value_of(match: re.Match[str]) -> str:
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
