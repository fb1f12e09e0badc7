"""Rules the server enforces that JSON Schema can state are stated in the OpenAPI description.

Each test reads the request component from ``/api/schema/`` and checks the rule against values
the server accepts and refuses, with the same regular expressions a validator uses.
"""

from __future__ import annotations

import json
import re

import pytest

from cea.common.openapi import BLANK, NOT_BLANK

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def components(django_db_blocker):
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        schema = json.loads(APIClient().get("/api/schema/", {"format": "json"}).content)
    return schema["components"]["schemas"]


def matches(schema: dict, value: str) -> bool:
    return re.search(schema["pattern"], value) is not None


def test_a_required_string_says_it_is_not_blank_after_trimming(components):
    # When the branch check-in's visit id is read
    visit_id = components["BranchCheckInRequest"]["properties"]["visit_id"]
    # Then it needs a character that is not whitespace, as the server trims before it checks
    assert visit_id["pattern"] == NOT_BLANK
    assert [matches(visit_id, v) for v in ["v-1", " v ", "   ", "\t\n"]] == [True, True, False, False]


def test_a_string_that_may_be_blank_has_no_pattern(components):
    # When the app message's optional customer identifier is read
    identifier = components["AppMessageRequest"]["properties"]["customer_identifier"]
    # Then a blank one is allowed
    assert "pattern" not in identifier


def test_an_otp_code_is_six_digits_with_spaces_and_dashes_ignored(components):
    # When the OTP check's code is read
    code = components["OtpCheckInputRequest"]["properties"]["code"]
    # Then the pattern takes what the server takes, and refuses the rest
    values = ["123456", " 123-456 ", "12 34 56", "12345", "1234567", "12345a", "１２３４５６"]
    assert [v for v in values if matches(code, v)] == ["123456", " 123-456 ", "12 34 56"]


def test_a_language_is_a_bcp_47_tag(components):
    # When the customer's language is read (create and update)
    for name in ("CustomerCreateRequest", "PatchedCustomerInputRequest"):
        language = components[name]["allOf"][0]["properties"]["language"]
        # Then the pattern is the server's rule, around whitespace the server trims
        values = ["en", "pt-BR", " fr-CA ", "EN", "english_uk", "e"]
        assert [v for v in values if matches(language, v)] == ["en", "pt-BR", " fr-CA "]


def test_an_ivr_input_is_digits_or_speech_not_both(components):
    # When the IVR input is read
    ivr = components["IvrInputRequest"]
    # Then one of the two is blank (after trimming)
    assert ivr["anyOf"] == [
        {"properties": {"digits": {"pattern": BLANK}}},
        {"properties": {"speech": {"pattern": BLANK}}},
    ]


def test_a_presence_takes_a_reason_with_away_only(components):
    # When the presence input is read
    presence = components["PresenceInputRequest"]
    # Then away needs a reason and the others take none (or a blank one); OpenAPI 3.0 has no const
    assert presence["oneOf"] == [
        {
            "properties": {"presence": {"pattern": "^away$"}, "reason": {"pattern": NOT_BLANK}},
            "required": ["reason"],
        },
        {"properties": {"presence": {"not": {"pattern": "^away$"}}, "reason": {"pattern": BLANK}}},
    ]


def test_blank_means_what_drfs_trim_strips():
    # Given every character that str.strip() (DRF's trim) removes, and some it keeps
    whitespace = [chr(code) for code in range(0x3000 + 1) if chr(code).isspace()]
    # Then "not blank" matches none of them alone and "blank" matches all of them together
    assert [char for char in whitespace if re.search(NOT_BLANK, char)] == []
    assert re.fullmatch(BLANK, "".join(whitespace))
    # And a character that stays after trimming is not blank
    assert re.search(NOT_BLANK, " \u0085a") and not re.fullmatch(BLANK, " a ")
