"""How well the redactor does on the labelled synthetic set: recall, precision and F2 per kind.

A found piece of data counts for a kind when it overlaps a labelled span of that kind; a labelled
span is recalled when a finding of its kind overlaps it. F2 weighs recall four times as much as
precision (missing personal data is worse than masking an order number): 5PR / (4P + R).
Separately, a card number is *leaked* when its digits are still in the redacted text in clear.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from cea.common.pii.corpus import LabelledMessage
from cea.common.pii.detect import find_pii
from cea.common.pii.kinds import PiiKind
from cea.common.pii.policy import DEFAULT_POLICY
from cea.common.pii.redact import redact_text

_NOT_DIGIT = re.compile(r"\D")


@dataclass
class KindScore:
    kind: PiiKind
    labelled: int = 0
    recalled: int = 0
    found: int = 0
    correct: int = 0

    @property
    def recall(self) -> float:
        return self.recalled / self.labelled if self.labelled else 1.0

    @property
    def precision(self) -> float:
        return self.correct / self.found if self.found else 1.0

    @property
    def f2(self) -> float:
        p, r = self.precision, self.recall
        return 5 * p * r / (4 * p + r) if p + r else 0.0


@dataclass
class Quality:
    messages: int
    scores: dict[PiiKind, KindScore]
    cards_leaked: int
    misses: list[tuple[PiiKind, str, str]]  # (kind, the missed value, the message)
    false_alarms: list[tuple[PiiKind, str, str]]  # (kind, the value taken, the message)


def _overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def evaluate(messages: Iterable[LabelledMessage]) -> Quality:
    scores = {kind: KindScore(kind) for kind in PiiKind}
    misses: list[tuple[PiiKind, str, str]] = []
    false_alarms: list[tuple[PiiKind, str, str]] = []
    leaked = counted = 0
    for message in messages:
        counted += 1
        findings = find_pii(message.text)
        for span in message.spans:
            score = scores[span.kind]
            score.labelled += 1
            if any(f.kind is span.kind and _overlaps(f.start, f.end, span.start, span.end) for f in findings):
                score.recalled += 1
            else:
                misses.append((span.kind, message.text[span.start : span.end], message.text))
        for finding in findings:
            score = scores[finding.kind]
            score.found += 1
            if any(
                s.kind is finding.kind and _overlaps(finding.start, finding.end, s.start, s.end) for s in message.spans
            ):
                score.correct += 1
            else:
                false_alarms.append((finding.kind, finding.text, message.text))
        cards = [message.text[s.start : s.end] for s in message.spans if s.kind is PiiKind.CARD]
        if cards:
            redacted = _NOT_DIGIT.sub("", redact_text(message.text, policy=DEFAULT_POLICY))
            leaked += sum(_NOT_DIGIT.sub("", card) in redacted for card in cards)
    return Quality(counted, scores, leaked, misses, false_alarms)


def quality_table(quality: Quality) -> str:
    """The per-kind figures as a Markdown table."""
    lines = [
        "| kind | labelled | found | recall | precision | F2 |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind in PiiKind:
        s = quality.scores[kind]
        lines.append(f"| {kind.value} | {s.labelled} | {s.found} | {s.recall:.4f} | {s.precision:.4f} | {s.f2:.4f} |")
    return "\n".join(lines)
