"""Finding personal data in free text: what each kind looks like and how it is checked.

Every detector is a precompiled pattern for candidates followed by a check that a near-miss
fails: the Luhn check and an issuer prefix for card numbers, ISO 13616 mod-97 and the country's
length and structure for IBANs (python-stdnum), each national id's own check digits
(python-stdnum), a valid number plan for phone numbers (phonenumbers, Google's libphonenumber
data). A text without a digit skips every digit detector; a text without "@" skips e-mail.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import phonenumbers
from django.conf import settings
from stdnum import iban as stdnum_iban
from stdnum.de import idnr
from stdnum.es import dni, nie
from stdnum.fr import nir
from stdnum.it import codicefiscale
from stdnum.nl import bsn
from stdnum.se import personnummer
from stdnum.us import ssn

from cea.common.pii.kinds import PRECEDENCE, Finding, PiiKind

_ANY_DIGIT = re.compile(r"\d")
_NOT_DIGIT = re.compile(r"\D")

# --- E-mail addresses -------------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.%+\-])[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[^\W\d_]{2,24}(?![\w\-])")


def _emails(text: str) -> Iterator[Finding]:
    for match in _EMAIL.finditer(text):
        yield Finding(PiiKind.EMAIL, match.start(), match.end(), match.group())


# --- Payment card numbers ---------------------------------------------------------------------

# Runs of digit groups split by one space or dash ("4111 1111-1111 1111"); a run glued to a word
# or to a "+" (a phone's country code) does not start a card.
_DIGIT_RUN = re.compile(r"(?<![\w+])\d+(?:[ \-]\d+)*")
_GROUP = re.compile(r"\d+")


def is_card_number(digits: str) -> bool:
    """Whether ``digits`` (digits only) is a payment card number: 13–19 digits with a card
    network's issuer prefix for its length, and a valid Luhn check digit."""
    length = len(digits)
    if length < 13 or length > 19:
        return False
    first = digits[0]
    if length == 13:
        prefixed = first == "4"  # Visa's old 13-digit numbers
    elif length == 14:
        prefixed = digits[:2] in ("30", "36", "38", "39")  # Diners Club
    elif length == 15:
        prefixed = digits[:2] in ("34", "37")  # American Express
    elif length == 16:
        prefixed = first in "23456"  # Mastercard 2-series and 5, Visa, Discover, JCB, UnionPay, Maestro, Mir
    else:
        prefixed = first in "456"  # Visa, Maestro, UnionPay, Discover at 17–19 digits
    return prefixed and _luhn_valid(digits)


_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def _luhn_valid(digits: str) -> bool:
    """The Luhn check of a string of digits (python-stdnum's ``luhn.is_valid`` without its
    clean-up and alphabet handling: the hot loop of card detection)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        total += _DOUBLED[value] if position & 1 else value
    return total % 10 == 0


def _cards(text: str) -> Iterator[Finding]:
    for run in _DIGIT_RUN.finditer(text):
        if run.end() - run.start() < 13:
            continue
        groups = [(g.start() + run.start(), g.end() + run.start()) for g in _GROUP.finditer(run.group())]
        yield from _cards_in_groups(text, groups)


def _cards_in_groups(text: str, groups: list[tuple[int, int]]) -> Iterator[Finding]:
    """The longest card number made of consecutive groups, from the left (a security code or a
    reference written after a card, in the same run of digits, is not part of it)."""
    first = 0
    while first < len(groups):
        found = None
        digits = ""
        for last in range(first, len(groups)):
            digits += text[groups[last][0] : groups[last][1]]
            if len(digits) > 19:
                break
            if len(digits) >= 13 and is_card_number(digits):
                found = last
        if found is None:
            first += 1
            continue
        if found > first and _is_code_after(text, groups, first, found):
            found -= 1
        start, end = groups[first][0], groups[found][1]
        yield Finding(PiiKind.CARD, start, end, text[start:end])
        first = found + 1


def _is_code_after(text: str, groups: list[tuple[int, int]], first: int, last: int) -> bool:
    """Whether the last group (3–4 digits) is the security code written after a shorter card
    number that is valid too: "4111111111111111 123", "4111-1111-1111-1111 123" — its separator
    differs from the card's own. Written like the rest ("4111 1111 1111 1111 123"), it may be a
    19-digit card's last group: both readings are valid, and the mask is the label (``ambiguous_card``)."""
    if not 3 <= groups[last][1] - groups[last][0] <= 4:
        return False
    if not is_card_number("".join(text[a:b] for a, b in groups[first:last])):
        return False
    separator = text[groups[last - 1][1] : groups[last][0]]
    inner = {text[a[1] : b[0]] for a, b in zip(groups[first : last - 1], groups[first + 1 : last], strict=True)}
    return inner != {separator}


