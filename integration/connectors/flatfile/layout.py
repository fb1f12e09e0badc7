"""Record layouts of flat files: fixed-width mainframe extracts (COBOL pictures) and CSV.

A layout is a list of fields, as kept in the connector's settings (JSON)::

    {"name": "CUST-NO", "start": 1, "length": 10, "type": "PIC X(10)"}
    {"name": "BALANCE", "start": 120, "length": 11, "type": "PIC S9(9)V99"}
    {"name": "BIRTH-DATE", "start": 80, "length": 8, "type": "date", "format": "YYYYMMDD"}

``start`` counts from 1 (as record layouts in copybooks are printed); CSV fields have no start or
length and are found by ``column`` (a header name, default the field's name) or ``index``.
``layout_from_settings`` checks a layout before anything is read (DRF serializers, at the end of
this module): each refusal names the field (``Field 'BALANCE': …``) or its number.

Types:

- ``text`` or ``PIC X(n)``: the characters, trailing and leading blanks removed;
- ``PIC 9(n)``: an unsigned integer (all blanks: empty);
- ``PIC 9(n)V99`` / ``PIC 9(n)V9(m)``: unsigned with ``m`` implied decimals (no point in the data);
- ``PIC S9(n)`` / ``PIC S9(n)V99``: signed. The sign is a leading ``+``/``-`` (the field is one
  character longer than its digits), a trailing ``+``/``-``, or overpunched on the last digit
  (``{ A-I`` positive 0-9, ``} J-R`` negative 0-9), as IBM zoned decimals print in EBCDIC→ASCII;
- a decimal written with its point (CSV exports: ``-12.50``) is read as written, with at most
  the picture's decimals;
- ``date`` with ``format`` made of ``YYYY``, ``YY``, ``MM``, ``DD`` and separators (``YYYYMMDD``,
  ``DDMMYY``, ``YYYY-MM-DD`` …); blanks or zeros are empty; a two-digit year later than this
  year is in the last century (birth dates, account openings).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from rest_framework import serializers

from cea.common.serializers import CharField, WholeNumberField
from integration.validation import messages_of, one_message, optional_text

_PIC = re.compile(r"^PIC\s+(?P<signed>S)?(?P<int>9\((?P<n>\d+)\)|9+)(?:V(?P<frac>9\((?P<m>\d+)\)|9+))?$", re.IGNORECASE)
_PIC_TEXT = re.compile(r"^PIC\s+X(?:\((?P<n>\d+)\)|(?P<xs>X*))$", re.IGNORECASE)
_DATE_TOKENS = re.compile(r"YYYY|YY|MM|DD")
# Overpunched last digit: the zone carries the sign.
_OVERPUNCH = {
    **{"{": ("+", "0"), "}": ("-", "0")},
    **{chr(ord("A") + i): ("+", str(i + 1)) for i in range(9)},
    **{chr(ord("J") + i): ("-", str(i + 1)) for i in range(9)},
}


class LayoutError(ValueError):
    """The layout itself is wrong (a configuration error, not a bad line)."""


class FieldError(ValueError):
    """A value in a line does not fit its field's type."""


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # text, integer, decimal, date
    start: int = 0  # 0-based, fixed width only
    length: int = 0
    digits: int = 0
    scale: int = 0
    signed: bool = False
    date_format: str = ""
    column: str = ""
    index: int | None = None

    def parse(self, raw: str) -> Any:
        """The typed value of ``raw``; raises ``FieldError``."""
        if self.kind == "text":
            return raw.strip()
        if self.kind == "date":
            return _parse_date(raw, self.date_format, self.name)
        return _parse_number(raw, self)


def _parse_number(raw: str, spec: Field) -> int | Decimal | None:
    text = raw.strip()
    if not text:
        return None
    sign = "+"
    if spec.signed:
        if text[0] in "+-":
            sign, text = text[0], text[1:]
        elif text[-1] in "+-":
            sign, text = text[-1], text[:-1]
        elif text[-1] in _OVERPUNCH:
            sign, last = _OVERPUNCH[text[-1]]
            text = text[:-1] + last
    if spec.kind == "decimal" and text.count(".") == 1:
        # An explicit point (CSV exports, edited pictures): at most ``scale`` decimals after it.
        whole, _, fraction = text.partition(".")
        if (whole + fraction).isdigit() and (whole + fraction).isascii() and len(fraction) <= spec.scale:
            text = whole + fraction.ljust(spec.scale, "0")
    if not text.isdigit() or not text.isascii():
        raise FieldError(f"{spec.name}: {raw.strip()!r} is not a {'signed ' if spec.signed else ''}number")
    if len(text) > spec.digits:
        raise FieldError(f"{spec.name}: {raw.strip()!r} has more than {spec.digits} digits")
    if spec.kind == "integer":
        value = int(text)
        return -value if sign == "-" else value
    value = Decimal(text).scaleb(-spec.scale)
    return -value if sign == "-" else value


