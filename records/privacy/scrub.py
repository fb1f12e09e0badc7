"""Anonymising text and JSON: the customer's identifiers replaced wherever they were copied.

An erasure blanks the fields that are wholly personal (a name, an email) and scrubs the ones that
only quote the customer (an agent's message, a context value, a webhook payload): every identifier
known for the customer (names, email, phone in its spellings, address, postcode, identity values,
account numbers, legacy customer numbers) is replaced by ``[erased]`` wherever it appears.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import phonenumbers

ERASED = "[erased]"

# Journey and webhook payload keys whose string values describe what happened, never who to; any
# other string (and every nested object) goes with an erasure. Numbers and booleans stay (ids,
# durations, counts). records_journey_erase applies the same rule in the database.
KEPT_PAYLOAD_KEYS: tuple[str, ...] = (
    "action",
    "category",
    "channel",
    "direction",
    "disposition",
    "event",
    "from_status",
    "holding_kind",
    "intent",
    "kind",
    "outcome",
    "priority",
    "queue",
    "reference",
    "source",
    "stage",
    "status",
    "to_status",
    "transition",
    "wrap_up_code",
)

_MIN_LENGTH = 3


def _phone_spellings(phone: str) -> set[str]:
    spellings = {phone, phone.lstrip("+")}
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return spellings
    for style in (phonenumbers.PhoneNumberFormat.NATIONAL, phonenumbers.PhoneNumberFormat.INTERNATIONAL):
        written = phonenumbers.format_number(number, style)
        spellings |= {written, written.replace(" ", ""), re.sub(r"\D", "", written)}
    return spellings


@dataclass(frozen=True)
class Scrubber:
    """Replaces a customer's identifiers (whole words, any case) in text and JSON.

    ``strong`` are the identifiers that name this customer alone (email, phone, identity values,
    account and legacy customer numbers): enough to find copies in rows that have no link to the
    customer (a sync's dead letter). ``legacy_ids`` are the customer's numbers in source systems.
    """

    identifiers: tuple[str, ...]
    strong: tuple[str, ...] = ()
    legacy_ids: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        values: Iterable[str | None],
        *,
        phones: Iterable[str] = (),
        strong: Iterable[str | None] = (),
        legacy_ids: Iterable[str] = (),
    ) -> Scrubber:
        strong_found = {value.strip() for value in strong if value and len(value.strip()) >= _MIN_LENGTH}
        for phone in phones:
            if phone:
                strong_found |= {spelling for spelling in _phone_spellings(phone) if len(spelling) >= _MIN_LENGTH}
        found = strong_found | {value.strip() for value in values if value and len(value.strip()) >= _MIN_LENGTH}
        return cls(
            # Longest first, so "Jane Smith" goes before "Jane".
            identifiers=tuple(sorted(found, key=lambda value: (-len(value), value))),
            strong=tuple(sorted(strong_found)),
            legacy_ids=tuple(sorted(set(legacy_ids))),
        )

    @cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        if not self.identifiers:
            return None
        alternatives = "|".join(re.escape(value) for value in self.identifiers)
        return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)

    def text(self, value: str) -> str:
        pattern = self._pattern
        return pattern.sub(ERASED, value) if pattern and value else value

    def value(self, value: Any) -> Any:
        """``value`` with every string scrubbed, recursively (dict keys too: a key can be an email)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(key)): self.value(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(item) for item in value]
        return value


def sanitised_payload(payload: Any) -> dict[str, Any]:
    """What an erasure keeps of a journey event's payload: numbers, booleans and the kept keys' strings."""
    if not isinstance(payload, dict):
        return {}
    return {
        key: value
        for key, value in payload.items()
        if value is None
        or isinstance(value, bool | int | float)
        or (isinstance(value, str) and key in KEPT_PAYLOAD_KEYS)
    }
