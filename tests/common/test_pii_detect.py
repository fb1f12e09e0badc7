"""The redaction engine (cea.common.pii): what it finds, what it leaves, and what it writes instead."""

from __future__ import annotations

import pytest

from cea.common.pii import (
    DEFAULT_POLICY,
    STRICT_POLICY,
    Finding,
    PiiKind,
    PiiPolicy,
    PolicyError,
    find_pii,
    redact_text,
    redact_value,
)


def kinds(text: str) -> list[tuple[str, str]]:
    return [(f.kind.value, f.text) for f in find_pii(text)]


# --- Cards --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "4111111111111111",
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "5555 5555 5555 4444",  # Mastercard
        "2223 0000 4841 0010",  # Mastercard 2-series
        "3782 822463 10005",  # Amex, 15 digits, 4-6-5
        "378282246310005",
        "3056 930902 5904",  # Diners, 14 digits
        "6011 1111 1111 1117",  # Discover
        "3530 1113 3330 0000",  # JCB
        "6759649826438453",  # Maestro
        "4222222222222",  # Visa, 13 digits
    ],
)
def test_a_luhn_valid_card_number_is_found_however_it_is_grouped(written):
    # Given a message with a card number written in one of the usual ways
    text = f"my card is {written} thanks"

    # When it is searched
    found = find_pii(text)

    # Then the whole number is one card finding, at its place
    start = text.index(written)
    assert found == [Finding(PiiKind.CARD, start, start + len(written), written)]


@pytest.mark.parametrize(
    "near_miss",
    [
        "4111 1111 1111 1112",  # Luhn check digit wrong
        "1234567812345678",  # Luhn-invalid
        "0000 0000 0000 0000 0",  # no issuer starts with 0
        "79927398713",  # Luhn-valid but 11 digits
        "352099001761481",  # an IMEI: Luhn-valid, 15 digits, not Amex
        "00340434161094042557",  # an SSCC tracking number, 20 digits
        "order 2024-0001-7788",
        "12.03.2024",
    ],
)
def test_a_number_that_only_looks_like_a_card_is_left_alone(near_miss):
    assert redact_text(f"ref {near_miss} ok", policy=DEFAULT_POLICY) == f"ref {near_miss} ok"


def test_a_card_becomes_its_first_six_and_last_four_digits_by_default():
    assert redact_text("pay with 4111 1111 1111 1111 now", policy=DEFAULT_POLICY) == "pay with 411111******1111 now"
    assert redact_text("amex 3782-822463-10005", policy=DEFAULT_POLICY) == "amex 378282*****0005"


def test_a_card_becomes_its_label_or_the_generic_mask_when_the_policy_says_so():
    assert redact_text("card 4111111111111111", policy=PiiPolicy(card="label")) == "card [CARD]"
    assert redact_text("card 4111111111111111", policy=PiiPolicy(card="generic")) == "card [PII]"


def test_a_card_glued_to_a_word_or_a_country_code_is_not_read_from_inside_it():
    assert kinds("ABC4111111111111111") == []
    assert kinds("+4111111111111111") == []


# --- Security codes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("CVV 123", "123"),
        ("cvc: 4567", "4567"),
        ("the security code is 321", "321"),
        ("cryptogramme visuel : 987", "987"),
        ("code de sécurité 555", "555"),
        ("Prüfnummer 246", "246"),
        ("Kartenprüfnummer: 135", "135"),
        ("código de seguridad 802", "802"),
        ("beveiligingscode 719", "719"),
        ("CSC=612", "612"),
        ("123 is my cvv", "123"),
    ],
)
def test_a_security_code_after_a_cue_word_is_found_in_every_language(text, code):
    found = find_pii(text)
    assert [(f.kind, f.text) for f in found] == [(PiiKind.CVV, code)]
    assert redact_text(text, policy=DEFAULT_POLICY) == text.replace(code, "[CVV]")


def test_a_lone_three_digit_number_right_after_a_card_is_its_security_code():
    assert redact_text("4111111111111111 123", policy=DEFAULT_POLICY) == "411111******1111 [CVV]"
    assert redact_text("card 4111-1111-1111-1111, 12/27, 123", policy=DEFAULT_POLICY) == (
        "card 411111******1111, 12/27, [CVV]"
    )


def test_an_expiry_year_after_a_card_is_not_taken_for_its_code():
    assert kinds("4111 1111 1111 1111 expires 2027") == [("card", "4111 1111 1111 1111")]


