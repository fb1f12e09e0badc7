"""The scrubber: a customer's identifiers replaced wherever they are quoted, and nothing else."""

from __future__ import annotations

from records.privacy.scrub import ERASED, Scrubber, sanitised_payload


def test_identifiers_are_replaced_as_whole_words_in_any_case_longest_first():
    scrubber = Scrubber.of(["Ann", "Ann Lee", "AB1 2CD"])

    assert scrubber.text("ann lee lives at ab1 2cd; Annual review for ANN") == (
        f"{ERASED} lives at {ERASED}; Annual review for {ERASED}"
    )


def test_a_phone_is_found_in_its_national_international_and_digit_spellings():
    scrubber = Scrubber.of([], phones=["+447911123456"])

    assert scrubber.text("call 07911 123456 or +44 7911 123456 or 447911123456") == (
        f"call {ERASED} or {ERASED} or {ERASED}"
    )
    assert "+447911123456" in scrubber.strong


def test_json_is_scrubbed_recursively_keys_included_and_short_or_empty_identifiers_are_ignored():
    scrubber = Scrubber.of(["jo@example.org", "", None, "Al"], strong=["ACC-1"])

    assert scrubber.value({"jo@example.org": ["see ACC-1", 3, {"who": "Al"}]}) == {
        ERASED: [f"see {ERASED}", 3, {"who": "Al"}]
    }
    assert scrubber.strong == ("ACC-1",)


def test_a_payload_keeps_numbers_booleans_and_descriptive_strings_only():
    assert sanitised_payload({"status": "open", "amount": 5, "ok": True, "email": "x@y.z", "nested": {"a": 1}}) == {
        "status": "open",
        "amount": 5,
        "ok": True,
    }
    assert sanitised_payload(["not", "a", "dict"]) == {}
