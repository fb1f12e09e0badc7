"""KPI series: any KPI × interval × grouping, read from the contact rollups, permission-scoped.

``kpi_series`` sums the rollup columns of each KPI's numerator and denominator per local interval
(the deployment's TIME_ZONE, DST included: a local day may have 23 or 25 hours) and per group,
then divides. Every KPI comes with its formula, and the service level with the formula variant(s)
of the queues behind each figure. ``compare=True`` adds the previous period of the same length,
immediately before, for the report page's comparison.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection, transaction
from django.db.models import F, Sum
from django.db.models.functions import Trunc

from cea.accounts.types import Actor
from cea.common.errors import ValidationFailed
from cea.common.roles import sees_everything
from insights.access import contact_rollups_scope
from insights.kpis.business_hours import business_hours_check, business_hours_condition
from insights.kpis.definitions import KPIS, LEVEL_KPIS, Kpi, Source, service_level_variant
from insights.kpis.models import AgentRollup, CaseRollup, ContactRollup, QueueRollup


class Interval(StrEnum):
    QUARTER_HOUR = "15min"
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


# What a report may group and filter by, and the rollup column of each.
DIMENSIONS: dict[str, str] = {
    "queue": "queue",
    "channel": "channel",
    "team": "team_id",
    "agent": "agent_id",
    "wrap_up_code": "wrap_up_code",
    "customer_tier": "customer_tier",
}
# Agents' time and cases have no queue, channel, wrap-up code or customer tier.
AGENT_DIMENSIONS = ("team", "agent")
# A 90-day report by hour and queue for 40 queues has 86,400 rows.
MAX_ROWS = 100_000


@dataclass(frozen=True)
class KpiInfo:
    """A KPI as a report states it: what it is and how it is computed (``variant``: the service level's)."""

    name: str
    label: str
    unit: str
    formula: str
    numerator: str
    denominator: str
    variant: str = ""


@dataclass(frozen=True)
class KpiValue:
    """One figure: its sums and their ratio (``value`` is None when the denominator is 0)."""

    numerator: float
    denominator: float | None
    value: float | None
    variant: str = ""


@dataclass(frozen=True)
class SeriesRow:
    """One local interval of one group (``group`` maps each grouping dimension to its value)."""

    interval_start: datetime
    group: dict[str, str | int | None]
    values: dict[str, KpiValue]


@dataclass(frozen=True)
class KpiSeries:
    kpis: list[KpiInfo]
    interval: str
    start: datetime
    end: datetime
    group_by: list[str]
    time_zone: str
    rows: list[SeriesRow]
    previous: KpiSeries | None = field(default=None)
    business_hours_only: bool = False


def _total(columns: tuple[str, ...], sums: Mapping[str, float | None]) -> float:
    if len(columns) == 1:  # the common case, without a generator (a report may have 100,000 rows)
        return sums.get(columns[0]) or 0
    return sum(sums.get(column) or 0 for column in columns)


def kpi_value(*, kpi: Kpi, sums: Mapping[str, float | None]) -> KpiValue:
    """A KPI's figure from its columns' sums: the numerator, and the ratio (× the KPI's scale) to the
    denominator, ``None`` when the denominator is 0. Every KPI figure is computed here."""
    numerator = _total(kpi.numerator, sums)
    if not kpi.denominator:
        return KpiValue(numerator=numerator, denominator=None, value=numerator)
    denominator = _total(kpi.denominator, sums)
    value = numerator * kpi.scale / denominator if denominator else None
    return KpiValue(numerator=numerator, denominator=denominator, value=value)


@lru_cache(maxsize=256)
def _variant_words(keys: frozenset[str]) -> str:
    return "; ".join(service_level_variant(key) for key in sorted(keys))


def _variant_text(keys: list[str]) -> str:
    return _variant_words(frozenset(keys))


def _level_baselines(rows: Any, group_columns: list[str]) -> dict[tuple[Any, ...], float]:
    """Cases opened minus resolved before the range, per group: where each group's backlog starts."""
    before = rows.values(*group_columns).annotate(opened_sum=Sum("opened"), resolved_sum=Sum("resolved"))
    return {
        tuple(row[column] for column in group_columns): (row["opened_sum"] or 0) - (row["resolved_sum"] or 0)
        for row in before.order_by()
    }


def _check(
    *, kpis: list[str], start: datetime, end: datetime, group_by: list[str], filters: dict[str, list[str | int]]
) -> None:
    problems: dict[str, str] = {}
    unknown = [name for name in kpis if name not in KPIS]
    if not kpis:
        problems["kpis"] = "Choose at least one KPI."
    elif unknown:
        problems["kpis"] = f"Unknown KPI {', '.join(unknown)}; choose from {', '.join(KPIS)}."
    if start.tzinfo is None or end.tzinfo is None:
        problems["start"] = "Give times with their time zone."
    elif end <= start:
        problems["end"] = "The end must be after the start."
    bad_groups = [name for name in group_by if name not in DIMENSIONS]
    if bad_groups:
        problems["group_by"] = f"Group by {', '.join(DIMENSIONS)}; not {', '.join(bad_groups)}."
    bad_filters = [name for name in filters if name not in DIMENSIONS]
    if bad_filters:
        problems["filters"] = f"Filter by {', '.join(DIMENSIONS)}; not {', '.join(bad_filters)}."
    agent_kpis = [name for name in kpis if name in KPIS and KPIS[name].source != Source.CONTACTS]
    beyond = sorted({*group_by, *filters} - set(AGENT_DIMENSIONS) - set(bad_groups) - set(bad_filters))
    if agent_kpis and beyond:
        problems["group_by"] = (
            f"{', '.join(agent_kpis)} can be grouped and filtered by team and agent only, not {', '.join(beyond)}."
        )
    if problems:
        raise ValidationFailed("The KPI series request is invalid.", fields=problems)


@dataclass
class _Sums:
    """The rollup columns summed per key (bucket, *group values), from every source asked."""

    totals: dict[tuple[Any, ...], dict[str, float]] = field(default_factory=dict)
    variants: dict[tuple[Any, ...], list[str]] = field(default_factory=dict)
    baselines: dict[tuple[Any, ...], float] = field(default_factory=dict)


def _bucket(interval: Interval, zone: ZoneInfo) -> F | Trunc:
    return (
        F("interval_start")
        if interval == Interval.QUARTER_HOUR
        else Trunc("interval_start", interval.value, tzinfo=zone)
    )


def _add_source(
    *,
    sums: _Sums,
    model: Any,
    wanted: list[str],
    user: Actor,
    start: datetime,
    end: datetime,
    bucket: F | Trunc,
    group_columns: list[str],
    filters: dict[str, list[str | int]],
    business_hours_only: bool = False,
) -> None:
    """Sum one rollup's columns for the KPIs ``wanted`` into ``sums`` (only the business-hours intervals'
    rows with ``business_hours_only``)."""
    columns = sorted(
        {column for name in wanted for column in KPIS[name].numerator + KPIS[name].denominator}
        | {column for name in wanted for column in LEVEL_KPIS.get(name, ())}
    )
    scoped = model.objects.filter(contact_rollups_scope(user))
    if business_hours_only:
        scoped = scoped.filter(business_hours_condition(model=model, start=start, end=end))
    for name, chosen in filters.items():
        scoped = scoped.filter(**{f"{DIMENSIONS[name]}__in": chosen})
    if any(name in LEVEL_KPIS for name in wanted):
        sums.baselines = _level_baselines(scoped.filter(interval_start__lt=start), group_columns)
    query = (
        scoped.filter(interval_start__gte=start, interval_start__lt=end)
        .annotate(bucket=bucket)
        .values("bucket", *group_columns)
        .annotate(**{f"sum_{column}": Sum(column) for column in columns})
    )
    if "service_level" in wanted:
        query = query.annotate(variants=ArrayAgg("sl_variant", distinct=True, default=[]))
    with transaction.atomic(), connection.cursor() as cursor:
        # PostgreSQL's JIT compiles this for longer than a report's statement runs.
        cursor.execute("SET LOCAL jit = off")
        fetched = list(query.order_by("bucket", *group_columns)[: MAX_ROWS + 1])
    for row in fetched:
        key = (row["bucket"], *(row[column] for column in group_columns))
        sums.totals.setdefault(key, {}).update({column: row[f"sum_{column}"] or 0 for column in columns})
        sums.variants.setdefault(key, []).extend(row.get("variants", []))


def _row_values(
    *, kpis: list[str], key: tuple[Any, ...], sums: _Sums, running: dict[tuple[Any, ...], float]
) -> dict[str, KpiValue]:
    """Each KPI's figure for one key; ``running`` carries the levels (the backlog) from key to key."""
    totals = sums.totals[key]
    values: dict[str, KpiValue] = {}
    for name in kpis:
        if name in LEVEL_KPIS:
            opened, resolved = LEVEL_KPIS[name]
            group = key[1:]
            running[group] = running.get(group, 0) + totals.get(opened, 0) - totals.get(resolved, 0)
            values[name] = KpiValue(numerator=running[group], denominator=None, value=running[group])
            continue
        value = kpi_value(kpi=KPIS[name], sums=totals)
        if name == "service_level":
            value = KpiValue(
                numerator=value.numerator,
                denominator=value.denominator,
                value=value.value,
                variant=_variant_text(sums.variants[key]),
            )
        values[name] = value
    return values


def _series(
    *,
    user: Actor,
    kpis: list[str],
    start: datetime,
    end: datetime,
    interval: Interval,
    group_by: list[str],
    filters: dict[str, list[str | int]],
    hours: bool = False,
) -> KpiSeries:
    zone = ZoneInfo(settings.TIME_ZONE)
    group_columns = [DIMENSIONS[name] for name in group_by]
    # A report by queue and channel only, for a user who sees every team, reads the coarser rollup;
    # business hours need the contact rollup's team of each queue-less row.
    coarse = sees_everything(user) and {*group_by, *filters} <= {"queue", "channel"} and not hours
    sources = (
        (Source.CONTACTS, QueueRollup if coarse else ContactRollup),
        (Source.AGENTS, AgentRollup),
        (Source.CASES, CaseRollup),
    )
    sums = _Sums()
    for source, model in sources:
        wanted = [name for name in kpis if KPIS[name].source == source]
        if wanted:
            _add_source(
                sums=sums,
                model=model,
                wanted=wanted,
                user=user,
                start=start,
                end=end,
                bucket=_bucket(interval, zone),
                group_columns=group_columns,
                filters=filters,
                business_hours_only=hours,
            )
    running = dict(sums.baselines)
    series_rows = [
        SeriesRow(
            interval_start=key[0].astimezone(zone),
            group=dict(zip(group_by, key[1:], strict=True)),
            values=_row_values(kpis=kpis, key=key, sums=sums, running=running),
        )
        for key in sorted(sums.totals, key=lambda key: tuple((value is None, value) for value in key))
    ]
    all_variants = {variant for keys in sums.variants.values() for variant in keys}
    if len(series_rows) > MAX_ROWS:
        raise ValidationFailed(
            f"The report would have more than {MAX_ROWS:,} rows: choose a longer interval, a shorter range or"
            " fewer groups.",
            fields={"interval": "Too many rows."},
        )
    infos = [
        KpiInfo(
            name=kpi.name,
            label=kpi.label,
            unit=kpi.unit.value,
            formula=kpi.formula,
            numerator=kpi.numerator_text,
            denominator=kpi.denominator_text,
            variant=_variant_text(list(all_variants)) if kpi.name == "service_level" else "",
        )
        for kpi in (KPIS[name] for name in kpis)
    ]
    return KpiSeries(
        kpis=infos,
        interval=interval.value,
        start=start,
        end=end,
        group_by=list(group_by),
        time_zone=settings.TIME_ZONE,
        rows=series_rows,
        business_hours_only=hours,
    )


def kpi_series(
    *,
    user: Actor,
    kpis: list[str],
    start: datetime,
    end: datetime,
    interval: str = Interval.DAY,
    group_by: list[str] | None = None,
    filters: dict[str, list[str | int]] | None = None,
    compare: bool = False,
    business_hours_only: bool = False,
) -> KpiSeries:
    """The KPIs ``kpis`` from ``start`` (inclusive) to ``end`` (exclusive) by ``interval`` and ``group_by``.

    Only the rollup rows ``user`` may see count (``insights.access``); ``filters`` keeps the rows
    whose dimension is one of the values given. Start and end should fall on interval boundaries
    in the deployment's time zone (a partial first or last interval holds what the range covers).
    With ``business_hours_only``, only the 15-minute intervals that start while open count
    (``insights.kpis.business_hours``; not for levels such as the case backlog).
    ``ValidationFailed`` for an unknown KPI, interval, dimension or an empty range.
    """
    group_by, filters = list(group_by or []), dict(filters or {})
    if interval not in Interval.__members__.values():
        raise ValidationFailed(
            "Unknown interval.", fields={"interval": f"Choose one of {', '.join(i.value for i in Interval)}."}
        )
    _check(kpis=kpis, start=start, end=end, group_by=group_by, filters=filters)
    if business_hours_only:
        business_hours_check(kpis=kpis)
    chosen = Interval(interval)
    hours = business_hours_only
    series = _series(
        user=user, kpis=kpis, start=start, end=end, interval=chosen, group_by=group_by, filters=filters, hours=hours
    )
    if not compare:
        return series
    length = end - start
    previous = _series(
        user=user,
        kpis=kpis,
        start=start - length,
        end=start,
        interval=chosen,
        group_by=group_by,
        filters=filters,
        hours=hours,
    )
    return KpiSeries(**{**series.__dict__, "previous": previous})
