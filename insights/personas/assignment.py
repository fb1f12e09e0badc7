"""Placing customers in personas: the active definitions tried in order over a frame, first match wins."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from insights.personas.rules import CATCH_ALL_REASON, Condition


@dataclass(frozen=True)
class RuledPersona:
    """A definition as assignment needs it: its key and its (valid) conditions."""

    key: str
    conditions: tuple[Condition, ...]


def personas_place(*, personas: Sequence[RuledPersona], frame: pd.DataFrame) -> dict[int, tuple[str, tuple[str, ...]]]:
    """Each customer of ``frame`` (by id) → (persona key, reasons); "" and no reasons when none matches.

    Every condition is a vectorised mask over the whole frame; only the reasons of the customers a
    persona takes are put in words.
    """
    ids = frame.index.to_numpy()
    unplaced = np.ones(len(frame), dtype=bool)
    placed: dict[int, tuple[str, tuple[str, ...]]] = {}
    for persona in personas:
        taken = unplaced.copy()
        for condition in persona.conditions:
            if not taken.any():
                break
            taken &= condition.mask(frame)
        if not taken.any():
            continue
        unplaced &= ~taken
        rows = frame[taken]
        if persona.conditions:
            columns = [condition.reasons(rows) for condition in persona.conditions]
            reasons = list(zip(*columns, strict=True))
        else:
            reasons = [(CATCH_ALL_REASON,)] * len(rows)
        placed.update(zip(ids[taken].tolist(), ((persona.key, why) for why in reasons), strict=True))
    for customer_id in ids[unplaced].tolist():
        placed[customer_id] = ("", ())
    return placed