def test_a_number_far_from_a_card_or_after_another_number_is_not_a_code():
    text = "card 4111111111111111 and your order number 778899 of 12 items, 123 left in stock"
    assert kinds(text) == [("card", "4111111111111111")]


def test_without_a_cue_or_a_card_a_three_digit_number_is_left_alone():
    assert kinds("room 123, floor 4") == []


def test_security_codes_are_removed_whatever_the_policy():
    for mode in ("partial", "label", "generic"):
        assert redact_text("cvv 123", policy=PiiPolicy(card=mode)) == "cvv [CVV]"


def test_a_card_written_like_a_shorter_card_and_its_code_is_masked_whole():
    # Given 19 digits in 4-4-4-4-3 that are a valid card, and whose first 16 are one too
    # (4111 1111 1111 1111 is valid; so is the 19-digit reading with 003)
    text = "4111 1111 1111 1111 003"
    assert kinds(text) == [("card", text)]

    # Then masking it to first six and last four would show the code: the label is written
    assert redact_text(text, policy=DEFAULT_POLICY) == "[CARD]"


# --- IBANs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "DE89 3704 0044 0532 0130 00",
        "DE89370400440532013000",
        "GB82 WEST 1234 5698 7654 32",
        "fr1420041010050500013m02606",
    ],
)
def test_an_iban_with_or_without_spaces_is_found(written):
    text = f"IBAN: {written}, BIC COBADEFFXXX"
    assert kinds(text) == [("iban", written)]
    assert redact_text(text, policy=DEFAULT_POLICY) == "IBAN: [IBAN], BIC COBADEFFXXX"


def test_an_iban_with_wrong_check_digits_is_left_alone():
    assert kinds("IBAN DE88 3704 0044 0532 0130 00") == []


def test_the_card_like_digits_inside_an_iban_stay_part_of_the_iban():
    found = find_pii("NL91 ABNA 0417 1643 00 and DE89 3704 0044 0532 0130 00")
    assert [f.kind for f in found] == [PiiKind.IBAN, PiiKind.IBAN]


# --- National ids -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "536-90-4399",  # US SSN
        "1 85 05 78 006 084 91",  # FR NIR, spaced
        "185057800608491",  # FR NIR
        "36 574 261 809",  # DE Steuer-IdNr
        "12345678Z",  # ES DNI
        "X1234567L",  # ES NIE
        "111222333",  # NL BSN
        "RSSMRA85T10A562S",  # IT codice fiscale
        "850709-9805",  # SE personnummer
    ],
)
def test_a_national_id_with_valid_check_digits_is_found(written):
    assert kinds(f"my id is {written}.") == [("national_id", written)]


@pytest.mark.parametrize(
    "near_miss",
    ["000-12-3456", "666-12-3456", "12345678A", "111222334", "RSSMRA85T10A562T", "19850709-9806", "36 574 261 808"],
)
def test_a_national_id_with_wrong_check_digits_is_left_alone(near_miss):
    assert kinds(f"ref {near_miss}") == []


# --- Phones and e-mail ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "+44 7911 123456",
        "+33 6 12 34 56 78",
        "06 12 34 56 78",
        "06.12.34.56.78",
        "0033 6 12 34 56 78",
        "0151 23456789",
        "+49 30 12345678",
        "612 345 678",
        "06-12345678",
        "(415) 234-5678",
        "+1 415-234-5678",
    ],
)
def test_a_phone_number_national_or_international_is_found(written):
    assert kinds(f"call me on {written} tomorrow") == [("phone", written)]


def test_a_number_that_is_a_phone_and_a_national_id_is_a_phone_after_a_phone_word():
    # 612345609 passes the Dutch BSN's 11-test too
    assert kinds("BSN 612345609") == [("national_id", "612345609")]
    assert kinds("mi móvil: 612345609") == [("phone", "612345609")]


def test_a_bare_national_number_is_a_phone_only_after_a_phone_word():
    assert kinds("llámame al 612345678") == [("phone", "612345678")]
    assert kinds("order 612345678 shipped") == []


@pytest.mark.parametrize("near_miss", ["01.02.2024", "2024-03-12", "€1.234,56", "10:30", "75008", "v2.3.1"])
def test_dates_amounts_times_and_postcodes_are_not_phones(near_miss):
    assert kinds(f"on {near_miss} ok") == []


@pytest.mark.parametrize(
    "timestamp", ["2026-12-06 20:29:34.747475+00:00", "2026-12-06 20:29", "06/12/2026 20:29", "12.06.2026 08:15:00"]
)
def test_a_timestamp_a_log_line_or_an_export_carries_is_not_a_phone(timestamp):
    # A date followed by its hour reads like a grouped national number; the time after it says otherwise.
    assert kinds(f"older than {timestamp} ok") == []


