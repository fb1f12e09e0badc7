"""What the redactor puts in place of each kind: the policy, and the two fixed ones.

Per kind a mode: ``keep`` (left as written), ``label`` (the kind's label, "[EMAIL]"),
``generic`` ("[PII]"); for card numbers ``partial`` (the first six and last four digits, the
middle masked: "411111******1111") instead of ``keep``. A card number is never kept in clear
(PCI DSS 3.4.1) and a card security code is always removed, "[CVV]" (PCI DSS 3.3.1: never stored
after authorisation): the policy refuses anything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum

from cea.common.pii.kinds import PiiKind


class Mode(StrEnum):
    KEEP = "keep"
    LABEL = "label"
    GENERIC = "generic"
    PARTIAL = "partial"  # card numbers only: first six and last four digits


class PolicyError(ValueError):
    """A policy that would keep a card number or a security code in clear, or an unknown mode."""


GENERIC_MASK = "[PII]"
LABELS: dict[PiiKind, str] = {kind: f"[{kind.value.upper()}]" for kind in PiiKind}
CARD_MODES = frozenset({Mode.PARTIAL, Mode.LABEL, Mode.GENERIC})
OTHER_MODES = frozenset({Mode.KEEP, Mode.LABEL, Mode.GENERIC})
# The kinds a policy sets; the security code is not one of them (always "[CVV]").
CONFIGURABLE_KINDS: tuple[PiiKind, ...] = (
    PiiKind.CARD,
    PiiKind.IBAN,
    PiiKind.NATIONAL_ID,
    PiiKind.PHONE,
    PiiKind.EMAIL,
)


@dataclass(frozen=True)
class PiiPolicy:
    """The mode of each kind. Built from strings or ``Mode``s; refuses a card kept in clear."""

    card: Mode = Mode.PARTIAL
    iban: Mode = Mode.LABEL
    national_id: Mode = Mode.LABEL
    phone: Mode = Mode.LABEL
    email: Mode = Mode.LABEL

    def __post_init__(self) -> None:
        for kind in CONFIGURABLE_KINDS:
            raw = getattr(self, kind.value)
            try:
                mode = Mode(raw)
            except ValueError:
                raise PolicyError(f"Unknown redaction mode {raw!r} for {kind.value}.") from None
            allowed = CARD_MODES if kind is PiiKind.CARD else OTHER_MODES
            if mode not in allowed:
                if kind is PiiKind.CARD:
                    raise PolicyError("Card numbers are never kept in clear: partial, label or generic.")
                raise PolicyError(f"The {mode.value} mode is for card numbers only.")
            object.__setattr__(self, kind.value, mode)

    @classmethod
    def from_modes(cls, modes: Mapping[str, str]) -> PiiPolicy:
        """A policy from ``{"email": "keep", …}``; kinds not named keep the default mode."""
        unknown = sorted(set(modes) - {kind.value for kind in CONFIGURABLE_KINDS})
        if unknown:
            raise PolicyError(f"Unknown kinds in a redaction policy: {', '.join(unknown)}.")
        return cls(**modes)  # type: ignore[arg-type]  # strings: __post_init__ makes them modes

    def mode(self, kind: PiiKind) -> Mode:
        if kind is PiiKind.CVV:
            return Mode.LABEL
        return Mode(getattr(self, kind.value))

    def as_modes(self) -> dict[str, str]:
        return {name: str(value) for name, value in asdict(self).items()}


DEFAULT_POLICY = PiiPolicy()
# Logs and anything else shipped out of the platform: every kind replaced by its label.
STRICT_POLICY = PiiPolicy(card=Mode.LABEL, iban=Mode.LABEL, national_id=Mode.LABEL, phone=Mode.LABEL, email=Mode.LABEL)


def masked_card(digits: str) -> str:
    """A card number with all but its first six and last four digits masked (PCI DSS 3.4.1)."""
    return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]
