"""SMS rules: which encoding a text needs (GSM-7 or UCS-2) and how many segments it is sent as.

A text made only of the GSM 03.38 default alphabet (and its extension table) is sent in GSM-7:
160 characters fit one SMS; a longer text is concatenated, 153 per segment (the user data
header takes 7). An extension character (``^ { } \\ [ ~ ] | €`` and form feed) takes two septets
(an escape and itself) and is never split across segments. Any other character (an emoji, ``ć``,
Cyrillic …) makes the whole text UCS-2: 70 UTF-16 code units in one SMS, 67 per segment when
concatenated; a character outside the Basic Multilingual Plane (most emoji) takes two units and
is never split either. Providers bill per segment, and carriers drop texts of too many
segments, so replies longer than ``CEA_SMS_MAX_SEGMENTS`` are refused (``sms_check``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.conf import settings

from cea.common.errors import ValidationFailed

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7 = "GSM-7"
UCS2 = "UCS-2"
# (units in a single SMS, units per segment of a concatenated one)
LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}


@dataclass(frozen=True)
class SmsShape:
    """How a text goes out: its ``encoding``, its length in ``units`` (septets for GSM-7, UTF-16
    code units for UCS-2), its ``segments``, and how many units are left in the last one."""

    encoding: str
    characters: int
    units: int
    segments: int
    remaining: int

    def as_dict(self) -> dict:
        return asdict(self)


def sms_encoding(text: str) -> str:
    """GSM-7 when every character is in the GSM 03.38 alphabet or its extension, else UCS-2."""
    return GSM7 if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text) else UCS2


def _unit_lengths(text: str, encoding: str) -> list[int]:
    if encoding == GSM7:
        return [2 if c in GSM7_EXTENSION else 1 for c in text]
    return [2 if ord(c) > 0xFFFF else 1 for c in text]


def sms_shape(text: str) -> SmsShape:
    """The encoding and segments of ``text`` (an empty text is one segment)."""
    encoding = sms_encoding(text)
    single, per_segment = LIMITS[encoding]
    lengths = _unit_lengths(text, encoding)
    units = sum(lengths)
    if units <= single:
        return SmsShape(encoding, len(text), units, 1, single - units)
    # Concatenated: fill each segment; a two-unit character that does not fit starts the next one.
    segments, used = 1, 0
    for length in lengths:
        if used + length > per_segment:
            segments, used = segments + 1, 0
        used += length
    return SmsShape(encoding, len(text), units, segments, per_segment - used)


def sms_check(text: str) -> SmsShape:
    """``text``'s shape; ``ValidationFailed`` (400, on ``body``) when it needs more segments than
    ``CEA_SMS_MAX_SEGMENTS`` allows."""
    shape = sms_shape(text)
    limit = settings.CEA_SMS_MAX_SEGMENTS
    if shape.segments > limit:
        message = (
            f"This SMS would be sent as {shape.segments} segments ({shape.encoding}, {shape.units} units); "
            f"the most allowed is {limit}. Shorten it"
            + (" or avoid characters outside the GSM alphabet (emoji, accents)." if shape.encoding == UCS2 else ".")
        )
        raise ValidationFailed(message, fields={"body": message}, code="too_many_segments")
    return shape