def _parse_date(raw: str, date_format: str, name: str) -> date | None:
    text = raw.strip()
    if not text or not text.strip("0"):
        return None
    if len(text) != len(date_format):
        raise FieldError(f"{name}: {text!r} does not match the date format {date_format}")
    parts: dict[str, int] = {}
    for token in _DATE_TOKENS.finditer(date_format):
        piece = text[token.start() : token.end()]
        if not piece.isdigit():
            raise FieldError(f"{name}: {text!r} does not match the date format {date_format}")
        parts[token.group()] = int(piece)
    year = parts.get("YYYY")
    if year is None:
        today = date.today()
        year = 2000 + parts["YY"]
        if year > today.year:
            year -= 100
    try:
        return date(year, parts["MM"], parts["DD"])
    except ValueError:
        raise FieldError(f"{name}: {text!r} is not a date ({date_format})") from None


@dataclass(frozen=True)
class Layout:
    """A validated layout: ``parse(line)`` gives ``{field name: value}`` or raises ``FieldError``."""

    format: str  # "fixed" or "csv"
    fields: tuple[Field, ...]

    @property
    def record_length(self) -> int:
        return max((spec.start + spec.length for spec in self.fields), default=0)

    def fixed_parser(self) -> Callable[[str], dict[str, Any]]:
        """A fast parser of one fixed-width line (without its line ending)."""
        needed = self.record_length
        plans = [(spec.name, spec.start, spec.start + spec.length, spec) for spec in self.fields]

        def parse(line: str) -> dict[str, Any]:
            if len(line) < needed:
                raise FieldError(f"the line is {len(line)} characters long; the layout needs {needed}")
            row: dict[str, Any] = {}
            problems = []
            for name, start, end, spec in plans:
                raw = line[start:end]
                if spec.kind == "text":
                    row[name] = raw.strip()
                    continue
                try:
                    row[name] = spec.parse(raw)
                except FieldError as error:
                    problems.append(str(error))
            if problems:
                raise FieldError("; ".join(problems))
            return row

        return parse

    def csv_parser(self, header: Sequence[str] | None) -> Callable[[Sequence[str]], dict[str, Any]]:
        """A parser of one CSV row (already split), with the file's header row if it has one."""
        positions = []
        for spec in self.fields:
            if spec.index is not None:
                positions.append((spec, spec.index))
            elif header is not None and spec.column in header:
                positions.append((spec, list(header).index(spec.column)))
            else:
                raise LayoutError(f"Field {spec.name!r}: no column {spec.column!r} in the header and no index.")

        def parse(cells: Sequence[str]) -> dict[str, Any]:
            row: dict[str, Any] = {}
            problems = []
            for spec, position in positions:
                if position >= len(cells):
                    problems.append(f"{spec.name}: the row has {len(cells)} columns")
                    continue
                try:
                    row[spec.name] = spec.parse(cells[position])
                except FieldError as error:
                    problems.append(str(error))
            if problems:
                raise FieldError("; ".join(problems))
            return row

        return parse


# --- Validating a layout ------------------------------------------------------------------------

_TYPES = "use text, date, PIC X(n), PIC 9(n), PIC 9(n)V99 or PIC S9(n)V99"


