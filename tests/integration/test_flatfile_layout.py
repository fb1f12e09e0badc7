"""Record layouts of flat files: COBOL pictures, signs, implied decimals, dates, validation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from integration.connectors.flatfile.layout import FieldError, LayoutError, layout_from_settings
from integration.sample_systems import customer_master


def _parser(*fields):
    return layout_from_settings({"format": "fixed", "layout": list(fields)}).fixed_parser()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0000012345{", Decimal("1234.50")),  # positive zero overpunched
        ("0000012345A", Decimal("1234.51")),
        ("0000012345I", Decimal("1234.59")),
        ("0000012345}", Decimal("-1234.50")),  # negative zero overpunched
        ("0000012345J", Decimal("-1234.51")),
        ("0000012345R", Decimal("-1234.59")),
        ("00000123455", Decimal("1234.55")),  # no sign: positive
        ("-0000012345", Decimal("-123.45")),  # leading sign (then 10 digits: within 11)
        ("+0000012345", Decimal("123.45")),
        ("0000012345-", Decimal("-123.45")),  # trailing sign
        ("           ", None),
        ("   -1234.5 ", Decimal("-1234.50")),  # an explicit point
    ],
)
def test_signed_implied_decimal_reads_overpunch_and_sign_positions(raw, expected):
    # Given a PIC S9(9)V99 field of 11 characters
    parse = _parser({"name": "BALANCE", "start": 1, "length": 11, "type": "PIC S9(9)V99"})

    # When a line is read, then the amount has two implied decimals and the sign wherever it was written
    assert parse(raw)["BALANCE"] == expected


def test_separate_leading_sign_field_is_one_longer_than_its_digits():
    parse = _parser({"name": "ARREARS", "start": 1, "length": 10, "type": "PIC S9(7)V99"})

    assert parse("-000012345")["ARREARS"] == Decimal("-123.45")
    assert parse("+000012345")["ARREARS"] == Decimal("123.45")


def test_unsigned_integer_and_implied_decimal_pictures():
    parse = _parser(
        {"name": "COUNT", "start": 1, "length": 5, "type": "PIC 9(5)"},
        {"name": "LIMIT", "start": 6, "length": 7, "type": "PIC 9(5)V99"},
        {"name": "RATE", "start": 13, "length": 4, "type": "PIC 99V99"},
    )

    row = parse("0004200123450035")

    assert row == {"COUNT": 42, "LIMIT": Decimal("123.45"), "RATE": Decimal("0.35")}


def test_unsigned_field_refuses_a_sign_and_letters():
    parse = _parser({"name": "LIMIT", "start": 1, "length": 7, "type": "PIC 9(5)V99"})

    with pytest.raises(FieldError, match="LIMIT: '-012345' is not a number"):
        parse("-012345")
    with pytest.raises(FieldError, match="LIMIT: '00012A4' is not a number"):
        parse("00012A4")


@pytest.mark.parametrize(
    ("date_format", "raw", "expected"),
    [
        ("YYYYMMDD", "19800229", date(1980, 2, 29)),
        ("DDMMYY", "290280", date(1980, 2, 29)),  # a two-digit year after this year is last century
        ("DDMMYY", "010120", date(2020, 1, 1)),
        ("DD/MM/YYYY", "01/12/1999", date(1999, 12, 1)),
        ("YYYY-MM-DD", "2001-07-04", date(2001, 7, 4)),
        ("YYYYMMDD", "00000000", None),
        ("YYYYMMDD", "        ", None),
    ],
)
def test_dates_in_their_format(date_format, raw, expected):
    parse = _parser({"name": "D", "start": 1, "length": len(date_format), "type": "date", "format": date_format})

    assert parse(raw)["D"] == expected


def test_impossible_date_is_a_field_error():
    parse = _parser({"name": "BORN", "start": 1, "length": 8, "type": "date", "format": "YYYYMMDD"})

    with pytest.raises(FieldError, match=r"BORN: '19801341' is not a date \(YYYYMMDD\)"):
        parse("19801341")


def test_short_line_and_several_bad_fields_are_reported_together():
    parse = _parser(
        {"name": "A", "start": 1, "length": 3, "type": "PIC 9(3)"},
        {"name": "B", "start": 4, "length": 3, "type": "PIC 9(3)"},
    )

    with pytest.raises(FieldError, match="the line is 4 characters long; the layout needs 6"):
        parse("1234")
    with pytest.raises(FieldError, match="A: 'x12' is not a number; B: 'y34' is not a number"):
        parse("x12y34")


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ([], "layout is a non-empty list of fields"),
        ([{"start": 1, "length": 2}], "Field 1: a name is required"),
        ([{"name": "A", "start": 0, "length": 2}], "start is a position counted from 1"),
        ([{"name": "A", "start": 1, "length": 2, "type": "PIC 9(3)"}], "holds 3 characters but the length is 2"),
        ([{"name": "A", "start": 1, "length": 5, "type": "PIC S9(3)"}], r"holds 3 \(or 4 with a separate sign\)"),
        ([{"name": "A", "start": 1, "length": 3, "type": "PIC X(4)"}], "PIC X\\(4\\) is 4 characters"),
        ([{"name": "A", "start": 1, "length": 6, "type": "date", "format": "MMYYYY"}], "a date format has DD, MM"),
        ([{"name": "A", "start": 1, "length": 2, "type": "COMP-3"}], "unknown type 'COMP-3'"),
        (
            [{"name": "A", "start": 1, "length": 3}, {"name": "B", "start": 3, "length": 2}],
            "Fields 'A' and 'B' overlap",
        ),
        ([{"name": "A", "start": 1, "length": 3}, {"name": "A", "start": 4, "length": 2}], "Fields named twice: A"),
        (["CUST-NO"], "^Field 1: each field is an object with a name and a type.$"),
        ([{"name": "A", "start": "1", "length": 2}], "^Field 'A': start is a position counted from 1.$"),
        ([{"name": "A", "start": 1, "length": True}], "^Field 'A': length is a positive number of characters.$"),
        ([{"name": "A", "start": 1, "length": 8, "type": "date", "format": "YYYYMMDD"}, {}], "^Field 2: a name is"),
        ([{"name": "A", "start": 1, "length": 7, "type": "date", "format": "YYYYMMDD"}], "is 8 characters, not 7"),
    ],
)
def test_layout_validation_names_the_problem(layout, message):
    with pytest.raises(LayoutError, match=message):
        layout_from_settings({"format": "fixed", "layout": layout})


@pytest.mark.parametrize(
    ("connector_settings", "message"),
    [
        ({"format": "xml", "layout": [{"name": "A"}]}, "^format is 'fixed' \\(fixed-width\\) or 'csv'.$"),
        ({"format": "csv", "layout": {"name": "A"}}, "^layout is a non-empty list of fields.$"),
        ({"format": "csv"}, "^layout is a non-empty list of fields.$"),
        (
            {"format": "csv", "layout": [{"name": "A", "index": -1}]},
            "^Field 'A': index is a column number counted from 0.$",
        ),
        (
            {"format": "csv", "layout": [{"name": "A", "index": "2"}]},
            "^Field 'A': index is a column number counted from 0.$",
        ),
        ({"format": "csv", "layout": [{"name": "A", "type": 9}]}, "^Field 'A': a type is text; use text, date"),
    ],
)
def test_csv_layout_and_format_validation_name_the_problem(connector_settings, message):
    # Given settings with one thing wrong, when the layout is read, then the error says which and why
    with pytest.raises(LayoutError, match=message):
        layout_from_settings(connector_settings)


def test_csv_layout_finds_columns_by_header_name_or_index():
    layout = layout_from_settings(
        {
            "format": "csv",
            "layout": [
                {"name": "id", "type": "text"},
                {"name": "balance", "column": "BAL", "type": "PIC S9(5)V99"},
                {"name": "born", "index": 2, "type": "date", "format": "DDMMYYYY"},
            ],
        }
    )

    parse = layout.csv_parser(["id", "BAL", "DOB"])

    assert parse(["C1", "-0012345", "01021990"]) == {
        "id": "C1",
        "balance": Decimal("-123.45"),
        "born": date(1990, 2, 1),
    }


def test_the_sample_extract_layout_is_valid_and_reads_its_own_lines(tmp_path):
    # Given the customer master's layout and one of its detail lines
    parse = layout_from_settings(customer_master.connector_settings(tmp_path)).fixed_parser()
    record = next(customer_master.records(1, first=5000, demo=False))
    line = customer_master.detail_line(record)

    # When the line is read, then every typed field comes back as written
    row = parse(line)
    assert row["CUST-NO"] == "CUST005000"
    assert row["BALANCE"] == record.balance
    assert row["CREDIT-LIMIT"] == record.credit_limit
    assert row["BIRTH-DATE"] == record.date_of_birth
    assert row["OPENED"] == record.opened
    assert row["ARREARS"] == -record.arrears_months


def test_overpunch_encoding_of_the_sample_system():
    assert customer_master.overpunch(Decimal("1234.50"), 11) == "0000012345{"
    assert customer_master.overpunch(Decimal("-1234.59"), 11) == "0000012345R"
