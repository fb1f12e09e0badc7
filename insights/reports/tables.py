"""A KPI series as the report shows it: one row per interval and group, labelled, with the previous
period's figure beside each when compared; the same rows feed the chart, the table and the exports."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import cast
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from django.utils.formats import get_format
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from cea.accounts.models import Team
from insights.kpis.definitions import KPIS, LEVEL_KPIS
from insights.kpis.selectors import KpiInfo, KpiSeries, KpiValue, SeriesRow
from insights.reports.forms import GROUP_LABELS
from insights.reports.selectors import user_names

BLANK = _("(none)")


@dataclass(frozen=True)
class Cell:
    kpi: KpiInfo
    value: float | None
    previous: float | None = None
    numerator: float | None = None
    denominator: float | None = None
    variant: str = ""
    # The contacts behind this figure (the report's contacts page, for this KPI).
    drill_url: str = ""

    @property
    def display(self) -> str:
        return format_value(self.kpi.unit, self.value)

    @property
    def previous_display(self) -> str:
        return format_value(self.kpi.unit, self.previous)


@dataclass(frozen=True)
class ReportRow:
    interval_start: dt.datetime
    interval_label: str
    group_value: str | int | None
    group_label: str
    cells: list[Cell]
    drill_url: str


@dataclass(frozen=True)
class ReportTable:
    series: KpiSeries
    group_by: str
    rows: list[ReportRow]
    totals: list[Cell] = field(default_factory=list)

    @property
    def group_label(self) -> str:
        return str(GROUP_LABELS.get(self.group_by, ""))

    @property
    def compared(self) -> bool:
        return self.series.previous is not None


def format_value(unit: str, value: float | None) -> str:
    """A figure as the page shows it, in the active language's decimal and thousands marks."""
    if value is None:
        return "—"
    if unit == "count":
        return _marks(f"{value:,.0f}")
    if unit == "percent":
        return _marks(f"{value:.1f}") + "%"
    if unit == "seconds":
        return _marks(f"{value:,.1f}") + " s"
    return _marks(f"{value:,.2f}")


def _marks(text: str) -> str:
    """``text`` (written with ``,`` for thousands and ``.`` for decimals) with the active language's marks."""
    decimal, thousands = get_format("DECIMAL_SEPARATOR"), get_format("THOUSAND_SEPARATOR")
    return "".join({".": decimal, ",": thousands}.get(character, character) for character in text)


def interval_label(start: dt.datetime, interval: str) -> str:
    local = start.astimezone(ZoneInfo(settings.TIME_ZONE))
    if interval in ("15min", "hour"):
        return local.strftime("%Y-%m-%d %H:%M")
    if interval == "week":
        return gettext("Week of %(day)s") % {"day": f"{local:%Y-%m-%d}"}
    if interval == "month":
        return local.strftime("%Y-%m")
    return local.strftime("%Y-%m-%d")


def interval_end(start: dt.datetime, interval: str) -> dt.datetime:
    """The end of the local interval that starts at ``start`` (wall-clock days: 23 or 25 hours on DST days)."""
    zone = ZoneInfo(settings.TIME_ZONE)
    if interval == "15min":
        return start + dt.timedelta(minutes=15)
    if interval == "hour":
        return start + dt.timedelta(hours=1)
    local = start.astimezone(zone)
    day = local.date()
    if interval == "day":
        following = day + dt.timedelta(days=1)
    elif interval == "week":
        following = day + dt.timedelta(days=7)
    else:
        following = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return dt.datetime.combine(following, dt.time(), tzinfo=zone)


