"""The nightly customer-master extract: a fixed-width file as a mainframe writes it.

One header line (``HDR``), one 207-character detail line per customer (``D``), one trailer line
(``TRL`` with the count). Customer ``i`` is the same person as in the other sample systems and
in CEA's demo data (``seed.demo_people`` for the demo's first customers; the same numbering
scheme beyond): customer number ``CUST<i:06d>``, phone ``+4474<i:08d>``, account ``ACC<i:08d>``.

Balances are ``PIC S9(9)V99`` with the sign overpunched on the last digit (``0001234{`` style),
arrears ``PIC S9(7)V99`` with a leading sign, the credit limit ``PIC 9(7)V99``, the birth date
``YYYYMMDD`` and the account opening date ``DDMMYY``. ``LAYOUT``, ``MAPPINGS`` and
``HOLDINGS`` are what a flat-file connector needs (``connector_settings`` puts them together).

``bad_every=n`` spoils every n-th detail line, cycling through realistic faults (a non-numeric
balance, an impossible date, a truncated line, a missing customer number, a customer without a
name); ``Extract.bad_lines`` lists their line numbers and what is wrong.

    python -m integration.sample_systems.customer_master out.dat --customers 1000 --bad-every 100

This module never imports Django (it stands in for a system outside the CEA).
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from integration.sample_systems import seed
from records.demo import vocabulary as words

SYSTEM = "customer_master"
# (name, length, type[, date format]): the copybook, field after field from position 1.
_COPYBOOK: list[tuple[str, int, str] | tuple[str, int, str, str]] = [
    ("REC-TYPE", 1, "PIC X"),
    ("CUST-NO", 12, "PIC X(12)"),
    ("FIRST-NAME", 20, "PIC X(20)"),
    ("LAST-NAME", 25, "PIC X(25)"),
    ("BIRTH-DATE", 8, "date", "YYYYMMDD"),
    ("EMAIL", 50, "PIC X(50)"),
    ("PHONE", 16, "PIC X(16)"),
    ("POSTCODE", 8, "PIC X(8)"),
    ("SEGMENT", 20, "PIC X(20)"),
    ("TIER", 8, "PIC X(8)"),
    ("ACCOUNT-NO", 11, "PIC X(11)"),
    ("BALANCE", 11, "PIC S9(9)V99"),
    ("CREDIT-LIMIT", 7, "PIC 9(5)V99"),
    ("OPENED", 6, "date", "DDMMYY"),
    ("ACCT-STATUS", 1, "PIC X"),
    ("ARREARS", 3, "PIC S9(2)"),
]


def _layout() -> list[dict[str, Any]]:
    fields, start = [], 1
    for name, length, kind, *date_format in _COPYBOOK:
        spec = {"name": name, "start": start, "length": length, "type": kind}
        if date_format:
            spec["format"] = date_format[0]
        fields.append(spec)
        start += length
    return fields


LAYOUT: list[dict[str, Any]] = _layout()
RECORD_LENGTH = sum(length for _, length, *_ in _COPYBOOK)
_AT = {spec["name"]: (spec["start"] - 1, spec["start"] - 1 + spec["length"]) for spec in LAYOUT}
MAPPINGS: dict[str, str] = {
    "external_id": "CUST-NO",
    "given_name": "FIRST-NAME",
    "family_name": "LAST-NAME",
    "date_of_birth": "BIRTH-DATE",
    "email": "EMAIL",
    "phone": "PHONE",
    "postcode": "POSTCODE",
    "segment": "SEGMENT",
    "value_tier": "TIER",
    "account_number": "ACCOUNT-NO",
}
HOLDINGS: list[dict[str, Any]] = [
    {
        "kind": "account",
        "mappings": {"external_id": "ACCOUNT-NO", "amount": "BALANCE", "status": "ACCT-STATUS"},
        "constants": {"currency": "GBP", "name": "Current account"},
    }
]
# Overpunched last digit of a signed zoned number: positive {ABCDEFGHI, negative }JKLMNOPQR.
_POSITIVE, _NEGATIVE = "{ABCDEFGHI", "}JKLMNOPQR"
BAD_KINDS = ("balance not numeric", "impossible birth date", "truncated line", "no customer number", "no name")


def connector_settings(folder: str | Path, **overrides: Any) -> dict[str, Any]:
    """Settings of a flat-file connector reading these extracts from ``folder``."""
    return {
        "folder": str(folder),
        "pattern": "CUSTMAST*.dat",
        "format": "fixed",
        "encoding": "latin-1",
        "skip_prefixes": ["HDR", "TRL"],
        "layout": LAYOUT,
        "holdings": HOLDINGS,
        "page_size": 1000,
        "after": "leave",
        **overrides,
    }


def overpunch(amount: Decimal, digits: int, scale: int = 2) -> str:
    """``amount`` as a signed zoned number of ``digits`` digits, the sign in the last one."""
    units = int((abs(amount) * 10**scale).to_integral_value())
    text = f"{units:0{digits}d}"
    zone = _NEGATIVE if amount < 0 else _POSITIVE
    return text[:-1] + zone[int(text[-1])]


@dataclass(frozen=True)
class MasterRecord:
    index: int
    customer_number: str
    given_name: str
    family_name: str
    date_of_birth: date
    email: str
    phone: str
    postcode: str
    segment: str
    value_tier: str
    account_number: str
    balance: Decimal
    credit_limit: Decimal
    opened: date
    status: str
    arrears_months: int


def records(count: int, *, first: int = 0, seed_value: int = 5, demo: bool = True) -> Iterator[MasterRecord]:
    """Customers ``first`` … ``first + count - 1``; the demo's own people where they overlap."""
    demo_people = (
        seed.demo_people(min(count + first, seed.DEMO_CUSTOMERS)) if demo and first < seed.DEMO_CUSTOMERS else []
    )
    rng = random.Random(seed_value * 1_000_003 + first)
    given_names, family_names = words.GIVEN_NAMES, words.FAMILY_NAMES
    districts = [district for _, district in words.CITIES]
    tiers = ("standard",) * 14 + ("silver",) * 4 + ("gold",) * 2 + ("platinum",)
    for i in range(first, first + count):
        balance = Decimal(rng.randint(-250_000, 2_500_000)) / 100
        credit = Decimal(rng.choice((0, 500, 1000, 2500, 5000)))
        opened = date(1995, 1, 1) + timedelta(days=rng.randrange(0, 30 * 365))
        status = "A" if balance >= 0 else rng.choice("AAD")
        arrears = 0 if balance >= 0 else rng.randint(1, 9)
        if i < len(demo_people):
            person = demo_people[i]
            yield MasterRecord(
                i, person.customer_number, person.given_name, person.family_name, person.date_of_birth,
                person.email, person.phone, person.postcode, person.segment, person.value_tier,
                person.account_number, balance, credit, opened, status, arrears,
            )  # fmt: skip
            continue
        given, family = rng.choice(given_names), rng.choice(family_names)
        yield MasterRecord(
            index=i,
            customer_number=seed.customer_number(i),
            given_name=given,
            family_name=family,
            date_of_birth=date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 66)),
            email=f"{given}.{family}.{i}@example.com".lower() if rng.random() < 0.9 else "",
            phone=f"+4474{i:08d}" if rng.random() < 0.85 else "",
            postcode=f"{rng.choice(districts)} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLN')}{rng.choice('PQRSTUWXYZ')}",
            segment=rng.choice(words.SEGMENTS),
            value_tier=rng.choice(tiers),
            account_number=f"ACC{i:08d}",
            balance=balance,
            credit_limit=credit,
            opened=opened,
            status=status,
            arrears_months=arrears,
        )