def ambiguous_card(written: str) -> bool:
    """Whether a card number as written may also be a shorter card and its security code
    ("4111 1111 1111 1111 123"): masked to its first six and last four, it could show the code."""
    groups = [(g.start(), g.end()) for g in _GROUP.finditer(written)]
    if len(groups) < 2 or not 3 <= groups[-1][1] - groups[-1][0] <= 4:
        return False
    return is_card_number("".join(written[a:b] for a, b in groups[:-1]))


# --- Card security codes ----------------------------------------------------------------------

_CVV_CUES = (
    r"cvv2?|cvc2?|cv2|cvn|cid|csc|card verification(?: code| value| number)?|security code|card code"
    r"|code de s[ée]curit[ée]|cryptogramme(?: visuel)?"
    r"|(?:karten)?pr[üu]e?fnummer|sicherheitscode|pr[üu]fziffer|kartenpr[üu]fziffer"
    r"|c[óo]digo de seguridad|c[óo]digo cvv|c[óo]digo de verificaci[óo]n"
    r"|beveiligingscode|veiligheidscode|controlecode|verificatiecode"
)
_CVV_CUE = re.compile(rf"\b(?:{_CVV_CUES})\b", re.I)
# Read from the end of a cue: "CVV: 123", "security code is 4567".
_CODE_AFTER_CUE = re.compile(r"[^\d\n[]{0,25}?(?<![\w/.,*])(\d{3,4})(?![\d/]|[.,\-]\d)")
# Read back from the start of a cue: "123 is my cvv", "(321, cvc)".
_CODE_BEFORE_CUE = re.compile(
    r"(?<![\w/.,*\-])(\d{3,4})\s*[),]?\s*(?:(?:is|est|ist|es)\s+)?(?:(?:the|my|le|mon|der|el|mi|de)\s+)?$", re.I
)
_CVV_TOKEN = re.compile(r"(?<![\w/.,:*\-])\d{3,4}(?![\w/]|[.,:\-]\d)")
_EXPIRY = re.compile(r"\d{1,2}\s?[/.\-]\s?\d{2,4}")
_EXPIRY_CUE = re.compile(
    r"(?:exp\w*|valid(?: thru| until)?|g[üu]ltig(?: bis)?|ablauf\w*|vence\w*|caduca\w*|vervaldatum|geldig tot"
    r"|date d'expiration|fin de validit[ée])\W*$",
    re.I,
)
CVV_WINDOW = 40  # characters after a card number where a lone 3–4 digit number is its security code


# A cheap first look for the cue words (most messages have none).
_CVV_HINT = re.compile(
    r"cv|cid|csc|secur|s[ée]cur|code|crypt|pr[üu]e?f|sicher|c[óo]digo|veilig|controle|verifica", re.I
)


def _in_label(text: str, at: int) -> bool:
    """Whether the word at ``at`` is inside a redaction label ("[CVV]", "[PHONE]"): text redacted before
    is redacted again (a transcript, a webhook), and its labels must not read as cue words."""
    return at > 0 and text[at - 1] == "["


def _cvvs_by_cue(text: str) -> Iterator[Finding]:
    if _CVV_HINT.search(text) is None:
        return
    for cue in _CVV_CUE.finditer(text):
        if _in_label(text, cue.start()):
            continue  # "[CVV]", the mask of a code redacted before, is no cue
        after = _CODE_AFTER_CUE.match(text, cue.end())
        if after is not None:
            yield Finding(PiiKind.CVV, after.start(1), after.end(1), after.group(1))
            continue
        window = max(0, cue.start() - 30)
        before = _CODE_BEFORE_CUE.search(text[window : cue.start()])
        if before is not None:
            yield Finding(PiiKind.CVV, window + before.start(1), window + before.end(1), before.group(1))


def _cvv_after_card(text: str, card: Finding) -> Finding | None:
    """A lone 3–4 digit number soon after a card number, with nothing but an expiry date (and
    words) between them, is taken for its security code."""
    window_end = min(len(text), card.end + CVV_WINDOW)
    for token in _CVV_TOKEN.finditer(text, card.end, window_end):
        gap = text[card.end : token.start()]
        if _ANY_DIGIT.search(_EXPIRY.sub("", gap)):
            return None  # another number between them: not the card's code
        if _EXPIRY_CUE.search(gap):
            continue  # "expires 2027"
        return Finding(PiiKind.CVV, token.start(), token.end(), token.group())
    return None


