"""The kinds of personal data the redactor finds, and what it found."""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class PiiKind(StrEnum):
    CARD = "card"  # a payment card number (PAN), Luhn-valid
    CVV = "cvv"  # a card security code (CVV2, CVC2, CID)
    IBAN = "iban"
    NATIONAL_ID = "national_id"
    PHONE = "phone"
    EMAIL = "email"


class Finding(NamedTuple):
    """One piece of personal data in a text: ``text[start:end]``."""

    kind: PiiKind
    start: int
    end: int
    text: str


# When two findings overlap, the one of the kind listed first wins: an IBAN (mod-97 and the
# country's length) over the card-like digits inside it; a card number over everything else (never
# read as a phone number, nor left in clear because an e-mail address or an id overlaps it).
PRECEDENCE: tuple[PiiKind, ...] = (
    PiiKind.IBAN,
    PiiKind.CARD,
    PiiKind.CVV,
    PiiKind.EMAIL,
    PiiKind.NATIONAL_ID,
    PiiKind.PHONE,
)
