"""The registry of personal data: every app names the parts of a customer's data it holds.

Each part gives two functions: ``export(customer_id)`` returns what it holds on the customer as
JSON-able data (the right of access), ``erase(customer_id)`` anonymises it and returns the rows it
changed (the right to erasure). Apps register in their ``AppConfig.ready()``; the erasure and the
access export run every registered part, in registration order (records first, as the first app).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PersonalDataPart:
    name: str
    export: Callable[[int], Any]
    erase: Callable[[int], int]


_parts: dict[str, PersonalDataPart] = {}


def register_personal_data(name: str, *, export: Callable[[int], Any], erase: Callable[[int], int]) -> None:
    """Register (or replace, when ``ready()`` runs again) the part ``name`` (``"<app>.<what>"``)."""
    if not name or "." not in name:
        raise ValueError(f"A personal data part is named '<app>.<what>', not {name!r}.")
    _parts[name] = PersonalDataPart(name=name, export=export, erase=erase)


def personal_data_parts() -> list[PersonalDataPart]:
    """The registered parts, in registration order."""
    return list(_parts.values())