# --- IBANs ------------------------------------------------------------------------------------

_IBAN_CANDIDATE = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){10,32}", re.I)


@lru_cache(maxsize=1)
def _iban_lengths() -> dict[str, int]:
    """The IBAN's length in each country of python-stdnum's copy of the SWIFT IBAN registry."""
    registry = Path(stdnum_iban.__file__).with_name("iban.dat").read_text(encoding="utf-8")
    lengths = {}
    for line in registry.splitlines():
        structure = re.match(r'([A-Z]{2}) .*bban="([^"]+)"', line)
        if structure:
            lengths[structure[1]] = 4 + sum(int(count) for count in re.findall(r"(\d+)!", structure[2]))
    return lengths


def _ibans(text: str) -> Iterator[Finding]:
    lengths = _iban_lengths()
    position = 0
    while (match := _IBAN_CANDIDATE.search(text, position)) is not None:
        candidate = match.group()
        position = match.start() + 1
        length = lengths.get(candidate[:2].upper())
        compact = candidate.replace(" ", "").upper()
        # The pattern may run on into the next words ("… 0130 00 BIC COBADEFF"): the country
        # fixes the length; the search goes on after the IBAN (a second one may follow).
        if length is None or len(compact) < length or not stdnum_iban.is_valid(compact[:length]):
            continue
        position = match.start() + _span_of(candidate, length)
        yield Finding(PiiKind.IBAN, match.start(), position, text[match.start() : position])


def _span_of(candidate: str, characters: int) -> int:
    """How far into ``candidate`` its first ``characters`` non-space characters reach."""
    seen = 0
    for index, char in enumerate(candidate):
        if char != " ":
            seen += 1
            if seen == characters:
                return index + 1
    return len(candidate)


# --- National identity numbers ----------------------------------------------------------------

# (pattern, validator of the compact form). Each is a number with check digits except the US
# SSN (structure only: area, group and serial rules), taken only in its dashed form.
_NATIONAL_IDS: tuple[tuple[re.Pattern[str], Callable[[str], bool]], ...] = (
    (re.compile(r"(?<![\w\-+])\d{3}-\d{2}-\d{4}(?![\w\-])"), ssn.is_valid),  # US SSN
    (re.compile(r"(?<![\w+])[12] ?\d{2} ?\d{2} ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}(?!\w)", re.I), nir.is_valid),  # FR
    (re.compile(r"(?<![\w\-+])[1-9]\d ?\d{3} ?\d{3} ?\d{3}(?![\w\-])"), idnr.is_valid),  # DE Steuer-IdNr
    (re.compile(r"(?<![\w+])\d{8}-?[A-Z](?!\w)"), dni.is_valid),  # ES DNI
    (re.compile(r"(?<![\w+])[XYZ]-?\d{7}-?[A-Z](?!\w)"), nie.is_valid),  # ES NIE
    (re.compile(r"(?<![\w.\-+])\d{4}\.?\d{2}\.?\d{3}(?![\w]|[.\-]\d)"), bsn.is_valid),  # NL BSN
    (re.compile(r"(?<![\w+])[A-Z]{6}[0-9L-V]{2}[A-EHLMPR-T][0-9L-V]{2}[A-Z][0-9L-V]{3}[A-Z](?!\w)", re.I),
     codicefiscale.is_valid),  # IT codice fiscale (L-V: the letters standing for digits, omocodia)
    (re.compile(r"(?<![\w\-+])(?:19|20)?\d{6}[\-+]\d{4}(?![\w\-])"), personnummer.is_valid),  # SE personnummer
)  # fmt: skip


def _national_ids(text: str, taken: list[Finding]) -> Iterator[Finding]:
    for pattern, is_valid in _NATIONAL_IDS:
        for match in pattern.finditer(text):
            if not _inside(taken, match.start(), match.end()) and is_valid(match.group()):
                yield Finding(PiiKind.NATIONAL_ID, match.start(), match.end(), match.group())


# --- Phone numbers ----------------------------------------------------------------------------