def _ordinal(start: dt.datetime, origin: dt.datetime, interval: str) -> int:
    """Which interval of its period ``start`` is (0 for the first), to line a period up with the previous one."""
    zone = ZoneInfo(settings.TIME_ZONE)
    if interval in ("15min", "hour"):
        step = 900 if interval == "15min" else 3600
        return int((start - origin).total_seconds() // step)
    local, first = start.astimezone(zone), origin.astimezone(zone)
    if interval == "month":
        return (local.year - first.year) * 12 + local.month - first.month
    days = (local.date() - first.date()).days
    return days // 7 if interval == "week" else days


def _group_names(group_by: str, values: set[str | int | None]) -> dict[str | int | None, str]:
    ids = [value for value in values if isinstance(value, int)]
    if group_by == "team":
        return {team.pk: team.name for team in Team.objects.filter(pk__in=ids)}
    if group_by == "agent":
        return {pk: name for pk, name in user_names(user_ids=ids).items()}
    return {}


def _totals(series: KpiSeries) -> list[Cell]:
    """The whole range's figure of each additive KPI (sums, then the ratio), and the previous period's."""

    def total(rows: list[SeriesRow], name: str) -> float | None:
        kpi = KPIS[name]
        if name in LEVEL_KPIS:
            return None
        numerator = sum(row.values[name].numerator for row in rows)
        if not kpi.denominator:
            return numerator
        denominator = sum(row.values[name].denominator or 0 for row in rows)
        return numerator * kpi.scale / denominator if denominator else None

    previous = series.previous
    return [
        Cell(
            kpi=info,
            value=total(series.rows, info.name),
            previous=total(previous.rows, info.name) if previous else None,
            variant=info.variant,
        )
        for info in series.kpis
    ]


def drill_query(
    *,
    row: SeriesRow,
    interval: str,
    group_by: str,
    filters: dict[str, list[str | int]],
    business_hours: bool = False,
) -> str:
    params: list[tuple[str, str]] = [("at", row.interval_start.isoformat()), ("interval", interval)]
    if business_hours:
        params.append(("business_hours", "on"))
    blanks = []
    chosen: dict[str, str | int | None] = {name: values[0] for name, values in filters.items()}
    if group_by:
        chosen[group_by] = row.group[group_by] if row.group[group_by] is not None else ""
    for name, value in chosen.items():
        if value in ("", None):
            blanks.append(name)
        else:
            params.append((name, str(value)))
    params.extend(("blank", name) for name in blanks)
    return urlencode(params)


def report_table(*, series: KpiSeries, group_by: str, filters: dict[str, list[str | int]]) -> ReportTable:
    """The rows of ``series`` with labels, the previous period's figures lined up by interval and group."""
    previous: dict[tuple[int, str | int | None], dict[str, KpiValue]] = {}
    if series.previous is not None:
        for row in series.previous.rows:
            key = (_ordinal(row.interval_start, series.previous.start, series.interval), row.group.get(group_by))
            previous[key] = row.values
    names = _group_names(group_by, {row.group.get(group_by) for row in series.rows}) if group_by else {}
    drill = reverse("insights:report-contacts")
    rows = []
    for row in series.rows:
        value = row.group.get(group_by) if group_by else None
        query = drill_query(
            row=row,
            interval=series.interval,
            group_by=group_by,
            filters=filters,
            business_hours=series.business_hours_only,
        )
        before = previous.get((_ordinal(row.interval_start, series.start, series.interval), value), {})
        cells = [
            Cell(
                kpi=info,
                value=row.values[info.name].value,
                previous=before[info.name].value if info.name in before else None,
                numerator=row.values[info.name].numerator,
                denominator=row.values[info.name].denominator,
                variant=row.values[info.name].variant,
                drill_url=f"{drill}?{query}&{urlencode({'kpi': info.name})}",
            )
            for info in series.kpis
        ]
        rows.append(
            ReportRow(
                interval_start=row.interval_start,
                interval_label=interval_label(row.interval_start, series.interval),
                group_value=value,
                group_label=(names.get(value) or str(value)) if value not in (None, "") else str(BLANK),
                cells=cells,
                drill_url=f"{drill}?{query}",
            )
        )
    return ReportTable(series=series, group_by=group_by, rows=rows, totals=_totals(series))


UNIT_AXES = {"count": _("Count"), "seconds": _("Seconds"), "percent": "%", "per_hour": _("Per hour")}
PREVIOUS = _("previous period")


def _series_name(kpi: KpiInfo, row: ReportRow, table: ReportTable) -> str:
    return f"{kpi.label} — {row.group_label}" if table.group_by else kpi.label


def chart_data(table: ReportTable) -> dict[str, object]:
    """What static/insights/reports.js draws: every KPI by interval, one line per KPI and group (and a
    dashed line of the previous period's beside each when compared), on one panel per unit (percent,
    seconds, counts …: small multiples sharing the intervals), each point with its drill-down link.
    A figure without a value (its denominator is 0) is ``None``: a gap in its line."""
    labels = sorted({row.interval_label: row.interval_start for row in table.rows}.items(), key=lambda item: item[1])
    index = {label: position for position, (label, _) in enumerate(labels)}
    units = list(dict.fromkeys(info.unit for info in table.series.kpis))
    lines: dict[str, dict[str, object]] = {}

    def line(name: str, kpi: KpiInfo, previous: bool) -> dict[str, object]:
        return lines.setdefault(
            name,
            {
                "name": name,
                "kpi": kpi.name,
                "unit": kpi.unit,
                "panel": units.index(kpi.unit),
                "previous": previous,
                "values": [None] * len(labels),
                "links": [None] * len(labels),
            },
        )

    for position, kpi in enumerate(table.series.kpis):
        for row in table.rows:
            at, cell = index[row.interval_label], row.cells[position]
            name = _series_name(kpi, row, table)
            current = line(name, kpi, False)
            cast(list, current["values"])[at] = cell.value
            cast(list, current["links"])[at] = cell.drill_url
            if table.compared:
                cast(list, line(f"{name} ({PREVIOUS})", kpi, True)["values"])[at] = cell.previous
    return {
        "labels": [label for label, _ in labels],
        "panels": [{"unit": unit, "axis": UNIT_AXES.get(unit, unit)} for unit in units],
        "series": list(lines.values()),
    }


def chart_summary(table: ReportTable) -> str:
    """The chart's aria-label: what it shows, each KPI's range of values, and where the figures are listed."""
    parts = []
    for position, kpi in enumerate(table.series.kpis):
        values = [value for row in table.rows if (value := row.cells[position].value) is not None]
        if values:
            low, high = format_value(kpi.unit, min(values)), format_value(kpi.unit, max(values))
            parts.append(gettext("%(kpi)s from %(low)s to %(high)s") % {"kpi": kpi.label, "low": low, "high": high})
        else:
            parts.append(gettext("%(kpi)s: no figures") % {"kpi": kpi.label})
    grouped = gettext(", one line per %(group)s") % {"group": table.group_label.lower()} if table.group_by else ""
    compared = gettext(", dashed lines for the previous period") if table.compared else ""
    count = len(table.series.kpis)
    text = ngettext(
        "Chart of %(count)d KPI by %(interval)s%(grouped)s%(compared)s: %(parts)s.",
        "Chart of %(count)d KPIs by %(interval)s%(grouped)s%(compared)s: %(parts)s.",
        count,
    ) % {
        "count": count,
        "interval": table.series.interval,
        "grouped": grouped,
        "compared": compared,
        "parts": "; ".join(parts),
    }
    return text + " " + gettext("The table below lists every figure.")
