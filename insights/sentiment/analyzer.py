"""The scorer: VADER's compound score of a customer's text, English only, and in which language a text is.

VADER (vaderSentiment 3.3.2) is a lexicon and rules made for short, informal English text; it reads
other languages as neutral (0.0), which would be a wrong answer, not no answer. So a text is scored
only when its language is English:

- a declared language (the conversation's context ``language``, else the customer's ``language``) that
  is not English → not scored, "language not scored (fr)";
- English or no declared language → a cheap check on the words themselves: a text of three words or
  more of which fewer than a fifth are common English words or words of VADER's lexicon, or written
  mostly in letters outside Latin, is "not recognised as English" and not scored (a French message from
  a customer whose record says "en" is not scored either).

The analyser loads its lexicon once per process (``analyzer()``). Scoring a short message takes about
0.02 ms (measured in docs/sentiment.md), so messages are scored inline as they are added.
"""

from __future__ import annotations

import re
import threading
from functools import cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from engagement.hooks import MessageScore

SCORED_LANGUAGES = ("en",)
POSITIVE_FROM = 0.05  # VADER's own thresholds on the compound score
NEGATIVE_FROM = -0.05
NOT_SCORED_LANGUAGE = "language not scored"
NOT_RECOGNISED = "not recognised as English"
MIN_WORDS_TO_CHECK = 3
MIN_ENGLISH_SHARE = 0.2

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# The most common English function words: any English sentence of some length has a few.
_ENGLISH_WORDS_TEXT = (
    "a about after again all am an and any are as at be been before being but by can could did do does doing"
    " don't down for from had has have having he her here hers him his how i if in into is it its just me more"
    " most my no nor not now of off on once only or other our out over own same she should so some such than"
    " that the their them then there these they this those through to too under until up very was we were what"
    " when where which while who why will with would you your yours yet still please thanks thank hello hi hey"
    " ok okay yes get got need want help order account card phone call waiting wait told said"
)
ENGLISH_WORDS = frozenset(_ENGLISH_WORDS_TEXT.split())

_lock = threading.Lock()


@cache
def analyzer() -> SentimentIntensityAnalyzer:
    """This process's analyser (its lexicon is read once)."""
    with _lock:
        return SentimentIntensityAnalyzer()


def label_of(score: float | None) -> str:
    """positive / neutral / negative by VADER's thresholds ("" for no score)."""
    if score is None:
        return ""
    if score >= POSITIVE_FROM:
        return "positive"
    if score <= NEGATIVE_FROM:
        return "negative"
    return "neutral"


def primary_language(tag: object) -> str:
    """``"fr"`` of ``"fr-CA"``; ``""`` for nothing usable."""
    if not isinstance(tag, str):
        return ""
    return tag.strip().replace("_", "-").split("-")[0].lower()[:8]


def looks_english(text: str) -> bool:
    """The cheap check: too short to tell, or enough common English (or VADER lexicon) words."""
    words = _WORD.findall(text.lower())
    if not words:
        return True  # emoticons and punctuation only: VADER reads those
    letters = "".join(words)
    if sum(1 for ch in letters if ord(ch) > 0x24F) > len(letters) / 2:
        return False  # mostly outside Latin script
    if len(words) < MIN_WORDS_TO_CHECK:
        return True
    lexicon = analyzer().lexicon
    known = sum(1 for word in words if word in ENGLISH_WORDS or word in lexicon)
    return known / len(words) >= MIN_ENGLISH_SHARE


def score_text(text: str, *, declared_language: str = "") -> MessageScore:
    """VADER's compound score of ``text`` if it is English (see the module's rules), else why not."""
    declared = primary_language(declared_language)
    if declared and declared not in SCORED_LANGUAGES:
        return MessageScore(scored=False, language=declared, reason=f"{NOT_SCORED_LANGUAGE} ({declared})")
    if not text.strip():
        return MessageScore(scored=False, language=declared, reason="no text")
    if not looks_english(text):
        return MessageScore(scored=False, language=declared, reason=NOT_RECOGNISED)
    compound = float(analyzer().polarity_scores(text)["compound"])
    return MessageScore(scored=True, score=round(max(-1.0, min(1.0, compound)), 4), language="en")


def weighted_mean(scores: list[float]) -> float | None:
    """The conversation's sentiment from its customer turns in order: a mean weighted 1, 2, 3 … so the
    later turns (how the customer feels now) count more. ``None`` for no scored turn."""
    if not scores:
        return None
    weights = range(1, len(scores) + 1)
    return round(sum(w * s for w, s in zip(weights, scores, strict=True)) / sum(weights), 4)