class _FieldSpecSerializer(serializers.Serializer):
    """One field of a layout as the settings hold it; ``validated_data`` is its ``Field``.

    The type's own rules (a picture's width, a date's format) are checked against the length in
    ``validate``; a fixed-width field has ``start`` and ``length``, a CSV one ``column``/``index``.
    """

    default_error_messages = {"invalid": "each field is an object with a name and a type."}

    name = CharField(trim_whitespace=False, error_messages=one_message("a name is required."))
    type = optional_text(f"a type is text; {_TYPES}.")
    format = optional_text("a date format is text, e.g. YYYYMMDD.", trim_whitespace=False)

    def place(self, attrs: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def validate(self, attrs: dict[str, Any]) -> Field:
        place = self.place(attrs)
        shape = _shape(attrs.get("type") or "text", attrs.get("format") or "", place.get("length"))
        return Field(name=attrs["name"], **place, **shape)


class _FixedFieldSpecSerializer(_FieldSpecSerializer):
    start = WholeNumberField(min_value=1, error_messages=one_message("start is a position counted from 1."))
    length = WholeNumberField(min_value=1, error_messages=one_message("length is a positive number of characters."))

    def place(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return {"start": attrs["start"] - 1, "length": attrs["length"]}


class _CsvFieldSpecSerializer(_FieldSpecSerializer):
    column = optional_text("column is the name of a column in the header.", trim_whitespace=False)
    index = WholeNumberField(
        required=False,
        allow_null=True,
        min_value=0,
        error_messages=one_message("index is a column number counted from 0."),
    )

    def place(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return {"column": attrs.get("column") or attrs["name"], "index": attrs.get("index")}


def _shape(type_: str, date_format: str, length: int | None) -> dict[str, Any]:
    """The ``Field`` arguments of a type (``length``: a fixed-width field's, checked against the type)."""
    if type_.lower() == "text" or _PIC_TEXT.match(type_):
        return _text_shape(type_, length)
    if type_.lower() == "date":
        return _date_shape(date_format, length)
    return _number_shape(type_, length)


def _text_shape(type_: str, length: int | None) -> dict[str, Any]:
    match = _PIC_TEXT.match(type_)
    if match and length is not None:
        width = int(match.group("n")) if match.group("n") else 1 + len(match.group("xs") or "")
        if width != length:
            raise serializers.ValidationError(f"{type_} is {width} characters but the length is {length}.")
    return {"kind": "text"}


def _date_shape(date_format: str, length: int | None) -> dict[str, Any]:
    tokens = sorted(token.group() for token in _DATE_TOKENS.finditer(date_format))
    if tokens not in (["DD", "MM", "YYYY"], ["DD", "MM", "YY"]):
        raise serializers.ValidationError("a date format has DD, MM and YYYY or YY (e.g. YYYYMMDD, DDMMYY).")
    if length is not None and len(date_format) != length:
        raise serializers.ValidationError(f"the format {date_format} is {len(date_format)} characters, not {length}.")
    return {"kind": "date", "date_format": date_format}


def _number_shape(type_: str, length: int | None) -> dict[str, Any]:
    match = _PIC.match(type_)
    if not match:
        raise serializers.ValidationError(f"unknown type {type_!r}; {_TYPES}.")
    scale = _nines(match.group("m"), match.group("frac")) if match.group("frac") else 0
    digits = _nines(match.group("n"), match.group("int")) + scale
    signed = bool(match.group("signed"))
    if length is not None and length not in (digits, digits + 1 if signed else digits):
        allowed = f"{digits}" + (f" (or {digits + 1} with a separate sign)" if signed else "")
        raise serializers.ValidationError(f"{type_} holds {allowed} characters but the length is {length}.")
    return {"kind": "decimal" if scale else "integer", "digits": digits, "scale": scale, "signed": signed}


def _nines(count: str | None, nines: str) -> int:
    """How many digits ``9(5)`` or ``99999`` stands for."""
    return int(count) if count else len(nines)


def _field(spec: Any, fixed: bool, number: int) -> Field:
    """The field ``spec`` (the ``number``-th), validated; refused with the field's name (or number) first."""
    serializer = (_FixedFieldSpecSerializer if fixed else _CsvFieldSpecSerializer)(data=spec)
    if serializer.is_valid():
        return serializer.validated_data
    named = isinstance(spec, Mapping) and "name" not in serializer.errors
    where = f"Field {spec['name']!r}" if named else f"Field {number}"
    raise serializers.ValidationError(f"{where}: {messages_of(serializer.errors)[0]}")


class _LayoutSerializer(serializers.Serializer):
    """A connector's ``format`` and ``layout`` (other settings pass); ``validated_data`` is the ``Layout``."""

    default_error_messages = {"invalid": "settings are an object with a format and a layout."}

    format = serializers.ChoiceField(
        choices=["fixed", "csv"],
        default="fixed",
        error_messages=one_message("format is 'fixed' (fixed-width) or 'csv'."),
    )
    layout = serializers.ListField(
        allow_empty=False, error_messages=one_message("layout is a non-empty list of fields.")
    )

    def validate(self, attrs: dict[str, Any]) -> Layout:
        fixed = attrs["format"] == "fixed"
        fields = tuple(_field(spec, fixed, number) for number, spec in enumerate(attrs["layout"], start=1))
        names = [spec.name for spec in fields]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise serializers.ValidationError(f"Fields named twice: {', '.join(duplicates)}.")
        if fixed:
            ordered = sorted(fields, key=lambda spec: spec.start)
            for before, after in itertools.pairwise(ordered):
                if after.start < before.start + before.length:
                    raise serializers.ValidationError(f"Fields {before.name!r} and {after.name!r} overlap.")
        return Layout(format=attrs["format"], fields=fields)


def layout_from_settings(settings: Mapping[str, Any]) -> Layout:
    """The connector's layout (``settings["format"]``, ``settings["layout"]``), validated; raises ``LayoutError``."""
    serializer = _LayoutSerializer(data=settings)
    if not serializer.is_valid():
        raise LayoutError(messages_of(serializer.errors)[0])
    return serializer.validated_data