# A run of digit groups split by one separator (space, dot, dash, slash) or in parentheses,
# international ("+33", "0033") or national ("06 …", "(415) …", "612 345 678").
_PHONE_RUN = re.compile(r"(?<![\w+.\-/*])(?:\+|\(\+?)?\d[\d()]*(?:(?:[ .\-/]|\) ?)\(?\d[\d()]*)*")
_PHONE_GROUP = re.compile(r"\+?\(?\+?\d[\d()]*")
_DATE = re.compile(r"\d{1,4}[./\-]\d{1,2}[./\-]\d{2,4}")
# An ISO date ("2026-12-06 …") or a number that runs into a time ("06/12/2026 20:29"): a timestamp
# (a log line, an export's cell), never a phone number.
_ISO_DATE = re.compile(r"(?:19|20)\d\d-[01]\d-[0-3]\d(?!\d)")
_TIME_AFTER = re.compile(r":\d")
_MIN_DIGITS, _MAX_DIGITS = 7, 15


@dataclass(frozen=True)
class PhoneRegions:
    """Where national numbers are read: with a trunk "0" ("06 12 34 56 78" in FR, NL, GB, DE …)
    as (region, country code) pairs, and the regions whose numbers have none (ES, US)."""

    trunk_zero: tuple[tuple[str, int], ...]
    other: tuple[str, ...]


@lru_cache(maxsize=8)
def _regions(default: str, extra: tuple[str, ...]) -> PhoneRegions:
    ordered = tuple(dict.fromkeys((default, *extra)))
    metadata = {region: phonenumbers.PhoneMetadata.metadata_for_region(region) for region in ordered}
    known = {r: data for r, data in metadata.items() if data is not None}
    return PhoneRegions(
        trunk_zero=tuple(
            (r, data.country_code or 0)
            for r, data in known.items()
            if data.national_prefix == "0" and data.country_code
        ),
        other=tuple(r for r, data in known.items() if data.national_prefix != "0"),
    )


def phone_regions() -> PhoneRegions:
    """The regions national numbers are read in: the default region (``CEA_DEFAULT_PHONE_REGION``)
    first, then ``CEA_PII_PHONE_REGIONS``."""
    default = getattr(settings, "CEA_DEFAULT_PHONE_REGION", "GB")
    extra = tuple(getattr(settings, "CEA_PII_PHONE_REGIONS", DEFAULT_PHONE_REGIONS))
    return _regions(default, extra)


DEFAULT_PHONE_REGIONS = ("GB", "FR", "DE", "ES", "NL", "BE", "US")


def _is_phone(candidate: str, regions: PhoneRegions, *, cued: Callable[[], bool]) -> bool:
    digits = _NOT_DIGIT.sub("", candidate)
    if len(digits) < _MIN_DIGITS or len(digits) > _MAX_DIGITS + 2 or _DATE.fullmatch(candidate):
        return False
    stripped = candidate.lstrip("(")
    if stripped.startswith("+") or stripped.startswith("00"):
        return _valid("+" + digits[2:] if stripped.startswith("00") else candidate, None)
    if stripped.startswith("0"):
        # The same national number in each trunk-"0" region: checked without parsing it again.
        national = int(digits[1:])
        return any(
            phonenumbers.is_valid_number(phonenumbers.PhoneNumber(country_code=code, national_number=national))
            for _region, code in regions.trunk_zero
        )
    if not any(separator in candidate for separator in " -(.") and not cued():
        return False  # a bare number, no prefix, no grouping, no cue word: a reference more likely
    return any(_valid(candidate, region) for region in regions.other)


def _valid(candidate: str, region: str | None) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(candidate, region))
    except phonenumbers.NumberParseException:
        return False


# Words that announce a phone number, a few words before it ("reach me on", "llamarme al"): then a
# bare national number without prefix or grouping ("612345678", "4152345678") is taken too.
_PHONE_CUE = re.compile(
    r"(?:phone|tel\w*|call|reach|mobile|cell|number|whats ?app|m[óo]vil|ll[aá]m\w*|tel[ée]fono|bel\w*|bereik\w*|mobiel"
    r"|r[üu]ckruf|erreich\w*|handy|anruf\w*|joindre|rappel\w*|appel\w*|portable|num[ée]ro)\W+(?:\w+\W+){0,3}$",
    re.I,
)

# The end of an IBAN's first groups ("NL07 MILE "): what follows is the rest of an (invalid) IBAN.
_IBAN_HEAD = re.compile(r"\b[A-Z]{2}\d{2}(?: [A-Z0-9]{4})* $")


def _balanced(text: str, start: int, end: int) -> tuple[int, int]:
    """Without the parentheses around the number ("(+44 7911 123456)"), keeping "(415) 234-5678"."""
    if text[start] == "(" and text.find(")", start, end) == end - 1:
        return start + 1, end - 1
    if text[start] == "(" and text.count("(", start, end) > text.count(")", start, end):
        start += 1
    if text[end - 1] == ")" and text.count(")", start, end) > text.count("(", start, end):
        end -= 1
    return start, end


