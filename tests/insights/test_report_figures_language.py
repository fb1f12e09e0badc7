"""The report page writes its figures with the active language's decimal and thousands marks; the
exports keep raw numbers (tests/insights/test_reports.py)."""

from __future__ import annotations

import pytest
from django.utils import translation

from insights.reports.tables import format_value


@pytest.mark.parametrize(
    ("unit", "value", "english", "german"),
    [
        ("count", 12345.0, "12,345", "12.345"),
        ("percent", 33.333, "33.3%", "33,3%"),
        ("seconds", 1234.56, "1,234.6 s", "1.234,6 s"),
        ("per_hour", 1234.567, "1,234.57", "1.234,57"),
        ("percent", None, "—", "—"),
    ],
)
def test_a_figure_reads_in_the_marks_of_the_language(unit, value, english, german):
    # Given a figure of a report
    # When the page writes it in English and in German
    with translation.override("en-gb"):
        in_english = format_value(unit, value)
    with translation.override("de"):
        in_german = format_value(unit, value)
    # Then each uses its own decimal and thousands marks, the digits the same
    assert (in_english, in_german) == (english, german)
