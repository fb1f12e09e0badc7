"""The variables of canned responses: ``{{customer.first_name}}`` and friends, checked and filled.

Only the names listed here (and ``context.<key>``) exist; a template naming anything else is
refused when it is saved, so an agent never inserts a half-filled text by surprise. Filling is
plain substitution — no expressions, filters or HTML — so a template cannot reach anything but
these values. A variable without a value where it is used (a conversation without a customer,
a context key not set) stays in the text as written and is reported as ``missing``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy

from engagement.context.services import KEY_PATTERN

if TYPE_CHECKING:  # a dev requirement: for the type checker only
    from django_stubs_ext import StrOrPromise

VARIABLE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")

# name → (what it is, how to read it from the fill's objects)
FIELDS: dict[str, tuple[StrOrPromise, Callable[[Any], Any]]] = {
    "customer.first_name": (gettext_lazy("The customer's given name"), lambda f: f.customer and f.customer.given_name),
    "customer.last_name": (gettext_lazy("The customer's family name"), lambda f: f.customer and f.customer.family_name),
    "customer.full_name": (gettext_lazy("The customer's full name"), lambda f: f.customer and str(f.customer)),
    "customer.email": (gettext_lazy("The customer's email address"), lambda f: f.customer and f.customer.email),
    "agent.first_name": (gettext_lazy("Your first name"), lambda f: f.agent and f.agent.first_name),
    "agent.last_name": (gettext_lazy("Your last name"), lambda f: f.agent and f.agent.last_name),
    "agent.full_name": (gettext_lazy("Your full name"), lambda f: f.agent and f.agent.get_full_name()),
    "conversation.id": (gettext_lazy("The conversation's number"), lambda f: f.conversation and f.conversation.pk),
    "conversation.channel": (
        gettext_lazy("The conversation's channel"),
        lambda f: f.conversation and f.conversation.get_channel_display(),
    ),
    "conversation.subject": (
        gettext_lazy("The conversation's subject"),
        lambda f: f.conversation and f.conversation.subject,
    ),
    "conversation.queue": (gettext_lazy("The conversation's queue"), lambda f: f.conversation and f.conversation.queue),
}
CONTEXT_PREFIX = "context."
CONTEXT_HELP = gettext_lazy("A key of the conversation's live context (else the customer's), e.g. {{context.order_id}}")


def variables_in(text: str) -> list[str]:
    """The variable names ``text`` uses, in order of first use."""
    names: list[str] = []
    for match in VARIABLE.finditer(text or ""):
        if match.group(1) not in names:
            names.append(match.group(1))
    return names


def unknown_variables(text: str) -> list[str]:
    """The names in ``text`` that are not variables (``[]`` when every one is known)."""
    return [name for name in variables_in(text) if not _known(name)]


def _known(name: str) -> bool:
    if name in FIELDS:
        return True
    return name.startswith(CONTEXT_PREFIX) and bool(KEY_PATTERN.match(name.removeprefix(CONTEXT_PREFIX)))


@dataclass
class Fill:
    """What the variables are read from; any part may be missing."""

    agent: Any = None
    customer: Any = None
    conversation: Any = None
    context: Mapping[str, Any] = field(default_factory=dict)

    def value(self, name: str) -> str | None:
        if name.startswith(CONTEXT_PREFIX):
            value = self.context.get(name.removeprefix(CONTEXT_PREFIX))
        elif name in FIELDS:
            value = FIELDS[name][1](self)
        else:
            return None
        if value is None or value == "":
            return None
        return value if isinstance(value, str) else json.dumps(value) if isinstance(value, dict | list) else str(value)


@dataclass(frozen=True)
class Filled:
    text: str
    missing: list[str]


def fill(text: str, values: Fill) -> Filled:
    """``text`` with each known variable replaced by its value; those without one are left as written."""
    missing: list[str] = []

    def replace(match: re.Match) -> str:
        value = values.value(match.group(1))
        if value is None:
            if match.group(1) not in missing:
                missing.append(match.group(1))
            return match.group(0)
        return value

    return Filled(text=VARIABLE.sub(replace, text or ""), missing=missing)


def variable_help() -> list[tuple[str, StrOrPromise]]:
    """(``{{name}}``, what it is) for every variable, for the console's and the desk's help."""
    return [("{{" + name + "}}", label) for name, (label, _) in FIELDS.items()] + [("{{context.<key>}}", CONTEXT_HELP)]