def _phones(text: str, taken: list[Finding]) -> Iterator[Finding]:
    regions = phone_regions()
    for run in _PHONE_RUN.finditer(text):
        if run.end() - run.start() < _MIN_DIGITS or _inside(taken, run.start(), run.end()):
            continue
        if _IBAN_HEAD.search(text, max(0, run.start() - 40), run.start()):
            continue
        groups = [(g.start() + run.start(), g.end() + run.start()) for g in _PHONE_GROUP.finditer(run.group())]

        def cued(start: int = run.start()) -> bool:
            cue = _PHONE_CUE.search(text, max(0, start - 40), start)
            return cue is not None and not _in_label(text, cue.start())

        first = 0
        while first < len(groups):
            found = None
            # Inside a longer run of numbers (a reference, an invalid card), only an international
            # number starts a phone number; a national one is the whole run.
            international = text[groups[first][0]] == "+"
            if first > 0 and not international:
                first += 1
                continue
            lasts = range(len(groups) - 1, first - 1, -1) if international else (len(groups) - 1,)
            for last in lasts:
                candidate = text[groups[first][0] : groups[last][1]]
                if _ISO_DATE.match(candidate) or _TIME_AFTER.match(text, groups[last][1]):
                    continue
                if _is_phone(candidate, regions, cued=cued):
                    found = last
                    break
            if found is None:
                first += 1
                continue
            start, end = _balanced(text, groups[first][0], groups[found][1])
            yield Finding(PiiKind.PHONE, start, end, text[start:end])
            first = found + 1


# --- All of them ------------------------------------------------------------------------------

_RANK = {kind: rank for rank, kind in enumerate(PRECEDENCE)}


def find_pii(text: str) -> list[Finding]:
    """Every piece of personal data found in ``text``, in order, without overlaps (where two
    overlap, the kind earlier in ``PRECEDENCE`` wins: a card number is never read as a phone)."""
    if not text:
        return []
    found: list[Finding] = []
    if "@" in text:
        found.extend(_emails(text))
    # Each digit kind needs so many digits at least: most chat lines have none or a few (a time,
    # an amount) and skip the detectors that could not match.
    digits = len(_ANY_DIGIT.findall(text))
    if digits >= 3:  # a security code
        found.extend(_ibans(text))
        cards = list(_cards(text)) if digits >= 13 else []
        found.extend(cards)
        found.extend(_cvvs_by_cue(text))
        for card in cards:
            code = _cvv_after_card(text, card)
            if code is not None:
                found.append(code)
        if digits >= _MIN_DIGITS:  # a national id (the codice fiscale has seven) or a phone number
            # What lower kinds would lose to anyway is not checked (a card's digits as a phone).
            taken = [f for f in found if f.kind in (PiiKind.IBAN, PiiKind.CARD)]
            phones = list(_phones(text, taken))
            found.extend(_national_ids_not_phones(text, taken, phones))
            found.extend(phones)
    return _without_overlaps(found)


def _national_ids_not_phones(text: str, taken: list[Finding], phones: list[Finding]) -> Iterator[Finding]:
    """The national ids, but for a number that is also a phone number after a phone word ("móvil:
    612345678" is a valid Dutch BSN too): a phone there."""
    spans = {(p.start, p.end) for p in phones}
    for found in _national_ids(text, taken):
        window = max(0, found.start - 40)
        if (
            (found.start, found.end) in spans
            and _PHONE_CUE.search(text, window, found.start)
            and not _ID_CUE.search(text, window, found.start)
        ):
            continue
        yield found


# Words that announce an id rather than a phone ("Mijn BSN is …", "numéro de sécurité sociale").
_ID_CUE = re.compile(
    r"\b(?:ssn|social security|bsn|burgerservice\w*|dni|nie|nir|s[ée]curit[ée] sociale|steuer\S*|idnr"
    r"|identifikation\w*|codice fiscale|personnummer|national id\w*|id number|identit\w*)\b",
    re.I,
)


def _inside(taken: list[Finding], start: int, end: int) -> bool:
    """Whether ``start:end`` lies within one of the findings ``taken``."""
    return any(f.start <= start and end <= f.end for f in taken)


def _without_overlaps(found: list[Finding]) -> list[Finding]:
    if len(found) < 2:
        return found
    kept: list[Finding] = []
    for finding in sorted(found, key=lambda f: (_RANK[f.kind], f.start, -f.end)):
        if all(finding.end <= other.start or finding.start >= other.end for other in kept):
            kept.append(finding)
    return sorted(kept, key=lambda f: f.start)
