"""A labelled synthetic set of customer messages to measure the redactor on (seeded, deterministic).

Messages in English, French, German, Spanish and Dutch, as customers write them to a contact
centre: card numbers (every major network, plain, with spaces, with dashes, Amex 4-6-5), security
codes after a cue word or right after the card, IBANs (grouped by four or compact), national ids
(US SSN, FR NIR, DE Steuer-IdNr, ES DNI and NIE, NL BSN, IT codice fiscale, SE personnummer),
phone numbers (national and international, with spaces, dots, dashes, parentheses) and e-mail
addresses — mixed with near-misses that are not personal data: order numbers, 16-digit numbers
failing the Luhn check, dates, amounts, tracking numbers, IBANs with wrong check digits, invalid
ids, times, postcodes, ISBNs, IMEIs.

Every value is generated valid (or, for near-misses, invalid) by construction and checked with the
same libraries' rules, so the labels are the truth by which recall and precision are counted.
"""

from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass, field

import phonenumbers
from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.es import dni, nie
from stdnum.fr import nir
from stdnum.iso7064 import mod_11_10
from stdnum.it import codicefiscale
from stdnum.nl import bsn

from cea.common.pii.kinds import PiiKind

LANGUAGES = ("en", "fr", "de", "es", "nl")


@dataclass(frozen=True)
class Span:
    kind: PiiKind
    start: int
    end: int


@dataclass
class LabelledMessage:
    language: str
    text: str = ""
    spans: list[Span] = field(default_factory=list)

    def add(self, piece: str, kind: PiiKind | None = None) -> None:
        if kind is not None:
            self.spans.append(Span(kind, len(self.text), len(self.text) + len(piece)))
        self.text += piece


# --- Values -----------------------------------------------------------------------------------

# (network, prefixes, length, grouping)
_CARD_NETWORKS: tuple[tuple[str, tuple[str, ...], int, tuple[int, ...]], ...] = (
    ("visa", ("4",), 16, (4, 4, 4, 4)),
    ("visa13", ("4",), 13, (4, 4, 5)),
    ("visa19", ("4",), 19, (4, 4, 4, 4, 3)),
    ("mastercard", ("51", "52", "53", "54", "55"), 16, (4, 4, 4, 4)),
    ("mastercard2", ("2221", "2320", "2500", "2720"), 16, (4, 4, 4, 4)),
    ("amex", ("34", "37"), 15, (4, 6, 5)),
    ("discover", ("6011", "65", "644"), 16, (4, 4, 4, 4)),
    ("jcb", ("3528", "3566", "3589"), 16, (4, 4, 4, 4)),
    ("diners", ("36", "38", "300"), 14, (4, 6, 4)),
    ("unionpay", ("62",), 16, (4, 4, 4, 4)),
    ("maestro", ("6759", "5018"), 19, (4, 4, 4, 4, 3)),
)


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(count))


def _grouped(digits: str, groups: tuple[int, ...], separator: str) -> str:
    parts, position = [], 0
    for size in groups:
        parts.append(digits[position : position + size])
        position += size
    return separator.join(parts)


def card_number(rng: random.Random, *, valid: bool = True) -> tuple[str, str]:
    """(as written, network): Luhn-valid unless ``valid`` is false (then its check digit is off by one)."""
    network, prefixes, length, groups = rng.choice(_CARD_NETWORKS)
    prefix = rng.choice(prefixes)
    body = prefix + _digits(rng, length - len(prefix) - 1)
    check = luhn.calc_check_digit(body)
    if not valid:
        check = str((int(check) + rng.randint(1, 9)) % 10)
    digits = body + check
    written = rng.choice((digits, _grouped(digits, groups, " "), _grouped(digits, groups, "-")))
    return written, network


def _iban_bban(rng: random.Random, spec: str) -> str:
    pools = {"n": string.digits, "a": string.ascii_uppercase, "c": string.digits + string.ascii_uppercase}
    return "".join(
        rng.choice(pools[kind]) for count, kind in re.findall(r"(\d+)([nac])", spec) for _ in range(int(count))
    )


# Countries whose BBAN has no national check of its own beyond the IBAN's (ES and BE do).
_IBAN_SPECS = {"DE": "18n", "GB": "4a14n", "NL": "4a10n", "FR": "10n11c2n", "IT": "1a10n12c", "AT": "16n"}


