"""Redacting text and JSON-like values with a policy: the configured one unless told otherwise."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cea.common.pii.detect import ambiguous_card, find_pii, is_card_number
from cea.common.pii.kinds import PiiKind
from cea.common.pii.policy import DEFAULT_POLICY, GENERIC_MASK, LABELS, Mode, PiiPolicy, masked_card

PolicyProvider = Callable[[], PiiPolicy]
_provider: PolicyProvider | None = None


def set_policy_provider(provider: PolicyProvider | None) -> None:
    """Where the configured policy comes from (records sets its cached, console-edited policy in
    its ``AppConfig.ready()``; the shared kernel cannot import records). ``None``: the default."""
    global _provider
    _provider = provider


def current_policy() -> PiiPolicy:
    """The configured policy; the default one if there is no provider or it fails (no database
    or cache at hand, an async context): the default labels every kind but card numbers, which it
    masks to their first six and last four digits — nothing is ever kept in clear by a failure."""
    provider = _provider
    if provider is None:
        return DEFAULT_POLICY
    try:
        return provider()
    except Exception:  # any failure: the default, which keeps nothing in clear
        return DEFAULT_POLICY


def _replacement(kind: PiiKind, written: str, policy: PiiPolicy) -> str:
    mode = policy.mode(kind)
    if mode is Mode.KEEP:
        return written
    if mode is Mode.GENERIC:
        return GENERIC_MASK
    if mode is Mode.PARTIAL and kind is PiiKind.CARD and not ambiguous_card(written):
        return masked_card("".join(char for char in written if char.isdigit()))
    return LABELS[kind]


def redact_text(text: str, *, policy: PiiPolicy | None = None) -> str:
    """``text`` with its personal data replaced per ``policy`` (``None``: the configured one).

    Card numbers (Luhn-valid) become first six + last four with the middle masked, or a label,
    never clear; card security codes always become "[CVV]".
    """
    if not text:
        return text
    findings = find_pii(text)
    if not findings:
        return text
    if policy is None:
        policy = current_policy()
    parts: list[str] = []
    position = 0
    for finding in findings:
        parts.append(text[position : finding.start])
        parts.append(_replacement(finding.kind, finding.text, policy))
        position = finding.end
    parts.append(text[position:])
    return "".join(parts)


def redact_value(value: Any, *, policy: PiiPolicy | None = None) -> Any:
    """``value`` with every string in it redacted, through dicts (values; keys kept), lists and
    tuples. An integer that is a card number becomes its masked string (never kept as a number)."""
    if policy is None:
        policy = current_policy()
    return _redact_value(value, policy)


def _redact_value(value: Any, policy: PiiPolicy) -> Any:
    if isinstance(value, str):
        return redact_text(value, policy=policy)
    if isinstance(value, dict):
        return {key: _redact_value(item, policy) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact_value(item, policy) for item in value]
    if isinstance(value, tuple):
        return tuple(_redact_value(item, policy) for item in value)
    if isinstance(value, int) and not isinstance(value, bool) and is_card_number(str(abs(value))):
        return _replacement(PiiKind.CARD, str(abs(value)), policy)
    return value