def detail_line(record: MasterRecord) -> str:
    """The record's detail line (``RECORD_LENGTH`` characters)."""
    arrears = f"{'-' if record.arrears_months else '+'}{record.arrears_months:02d}"
    line = (
        "D"
        f"{record.customer_number:<12.12}"
        f"{record.given_name:<20.20}"
        f"{record.family_name:<25.25}"
        f"{record.date_of_birth:%Y%m%d}"
        f"{record.email:<50.50}"
        f"{record.phone:<16.16}"
        f"{record.postcode:<8.8}"
        f"{record.segment:<20.20}"
        f"{record.value_tier:<8.8}"
        f"{record.account_number:<11.11}"
        f"{overpunch(record.balance, 11)}"
        f"{int(record.credit_limit * 100):07d}"
        f"{record.opened:%d%m%y}"
        f"{record.status:1.1}"
        f"{arrears}"
    )
    assert len(line) == RECORD_LENGTH, len(line)
    return line


def spoil(line: str, kind: str) -> str:
    """``line`` with the fault ``kind`` (one of ``BAD_KINDS``)."""

    def replace(name: str, value: str) -> str:
        start, end = _AT[name]
        return line[:start] + value.ljust(end - start) + line[end:]

    if kind == "balance not numeric":
        return replace("BALANCE", "00012X4567{")
    if kind == "impossible birth date":
        return replace("BIRTH-DATE", "19801341")
    if kind == "truncated line":
        return line[:120]
    if kind == "no customer number":
        return replace("CUST-NO", "")
    if kind == "no name":
        start, end = _AT["FIRST-NAME"][0], _AT["LAST-NAME"][1]
        return line[:start] + " " * (end - start) + line[end:]
    raise ValueError(kind)


