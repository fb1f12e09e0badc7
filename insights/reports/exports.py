"""Exports of a report: its table as CSV or XLSX, and one row per conversation of the range.

Every text cell that a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) is prefixed with a quote (OWASP's CSV injection advice): a
queue, a wrap-up code or a customer's name comes from users and integrations. Every text cell
is redacted (``cea.common.pii``) first: an export leaves the platform, so it carries no card
data and follows the redaction policy for the rest.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from openpyxl import Workbook

from cea.common.pii import redact_text
from insights.kpis.business_hours import EXPLANATION as BUSINESS_HOURS_EXPLANATION
from insights.reports.tables import ReportTable
from records.interactions.models import Interaction

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CONVERSATION_COLUMNS = [
    "Interaction",
    "Started",
    "Answered",
    "Ended",
    "Channel",
    "Direction",
    "Queue",
    "Team",
    "Agent",
    "Customer",
    "Wrap-up code",
    "Disposition",
    "Wait (s)",
    "Handle (s)",
]


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet shows it, redacted, never as a formula (numbers are kept as numbers)."""
    if isinstance(value, str):
        value = redact_text(value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return f"'{value}"
    return value


def report_rows(table: ReportTable) -> Iterator[list[Any]]:
    """The header, then one row per interval and group: interval start (ISO 8601, local), the group, each KPI
    (and its previous-period figure when compared). Empty cells where a figure has no denominator. Each KPI's
    heading says "business hours only" when the figures are restricted to them."""
    header: list[Any] = ["Interval start"]
    if table.group_by:
        header.append(table.group_label)
    hours = ", business hours only" if table.series.business_hours_only else ""
    for info in table.series.kpis:
        header.append(f"{info.label} ({info.unit}{hours})")
        if table.compared:
            header.append(f"{info.label} ({info.unit}{hours}), previous period")
    yield header
    zone = ZoneInfo(settings.TIME_ZONE)
    for row in table.rows:
        line: list[Any] = [row.interval_start.astimezone(zone).isoformat()]
        if table.group_by:
            line.append(row.group_label)
        for cell in row.cells:
            line.append(_number(cell.value))
            if table.compared:
                line.append(_number(cell.previous))
        yield line


def _number(value: float | None) -> float | int | str:
    if value is None:
        return ""
    return int(value) if float(value).is_integer() else round(value, 4)


def as_csv(rows: Iterable[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return buffer.getvalue()


def selection_rows(
    *, first_day: dt.date, last_day: dt.date, filters: Sequence[tuple[str, str]], scope: str, exported_by: str
) -> list[list[Any]]:
    """What an export holds, for its "Selection" sheet: the days, the time zone, each filter (label, value)
    and whose contacts the exporting user may see."""
    return [
        ["From", first_day.isoformat()],
        ["To (included)", last_day.isoformat()],
        ["Time zone", settings.TIME_ZONE],
        *([f"Filter: {label}", value] for label, value in filters),
        ["Filters", "none" if not filters else f"{len(filters)} (above)"],
        ["Scope", scope],
        ["Exported by", exported_by],
    ]


def _selection_sheet(workbook: Workbook, selection: list[list[Any]]) -> None:
    sheet = workbook.create_sheet("Selection")
    for row in selection:
        sheet.append([safe_cell(value) for value in row])


def report_xlsx(table: ReportTable, *, selection: list[list[Any]]) -> bytes:
    """The report as a workbook: the figures, each KPI's formula, and the selection it was made for."""
    workbook = Workbook()
    figures = workbook.active
    figures.title = "Report"
    for row in report_rows(table):
        figures.append([safe_cell(value) for value in row])
    definitions = workbook.create_sheet("Definitions")
    definitions.append(["KPI", "Unit", "Formula", "Numerator", "Denominator", "Service-level variant"])
    for info in table.series.kpis:
        definitions.append(
            [
                safe_cell(value)
                for value in (info.label, info.unit, info.formula, info.numerator, info.denominator, info.variant)
            ]
        )
    if table.series.business_hours_only:
        definitions.append([])
        definitions.append([BUSINESS_HOURS_EXPLANATION])
    _selection_sheet(workbook, selection)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def conversation_rows(interactions: Iterable[Interaction]) -> Iterator[list[Any]]:
    """The header, then one row per interaction (times local, ISO 8601; wait and handle in seconds)."""
    zone = ZoneInfo(settings.TIME_ZONE)
    yield CONVERSATION_COLUMNS
    for interaction in interactions:
        answered = interaction.answered_at
        wait = (answered - interaction.started_at).total_seconds() if answered else None
        handle = (interaction.ended_at - answered).total_seconds() if answered else None
        yield [
            interaction.pk,
            interaction.started_at.astimezone(zone).isoformat(),
            answered.astimezone(zone).isoformat() if answered else "",
            interaction.ended_at.astimezone(zone).isoformat(),
            interaction.channel,
            interaction.direction,
            interaction.queue,
            interaction.team.name if interaction.team else "",
            interaction.agent.username if interaction.agent else "",
            str(interaction.customer) if interaction.customer else "",
            interaction.wrap_up_code,
            interaction.disposition,
            _number(wait),
            _number(handle),
        ]


def conversations_xlsx(interactions: Iterable[Interaction], *, selection: list[list[Any]]) -> bytes:
    """``conversation_rows`` as a workbook (the same columns, numbers kept as numbers) and the selection,
    written row by row (openpyxl's write-only mode keeps a large export's memory flat)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Conversations")
    for row in conversation_rows(interactions):
        sheet.append([safe_cell(value) for value in row])
    _selection_sheet(workbook, selection)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def streamed_csv(rows: Iterable[list[Any]]) -> Iterator[str]:
    """CSV lines one at a time, for a streaming response of many rows."""
    for row in rows:
        yield as_csv([row])