def iban_number(rng: random.Random, *, valid: bool = True) -> str:
    country = rng.choice(sorted(_IBAN_SPECS))
    bban = _iban_bban(rng, _IBAN_SPECS[country])
    check = stdnum_iban.calc_check_digits(country + "00" + bban)
    if not valid:
        check = f"{(int(check) + rng.randint(1, 40)) % 97 + 2:02d}"
    compact = country + check + bban
    if valid != stdnum_iban.is_valid(compact):
        return iban_number(rng, valid=valid)
    return rng.choice((compact, stdnum_iban.format(compact), stdnum_iban.format(compact)))


def _ssn(rng: random.Random) -> str:
    area = rng.choice([n for n in range(1, 900) if n != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def _nir(rng: random.Random) -> str:
    body = f"{rng.randint(1, 2)}{rng.randint(40, 99):02d}{rng.randint(1, 12):02d}{rng.randint(1, 95):02d}"
    body += f"{rng.randint(1, 999):03d}{rng.randint(1, 999):03d}"
    full = body + nir.calc_check_digits(body)
    if rng.random() < 0.5:
        return full
    return f"{full[0]} {full[1:3]} {full[3:5]} {full[5:7]} {full[7:10]} {full[10:13]} {full[13:]}"


def _idnr(rng: random.Random) -> str:
    # Ten digits, the first not 0: one digit twice, the others at most once (the IdNr's rule).
    first = rng.choice("123456789")
    others = rng.sample([d for d in string.digits if d != first], 8)
    digits = [first, *others]
    twice = rng.choice(digits)
    digits.insert(rng.randint(1, len(digits)), twice)
    body = "".join(digits[:10])
    full = body + mod_11_10.calc_check_digit(body)
    if rng.random() < 0.5:
        return full
    return f"{full[:2]} {full[2:5]} {full[5:8]} {full[8:]}"


def _dni(rng: random.Random) -> str:
    body = _digits(rng, 8)
    return body + rng.choice(("", "-")) + dni.calc_check_digit(body)


def _nie(rng: random.Random) -> str:
    letter, body = rng.choice("XYZ"), _digits(rng, 7)
    return letter + body + nie.calc_check_digit(letter + body)


def _bsn(rng: random.Random) -> str:
    while True:
        body = str(rng.randint(1, 9)) + _digits(rng, 7)
        for last in string.digits:
            if bsn.is_valid(body + last):
                full = body + last
                return full if rng.random() < 0.7 else f"{full[:4]}.{full[4:6]}.{full[6:]}"


def _codice_fiscale(rng: random.Random) -> str:
    letters = "".join(rng.choice(string.ascii_uppercase) for _ in range(6))
    month = rng.choice("ABCDEHLMPRST")
    day = rng.randint(1, 28) + rng.choice((0, 40))
    town = rng.choice(string.ascii_uppercase) + _digits(rng, 3)
    body = f"{letters}{rng.randint(40, 99):02d}{month}{day:02d}{town}"
    return body + codicefiscale.calc_check_digit(body)


def _personnummer(rng: random.Random) -> str:
    body = f"{rng.randint(40, 99):02d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{_digits(rng, 3)}"
    return f"{body[:6]}-{body[6:]}{luhn.calc_check_digit(body)}"


_NATIONAL_IDS = {
    "en": (_ssn,),
    "fr": (_nir,),
    "de": (_idnr,),
    "es": (_dni, _nie),
    "nl": (_bsn,),
    "it": (_codice_fiscale,),
    "se": (_personnummer,),
}


def national_id(rng: random.Random, language: str) -> str:
    if rng.random() < 0.25:  # an id of another country (expats, cross-border customers)
        language = rng.choice(sorted(_NATIONAL_IDS))
    return rng.choice(_NATIONAL_IDS.get(language, _NATIONAL_IDS["en"]))(rng)


# Region, national significant number: leading digits, length.
_PHONE_PLANS = {
    "en": (("GB", "7", 10), ("US", "", 10)),
    "fr": (("FR", "6", 9), ("FR", "1", 9)),
    "de": (("DE", "151", 11), ("DE", "30", 10)),
    "es": (("ES", "6", 9), ("ES", "91", 9)),
    "nl": (("NL", "6", 9), ("NL", "20", 9)),
}


def phone_number(rng: random.Random, language: str) -> str:
    region, lead, length = rng.choice(_PHONE_PLANS[language])
    while True:
        if region == "US":
            national = f"{rng.randint(2, 9)}{_digits(rng, 2)}{rng.randint(2, 9)}{_digits(rng, 6)}"
        else:
            national = lead + _digits(rng, length - len(lead))
        number = phonenumbers.parse(national, region)
        if phonenumbers.is_valid_number(number):
            break
    style = rng.choice(("international", "national", "national", "dots", "dashes", "e164", "compact"))
    if style == "international":
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    if style == "e164":
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    written = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    if style == "compact":  # "0612345678", and the hard ones: "612345678" (ES), "4152345678" (US)
        return re.sub(r"\D", "", written)
    if style == "dots" and region in ("FR", "ES", "US"):
        return re.sub(r"[ \-]", ".", written.replace("(", "").replace(")", ""))
    if style == "dashes" and region in ("NL", "DE", "US"):
        return written.replace("(", "").replace(")", "").replace(" ", "-")
    return written


_FIRST = ("anna", "jean", "marie", "lukas", "sofia", "pieter", "carlos", "emma", "john", "zoë", "jürgen", "inès")
_LAST = ("smith", "dupont", "müller", "garcia", "de.vries", "rossi", "jansen", "martin", "schmidt", "lopez")
_DOMAINS = ("example.com", "mail.example.fr", "web.example.de", "correo.example.es", "ziggo.example.nl", "ex.co.uk")


def email_address(rng: random.Random) -> str:
    local = rng.choice(_FIRST) + rng.choice((".", "_", "", "+shop.")) + rng.choice(_LAST)
    if rng.random() < 0.3:
        local += str(rng.randint(1, 99))
    return f"{local}@{rng.choice(_DOMAINS)}"


def cvv_code(rng: random.Random) -> str:
    return _digits(rng, rng.choice((3, 3, 3, 4)))


# --- Near-misses (never labelled) ---------------------------------------------------------------


def _near_miss(rng: random.Random) -> str:
    kind = rng.randrange(14)
    if kind == 0:
        return f"ORD-{rng.randint(2019, 2026)}-{rng.randint(100000, 999999)}"
    if kind == 1:
        return f"#{rng.randint(10_000_000, 99_999_999)}"
    if kind == 2:
        return card_number(rng, valid=False)[0]
    if kind == 3:
        day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(2020, 2027)
        return rng.choice(
            (f"{day:02d}/{month:02d}/{year}", f"{year}-{month:02d}-{day:02d}", f"{day:02d}.{month:02d}.{year}")
        )
    if kind == 4:
        return rng.choice(
            (
                f"€{rng.randint(1, 9)}.{rng.randint(100, 999)},{rng.randint(10, 99)}",
                f"${rng.randint(10, 99)},{rng.randint(100, 999)}.00",
                f"{rng.randint(1, 9)} {rng.randint(100, 999)},50 €",
            )
        )
    if kind == 5:
        return rng.choice(
            (
                f"1Z{rng.randint(100, 999)}AA1{_digits(rng, 8)}",
                f"JD0146{_digits(rng, 14)}",
                f"00{_digits(rng, 18)}",
                f"RR{_digits(rng, 9)}GB",
            )
        )
    if kind == 6:
        return iban_number(rng, valid=False)
    if kind == 7:
        return f"{rng.randint(0, 23):02d}:{rng.choice(('00', '15', '30', '45'))}"
    if kind == 8:
        return rng.choice(
            (f"{rng.randint(10000, 99999)}", f"SW1A {rng.randint(1, 9)}AA", f"{rng.randint(1000, 9999)} AB")
        )
    if kind == 9:
        return f"978-{rng.randint(0, 9)}-{rng.randint(10, 99)}-{rng.randint(100000, 999999)}-{rng.randint(0, 9)}"
    if kind == 10:
        body = "35" + _digits(rng, 12)
        return body + luhn.calc_check_digit(body)  # an IMEI: Luhn-valid, 15 digits, not a card
    if kind == 11:
        return f"{rng.choice(('000', '666', '9' + _digits(rng, 2)))}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}"
    if kind == 12:
        return f"v{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"
    return f"{rng.randint(1, 40)} x {rng.randint(2, 500)} units"


# --- Messages ---------------------------------------------------------------------------------

# "{kind}" slots: card, cvv, iban, id, phone, email, near (a near-miss), expiry.
_TEMPLATES: dict[str, tuple[str, ...]] = {
    "en": (
        "Hi, please charge my card {card}, expiry {expiry}, CVV {cvv}.",
        "My card number is {card} and the security code is {cvv}",
        "card: {card} {cvv}",
        "Can you refund it to my account {iban}? Thanks",
        "You can reach me on {phone} or by email at {email}.",
        "My SSN is {id}, please update my file.",
        "Call me back at {phone} please",
        "Order {near} placed on {near} for {near}, still not delivered.",
        "The tracking number {near} shows nothing since {near}.",
        "I tried the reference {near} and {near} but neither works",
        "new email: {email}",
        "It's {card}, expires {expiry}, and {cvv} on the back",
    ),
    "fr": (
        "Bonjour, voici ma carte {card}, date d'expiration {expiry}, cryptogramme {cvv}.",
        "Mon numéro de carte est le {card}, code de sécurité {cvv}",
        "Pouvez-vous me rembourser sur mon IBAN {iban} ?",
        "Vous pouvez me joindre au {phone} ou par mail : {email}",
        "Mon numéro de sécurité sociale : {id}",
        "Ma commande {near} du {near} d'un montant de {near} n'est pas arrivée.",
        "Le colis {near} est bloqué depuis le {near} à {near}.",
        "rappelez-moi au {phone} svp",
        "carte {card} exp {expiry} {cvv}",
    ),
    "de": (
        "Hallo, meine Kreditkarte {card}, gültig bis {expiry}, Prüfnummer {cvv}.",
        "Kartennummer {card}, Sicherheitscode: {cvv}",
        "Bitte überweisen Sie den Betrag auf {iban}.",
        "Sie erreichen mich unter {phone} oder {email}.",
        "Meine Steuer-ID lautet {id}.",
        "Bestellung {near} vom {near} über {near} ist nicht angekommen.",
        "Sendungsnummer {near}, Lieferung am {near}",
        "Rückruf bitte unter {phone}",
        "Karte: {card} / {cvv}",
    ),
    "es": (
        "Hola, mi tarjeta es {card}, caduca {expiry}, código de seguridad {cvv}.",
        "Número de tarjeta {card} y el CVV {cvv}",
        "Por favor, devuélvanlo a la cuenta {iban}.",
        "Pueden llamarme al {phone} o escribirme a {email}",
        "Mi DNI es {id}",
        "El pedido {near} del {near} por {near} no ha llegado.",
        "Número de seguimiento {near}, enviado el {near}",
        "mi móvil: {phone}",
        "tarjeta {card}, {cvv}",
    ),
    "nl": (
        "Hallo, mijn creditcard {card}, geldig tot {expiry}, beveiligingscode {cvv}.",
        "Kaartnummer {card} met CVC {cvv}",
        "Kunt u het terugstorten op {iban}?",
        "U kunt mij bereiken op {phone} of via {email}.",
        "Mijn BSN is {id}",
        "Bestelling {near} van {near} voor {near} is niet bezorgd.",
        "Track & trace {near} staat sinds {near} stil",
        "bel me terug op {phone}",
        "kaart {card} {cvv}",
    ),
}
_SLOT = re.compile(r"\{(\w+)\}")
_KIND_OF_SLOT = {
    "card": PiiKind.CARD,
    "cvv": PiiKind.CVV,
    "iban": PiiKind.IBAN,
    "id": PiiKind.NATIONAL_ID,
    "phone": PiiKind.PHONE,
    "email": PiiKind.EMAIL,
}


def _value(rng: random.Random, slot: str, language: str) -> str:
    if slot == "card":
        return card_number(rng)[0]
    if slot == "cvv":
        return cvv_code(rng)
    if slot == "iban":
        return iban_number(rng)
    if slot == "id":
        return national_id(rng, language)
    if slot == "phone":
        return phone_number(rng, language)
    if slot == "email":
        return email_address(rng)
    if slot == "expiry":
        return f"{rng.randint(1, 12):02d}/{rng.randint(26, 31)}"
    return _near_miss(rng)


def _fill(message: LabelledMessage, rng: random.Random, template: str) -> None:
    position = 0
    for slot in _SLOT.finditer(template):
        message.add(template[position : slot.start()])
        message.add(_value(rng, slot.group(1), message.language), _KIND_OF_SLOT.get(slot.group(1)))
        position = slot.end()
    message.add(template[position:])


def generate_corpus(*, size: int = 2000, seed: int = 14) -> list[LabelledMessage]:
    """``size`` labelled messages, the same for the same seed: one to three sentences each, in one
    language (a fifth of their sentences in another), some with near-misses only."""
    rng = random.Random(seed)
    messages = []
    for _ in range(size):
        language = rng.choice(LANGUAGES)
        message = LabelledMessage(language)
        for number in range(rng.choice((1, 1, 2, 3))):
            if number:
                message.add(rng.choice((" ", "\n", " — ", ". ")))
            spoken = rng.choice(LANGUAGES) if rng.random() < 0.2 else language
            _fill(message, rng, rng.choice(_TEMPLATES[spoken]))
        messages.append(message)
    return messages
