"""Matching a compliance rule's phrase against a transcript's agent turns.

Text is compared case-insensitively after whitespace is normalised (runs of spaces, tabs and line
breaks become one space) on both sides. A regex rule is a Python regular expression applied to the
normalised text, case-insensitively; it is checked when saved (``rule_errors``): it must compile and
must not match the empty string (it would match every transcript).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from insights.compliance.models import ComplianceRule, RuleKind

EXCERPT_CONTEXT = 40
AGENT_AUTHORS = ("agent",)
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    return _SPACE.sub(" ", text).strip().casefold()


def rule_errors(*, phrase: str, is_regex: bool, kind: str) -> dict[str, str]:
    """Why a rule cannot be saved, field → message (empty when it can)."""
    errors: dict[str, str] = {}
    if kind not in RuleKind.values:
        errors["kind"] = "Choose required or forbidden."
    if not normalise(phrase or ""):
        errors["phrase"] = "A phrase is needed."
        return errors
    if is_regex:
        try:
            pattern = re.compile(phrase, re.IGNORECASE)
        except re.error as error:
            errors["phrase"] = f"Not a valid regular expression: {error}."
            return errors
        if pattern.search("") is not None:
            errors["phrase"] = "This expression matches empty text, so it would match every transcript."
    return errors


@dataclass(frozen=True)
class Verdict:
    """A rule's verdict on one transcript: ``passed``, and where (``entry_index``, ``excerpt``)."""

    passed: bool
    entry_index: int | None
    excerpt: str


def _finder(rule: ComplianceRule):
    if rule.is_regex:
        pattern = re.compile(rule.phrase, re.IGNORECASE)
        return lambda text: (lambda m: (m.start(), m.end()) if m else None)(pattern.search(text))
    needle = normalise(rule.phrase)

    def find(text: str) -> tuple[int, int] | None:
        at = text.find(needle)
        return (at, at + len(needle)) if at >= 0 else None

    return find


def agent_turns(transcript: Any) -> list[tuple[int, str]]:
    """``(index in the transcript, normalised text)`` of the agent's own turns (no whispers, no events)."""
    turns = []
    for index, entry in enumerate(transcript if isinstance(transcript, list) else []):
        if not isinstance(entry, dict) or entry.get("author") not in AGENT_AUTHORS:
            continue
        if entry.get("internal") or entry.get("event"):
            continue
        turns.append((index, normalise(str(entry.get("body") or ""))))
    return turns


def evaluate(rule: ComplianceRule, turns: list[tuple[int, str]]) -> Verdict:
    """A required phrase passes when an agent turn says it (where: the first one); a forbidden phrase
    passes when none does (else where: the first one, with the words around it)."""
    find = _finder(rule)
    for index, text in turns:
        span = find(text)
        if span is None:
            continue
        start, end = span
        excerpt = text[max(0, start - EXCERPT_CONTEXT) : end + EXCERPT_CONTEXT][:300]
        if rule.kind == RuleKind.REQUIRED:
            return Verdict(passed=True, entry_index=index, excerpt="")
        return Verdict(passed=False, entry_index=index, excerpt=excerpt)
    return Verdict(passed=rule.kind == RuleKind.FORBIDDEN, entry_index=None, excerpt="")
