"""Card data only: the redaction for fields that legitimately hold other personal data.

``cea.common.pii.redact_text`` applies the whole configured policy (emails, phones, national
ids … masked as configured) and is what free text gets: messages, notes, transcripts, context,
journey events, webhook payloads, exports. A customer's profile and holdings *are* the record
of their email, phone and address, so masking those there would destroy the CRM; yet a card
number is never stored in clear anywhere. These helpers mask only payment card numbers
(Luhn-valid, as the policy masks them) and remove card security codes, using the engine's
``find_pii``, and leave everything else as it is.
"""

from __future__ import annotations

from typing import Any

from cea.common.pii import find_pii, redact_text

CVV_MARK = "[CVV]"
# A card number has at least 13 digits; a security code is 3-4 digits after one of these words.
# Text with fewer digits and none of them (a postcode, a house number) skips the engine: profile
# loads clean millions of fields.
_MIN_CARD_DIGITS = 13
_CODE_CUES = ("cvv", "cvc", "cv2", "csc", "cid", "security code", "verification")


def redact_cards(text: str) -> str:
    """``text`` with card numbers masked as the policy masks them and security codes removed."""
    digits = sum(char.isdigit() for char in text) if text else 0
    if digits < 3 or (digits < _MIN_CARD_DIGITS and not any(cue in text.lower() for cue in _CODE_CUES)):
        return text
    findings = sorted((finding for finding in find_pii(text) if finding.kind in ("card", "cvv")), key=lambda f: f.start)
    if not findings:
        return text
    parts: list[str] = []
    position = 0
    for finding in findings:
        if finding.start < position:  # overlapping findings: the first one covered it
            continue
        parts.append(text[position : finding.start])
        parts.append(CVV_MARK if finding.kind == "cvv" else redact_text(finding.text))
        position = finding.end
    parts.append(text[position:])
    return "".join(parts)


def redact_cards_value(value: Any) -> Any:
    """``redact_cards`` over a JSON-like value (dict, list, tuple); keys and non-text values kept."""
    if isinstance(value, str):
        return redact_cards(value)
    if isinstance(value, dict):
        return {key: redact_cards_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_cards_value(item) for item in value]
    if isinstance(value, tuple):
        return tuple(redact_cards_value(item) for item in value)
    return value
