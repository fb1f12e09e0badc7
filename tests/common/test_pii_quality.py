"""The redactor measured on the project's labelled synthetic messages (docs/performance.md, "Redaction")."""

from __future__ import annotations

import re

import pytest
from stdnum import iban, luhn

from cea.common.pii import PiiKind
from cea.common.pii.corpus import LANGUAGES, generate_corpus
from cea.common.pii.quality import evaluate

MESSAGES = 2000
CLAIMED_KINDS = list(PiiKind)


@pytest.fixture(scope="module")
def corpus():
    return generate_corpus(size=MESSAGES, seed=14)


@pytest.fixture(scope="module")
def quality(corpus):
    return evaluate(corpus)


def test_the_set_is_the_same_for_the_same_seed_and_another_for_another(corpus):
    again = generate_corpus(size=50, seed=14)
    assert [m.text for m in again] == [m.text for m in corpus[:50]]
    assert [m.text for m in generate_corpus(size=50, seed=15)] != [m.text for m in again]


def test_the_set_mixes_every_language_and_kind(corpus):
    assert {m.language for m in corpus} == set(LANGUAGES)
    labelled = {span.kind for m in corpus for span in m.spans}
    assert labelled == set(PiiKind)


def test_its_labels_are_true(corpus):
    # Every labelled card is Luhn-valid and every labelled IBAN valid, by their own checks
    for message in corpus:
        for span in message.spans:
            value = message.text[span.start : span.end]
            if span.kind is PiiKind.CARD:
                assert luhn.is_valid(re.sub(r"\D", "", value)), value
            elif span.kind is PiiKind.IBAN:
                assert iban.is_valid(value), value


def test_every_luhn_valid_card_is_found_and_none_is_left_in_clear(quality):
    card = quality.scores[PiiKind.CARD]
    assert card.labelled > 500
    assert card.recall == 1.0, [miss for miss in quality.misses if miss[0] is PiiKind.CARD]
    assert quality.cards_leaked == 0


@pytest.mark.parametrize("kind", CLAIMED_KINDS, ids=lambda kind: kind.value)
def test_each_claimed_kind_scores_at_least_0_9_f2(quality, kind):
    score = quality.scores[kind]
    assert score.labelled > 100
    assert score.f2 >= 0.9, (score, quality.misses[:10], quality.false_alarms[:10])


def test_redacting_redacted_text_changes_nothing(corpus):
    # Given text redacted once (a message is redacted at ingest, then again in the transcript, the
    # context, a webhook): When it is redacted again, Then it stays as it was (a masked card's last
    # four digits before "CVV" are not read as the code).
    from cea.common.pii import redact_text
    from cea.common.pii.policy import DEFAULT_POLICY

    once = [redact_text(message.text, policy=DEFAULT_POLICY) for message in corpus]
    twice = [redact_text(text, policy=DEFAULT_POLICY) for text in once]
    changed = [(a, b) for a, b in zip(once, twice, strict=True) if a != b]
    assert changed == []
    assert redact_text(redact_text("Card 4539 1488 0343 6467, CVV 737 was charged twice")) == (
        "Card 453914******6467, CVV [CVV] was charged twice"
    )
