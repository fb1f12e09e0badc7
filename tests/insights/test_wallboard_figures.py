"""How the wallboard writes a figure: one decimal, in the active language's decimal mark, or a dash."""

from __future__ import annotations

import pytest
from django.utils import translation

from insights.templatetags.wallboard import figure


@pytest.mark.parametrize(
    ("language", "value", "shown"),
    [
        ("en-gb", 81.26, "81.3%"),
        ("de", 81.26, "81,3%"),
        ("en-gb", 100.0, "100%"),
        ("de", 100.0, "100%"),
        ("de", None, "–"),
    ],
)
def test_a_figure_has_the_decimal_mark_of_the_language(language, value, shown):
    # Given a service level figure
    # When the wallboard writes it in a language
    with translation.override(language):
        written = figure(value, "%")
    # Then its decimal mark is that language's, a whole number without decimals
    assert written == shown