@dataclass
class Extract:
    path: Path
    customers: int
    lines: int = 0
    # (line number, fault) of each spoiled line; line 1 is the header.
    bad_lines: list[tuple[int, str]] = field(default_factory=list)

    def good_customer_numbers(self) -> set[str]:
        bad = {number for number, _ in self.bad_lines}
        return {
            seed.customer_number(index)
            for index in range(self.first, self.first + self.customers)
            if index + 2 - self.first not in bad
        }

    first: int = 0


def extract_lines(
    count: int,
    *,
    first: int = 0,
    bad_every: int = 0,
    seed_value: int = 5,
    demo: bool = True,
    run_date: date | None = None,
) -> Iterator[tuple[str, str]]:
    """``(line, fault or "")`` of an extract of ``count`` customers, header and trailer included."""
    run_date = run_date or date(2026, 11, 23)
    yield f"HDR{SYSTEM.upper():<20}{run_date:%Y%m%d}".ljust(RECORD_LENGTH), ""
    spoiled = 0
    for number, record in enumerate(records(count, first=first, seed_value=seed_value, demo=demo), start=1):
        line = detail_line(record)
        if bad_every and number % bad_every == 0:
            kind = BAD_KINDS[spoiled % len(BAD_KINDS)]
            spoiled += 1
            yield spoil(line, kind), kind
        else:
            yield line, ""
    yield f"TRL{count:010d}".ljust(RECORD_LENGTH), ""


def write_extract(
    path: str | Path,
    customers: int,
    *,
    first: int = 0,
    bad_every: int = 0,
    seed_value: int = 5,
    demo: bool = True,
    run_date: date | None = None,
) -> Extract:
    """Write an extract of ``customers`` customers (from number ``first``) to ``path``."""
    path = Path(path)
    extract = Extract(path=path, customers=customers, first=first)
    with path.open("w", encoding="latin-1", newline="\n") as handle:
        for number, (line, fault) in enumerate(
            extract_lines(
                customers, first=first, bad_every=bad_every, seed_value=seed_value, demo=demo, run_date=run_date
            ),
            start=1,
        ):
            handle.write(line + "\n")
            if fault:
                extract.bad_lines.append((number, fault))
            extract.lines = number
    return extract


def main() -> None:
    parser = argparse.ArgumentParser(description="Write a customer-master extract (fixed width).")
    parser.add_argument("path")
    parser.add_argument("--customers", type=int, default=seed.DEMO_CUSTOMERS)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--bad-every", type=int, default=0)
    arguments = parser.parse_args()
    extract = write_extract(arguments.path, arguments.customers, first=arguments.first, bad_every=arguments.bad_every)
    print(f"{extract.path}: {extract.lines} lines, {len(extract.bad_lines)} spoiled")


if __name__ == "__main__":
    main()
