# PLACEHOLDER until R1 lands
"""A stand-in for R1's redaction engine with the contract's signatures: it only masks Luhn-valid
card numbers (first six and last four kept). The lead keeps R1's module at merge."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

PiiKind = Literal["card", "cvv", "iban", "national_id", "phone", "email"]
_CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")


@dataclass(frozen=True)
class Finding:
    kind: PiiKind
    start: int
    end: int
    text: str


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def find_pii(text: str) -> list[Finding]:
    found = []
    for match in _CARD.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and _luhn(digits):
            found.append(Finding(kind="card", start=match.start(), end=match.end(), text=match.group()))
    return found


def redact_text(text: str, *, policy: Any = None) -> str:
    for finding in reversed(find_pii(text)):
        digits = re.sub(r"\D", "", finding.text)
        text = text[: finding.start] + digits[:6] + "*" * (len(digits) - 10) + digits[-4:] + text[finding.end :]
    return text


def redact_value(value: Any, *, policy: Any = None) -> Any:
    if isinstance(value, str):
        return redact_text(value, policy=policy)
    if isinstance(value, dict):
        return {key: redact_value(item, policy=policy) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_value(item, policy=policy) for item in value)
    return value
