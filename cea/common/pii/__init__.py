# PLACEHOLDER until R1 lands
"""Throw-away stand-in for R1's redaction engine (issue 14 contract).

It only masks Luhn-valid card numbers and removes card security codes after a cue word, so the
wiring's tests run in this worktree; the lead keeps R1's real ``cea.common.pii`` at merge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

PiiKind = Literal["card", "cvv", "iban", "national_id", "phone", "email"]


@dataclass(frozen=True)
class Finding:
    kind: PiiKind
    start: int
    end: int
    text: str


_CARD = re.compile(r"(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])")
_CVV = re.compile(r"(?i)\b(cvv2?|cvc2?|security\s+code)(\W{0,3}\s*(?:is\s*)?)(\d{3,4})\b")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        number = int(char)
        if index % 2 == 1:
            number *= 2
            if number > 9:
                number -= 9
        total += number
    return total % 10 == 0


def find_pii(text: str) -> list[Finding]:
    findings: list[Finding] = []
    for match in _CARD.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and _luhn_ok(digits):
            findings.append(Finding("card", match.start(), match.end(), match.group()))
    for match in _CVV.finditer(text):
        findings.append(Finding("cvv", match.start(3), match.end(3), match.group(3)))
    return findings


def _mask_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    if not (13 <= len(digits) <= 19 and _luhn_ok(digits)):
        return match.group()
    return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]


def redact_text(text: str, *, policy: Any = None) -> str:
    text = _CVV.sub(lambda m: m.group(1) + m.group(2) + "[CVV]", text)
    return _CARD.sub(_mask_card, text)


def redact_value(value: Any, *, policy: Any = None) -> Any:
    if isinstance(value, str):
        return redact_text(value, policy=policy)
    if isinstance(value, dict):
        return {key: redact_value(item, policy=policy) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_value(item, policy=policy) for item in value]
    if isinstance(value, tuple):
        return tuple(redact_value(item, policy=policy) for item in value)
    return value
