"""SMS rules: GSM-7 or UCS-2, and how many segments a text is sent as (160/153, 70/67)."""

from __future__ import annotations

import pytest

from cea.common.errors import ValidationFailed
from engagement.adapters.sms_rules import GSM7, UCS2, sms_check, sms_shape


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", GSM7, 0, 1),
        ("Your engineer arrives at 10:00.", GSM7, 31, 1),
        ("a" * 160, GSM7, 160, 1),
        ("a" * 161, GSM7, 161, 2),
        ("a" * 306, GSM7, 306, 2),
        ("a" * 307, GSM7, 307, 3),
        ("Price: 10€ [incl. VAT]", GSM7, 25, 1),  # € [ ] take two septets each
        ("Ça coûte 10 £", UCS2, 13, 1),  # û is not in the GSM alphabet (Ç and £ are)
        ("ж" * 70, UCS2, 70, 1),
        ("ж" * 71, UCS2, 71, 2),
        ("ж" * 134, UCS2, 134, 2),
        ("ж" * 135, UCS2, 135, 3),
        ("Thanks 👍", UCS2, 9, 1),  # an emoji outside the BMP is two UTF-16 units
    ],
)
def test_a_texts_encoding_and_segments(text, encoding, units, segments):
    # When
    shape = sms_shape(text)
    # Then
    assert (shape.encoding, shape.units, shape.segments) == (encoding, units, segments)


def test_an_extension_character_is_never_split_across_segments():
    # Given: 152 septets, then a € (two septets) that no longer fits the first 153-septet segment
    text = "a" * 152 + "€" + "b" * 10
    # When
    shape = sms_shape(text)
    # Then: the € starts the second segment: 2 + 10 septets used there
    assert (shape.segments, shape.remaining) == (2, 153 - 12)


def test_an_emoji_is_never_split_across_segments():
    # Given: 66 units, then an emoji (two units) that does not fit the first 67-unit segment
    text = "ж" * 66 + "👍" + "ж" * 5
    # When
    shape = sms_shape(text)
    # Then: the emoji starts the second segment: 2 + 5 units used there
    assert (shape.segments, shape.remaining) == (2, 67 - 7)


def test_a_text_longer_than_the_maximum_segments_is_refused_with_the_reason(settings):
    # Given
    settings.CEA_SMS_MAX_SEGMENTS = 2
    # When
    with pytest.raises(ValidationFailed) as refused:
        sms_check("ж" * 135)
    # Then
    assert refused.value.code == "too_many_segments"
    assert "3 segments" in refused.value.fields["body"][0]
    assert "UCS-2" in refused.value.message
    assert sms_check("ж" * 134).segments == 2