def test_a_phone_number_followed_by_a_time_of_day_is_still_a_phone():
    assert kinds("ring +44 7911 123456 at 10:30") == [("phone", "+44 7911 123456")]


def test_email_addresses_are_found_with_dots_plus_and_accents():
    text = "write to jo.doe+shop@example.co.uk or zoë.müller@web.example.de."
    assert kinds(text) == [("email", "jo.doe+shop@example.co.uk"), ("email", "zoë.müller@web.example.de")]
    assert redact_text(text, policy=DEFAULT_POLICY) == "write to [EMAIL] or [EMAIL]."


def test_a_handle_or_an_address_without_a_domain_is_not_an_email():
    assert kinds("@support and user@localhost") == []


# --- Mixed text, overlaps, policy ---------------------------------------------------------------


def test_a_mixed_message_is_redacted_kind_by_kind():
    text = (
        "Bonjour, carte 4111 1111 1111 1111 exp 09/28 cryptogramme 737, IBAN FR14 2004 1010 0505 0001 3M02 606, "
        "tél 06 12 34 56 78, mail marie@example.fr, commande n° 48213377 du 12/03/2024 (59,90 €)."
    )
    assert redact_text(text, policy=DEFAULT_POLICY) == (
        "Bonjour, carte 411111******1111 exp 09/28 cryptogramme [CVV], IBAN [IBAN], "
        "tél [PHONE], mail [EMAIL], commande n° 48213377 du 12/03/2024 (59,90 €)."
    )


def test_a_card_wins_over_a_phone_reading_of_the_same_digits():
    # 16 digits after "+" are not a card; the same digits after a space are, not a phone
    assert kinds("tel 4111 1111 1111 1111") == [("card", "4111 1111 1111 1111")]


def test_every_mode_of_every_kind():
    text = "a@example.com 06 12 34 56 78 DE89370400440532013000 536-90-4399"
    assert redact_text(text, policy=STRICT_POLICY) == "[EMAIL] [PHONE] [IBAN] [NATIONAL_ID]"
    everything_generic = PiiPolicy(iban="generic", national_id="generic", phone="generic", email="generic")
    assert redact_text(text, policy=everything_generic) == "[PII] [PII] [PII] [PII]"
    everything_kept = PiiPolicy(iban="keep", national_id="keep", phone="keep", email="keep")
    assert redact_text(text, policy=everything_kept) == text


@pytest.mark.parametrize("mode", ["keep", "clear", ""])
def test_a_policy_never_keeps_a_card_in_clear(mode):
    with pytest.raises(PolicyError):
        PiiPolicy(card=mode)


def test_partial_is_for_cards_only():
    with pytest.raises(PolicyError, match="card numbers only"):
        PiiPolicy(email="partial")


def test_a_policy_from_strings_refuses_unknown_kinds():
    assert PiiPolicy.from_modes({"email": "keep"}) == PiiPolicy(email="keep")
    with pytest.raises(PolicyError, match="cvv"):
        PiiPolicy.from_modes({"cvv": "keep"})


def test_text_without_personal_data_is_returned_as_it_is():
    text = "Hello, where is my parcel? It was due on Monday."
    assert redact_text(text) is text
    assert redact_text("") == ""


# --- Values -----------------------------------------------------------------------------------


def test_redact_value_goes_through_nested_json_and_keeps_keys_and_other_values():
    payload = {
        "email": "jo@example.com",
        "customer": {"phones": ["+44 7911 123456", "n/a"], "age": 42, "vip": True, "note": None},
        "pan": 4111111111111111,
        "lines": ({"text": "card 5555555555554444 cvv 123"}, 3.5),
        "4111111111111111": "key kept",
    }
    assert redact_value(payload, policy=DEFAULT_POLICY) == {
        "email": "[EMAIL]",
        "customer": {"phones": ["[PHONE]", "n/a"], "age": 42, "vip": True, "note": None},
        "pan": "411111******1111",
        "lines": ({"text": "card 555555******4444 cvv [CVV]"}, 3.5),
        "4111111111111111": "key kept",
    }


def test_redact_value_leaves_the_input_unchanged():
    payload = {"email": ["jo@example.com"]}
    redact_value(payload, policy=DEFAULT_POLICY)
    assert payload == {"email": ["jo@example.com"]}
