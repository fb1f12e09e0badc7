"""KPI series: any KPI × interval × grouping, read from the contact rollups, permission-scoped.

``kpi_series`` sums the rollup columns of each KPI's numerator and denominator per local interval
(the deployment's TIME_ZONE, DST included: a local day may have 23 or 25 hours) and per group,
then divides. Every KPI comes with its formula, and the service level with the formula variant(s)
of the queues behind each figure. ``compare=True`` adds the previous period of the same length,
immediately before, for the report page's comparison.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connections, transaction
from django.db.models import F, Sum
from django.db.models.functions import Trunc

from cea.accounts.types import Actor
from cea.common.errors import ValidationFailed
from cea.common.replica import read_alias
from cea.common.roles import sees_everything
from insights.access import contact_rollups_scope
from insights.kpis.business_hours import OpenSpans, business_hours_check, business_hours_condition, open_spans
from insights.kpis.definitions import KPIS, LEVEL_KPIS, Kpi, Source, service_level_variant
from insights.kpis.intervals import GRAIN, hour_floor
from insights.kpis.models import AgentRollup, CaseRollup, ContactRollup, QueueHourRollup, QueueRollup


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


# KpiValue and SeriesRow are not frozen: a 90-day report by hour and queue makes 43,200 rows of
# five figures, and a frozen dataclass costs four times as much to create (bench/insights.py).
@dataclass(slots=True)
class KpiValue:
    """One figure: its sums and their ratio (``value`` is None when the denominator is 0)."""

    numerator: float
    denominator: float | None
    value: float | None
    variant: str = ""


@dataclass(slots=True)
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


def _totals(columns: tuple[str, ...], rows: Sequence[Mapping[str, Any]]) -> list[float]:
    if len(columns) == 1:  # the common case, without a generator per row
        column = columns[0]
        return [row.get(column) or 0 for row in rows]
    return [sum(row.get(column) or 0 for column in columns) for row in rows]


def kpi_values(*, kpi: Kpi, rows: Sequence[Mapping[str, Any]]) -> list[KpiValue]:
    """A KPI's figure from its columns' sums, for each of ``rows``: the numerator, and the ratio
    (× the KPI's scale) to the denominator, ``None`` when the denominator is 0. Every KPI figure is
    computed here, a column at a time (a report may have 100,000 rows)."""
    numerators = _totals(kpi.numerator, rows)
    if not kpi.denominator:
        return [KpiValue(numerator, None, numerator) for numerator in numerators]
    scale = kpi.scale
    return [
        KpiValue(numerator, denominator, numerator * scale / denominator if denominator else None)
        for numerator, denominator in zip(numerators, _totals(kpi.denominator, rows), strict=True)
    ]


def kpi_value(*, kpi: Kpi, sums: Mapping[str, float | None]) -> KpiValue:
    """A KPI's figure from one set of sums (``kpi_values``' rule)."""
    return kpi_values(kpi=kpi, rows=[sums])[0]


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


MAX_ZONE_YEARS = 20  # a longer range reads the 15-minute queue rollup rather than check each year's clock


@dataclass(frozen=True)
class _ZoneYear:
    """How a time zone's local hours sit on UTC hours through one (UTC) year."""

    hours_are_utc_hours: bool  # every UTC hour is within one local hour (whole-hour offsets, changed at UTC hours)
    repeats_an_hour: bool  # a clock goes back: a local hour happens twice


@lru_cache(maxsize=64)
def _zone_year(zone: ZoneInfo, year: int) -> _ZoneYear:
    def offset(moment: datetime) -> timedelta:
        return moment.astimezone(zone).utcoffset() or timedelta()

    hour, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    whole, back, previous = True, False, offset(hour)
    while hour < end:
        current = offset(hour)
        whole = whole and current.total_seconds() % 3600 == 0
        if current != previous:  # a change during the hour before, or at this hour's start
            back = back or current < previous
            whole = whole and all(offset(hour - quarter * GRAIN) == previous for quarter in (1, 2, 3))
        previous = current
        hour += timedelta(hours=1)
    return _ZoneYear(hours_are_utc_hours=whole, repeats_an_hour=back)


def _zone_years(zone: ZoneInfo, start: datetime, end: datetime) -> list[_ZoneYear]:
    return [_zone_year(zone, year) for year in range(start.astimezone(UTC).year, end.astimezone(UTC).year + 1)]


def _hourly_answers(*, zone: ZoneInfo, interval: Interval, start: datetime, end: datetime) -> bool:
    """Whether ``QueueHourRollup`` gives the same figures as the 15-minute rows: hours or coarser, a
    range of whole UTC hours, and a time zone whose local hours are UTC hours over the range."""
    if interval == Interval.QUARTER_HOUR:
        return False
    if any(moment.astimezone(UTC) != hour_floor(moment) for moment in (start, end)):
        return False
    if end.year - start.year > MAX_ZONE_YEARS:
        return False
    return all(year.hours_are_utc_hours for year in _zone_years(zone, start, end))


def _bucket(*, interval: Interval, zone: ZoneInfo, model: Any, start: datetime, end: datetime) -> F | Trunc:
    """The local interval of each row: its own start for 15 minutes, and for hours read from
    ``QueueHourRollup`` (whose UTC hours are then local hours) unless a clock goes back in the range:
    ``Trunc`` makes both of the repeated hour's rows one (the first), and so must this."""
    if interval == Interval.QUARTER_HOUR:
        return F("interval_start")
    if (
        interval == Interval.HOUR
        and model is QueueHourRollup
        and not any(year.repeats_an_hour for year in _zone_years(zone, start, end))
    ):
        return F("interval_start")
    return Trunc("interval_start", interval.value, tzinfo=zone)


def _contact_rollup(
    *, user: Actor, interval: Interval, zone: ZoneInfo, start: datetime, end: datetime, dimensions: set[str]
) -> Any:
    """The cheapest contact rollup that answers: the team-less queue rollups (hourly when its hours
    are the local ones) for a user who sees every team and a report by queue and channel only,
    else the 15-minute rows of every dimension."""
    if not sees_everything(user) or not dimensions <= {"queue", "channel"}:
        return ContactRollup
    return QueueHourRollup if _hourly_answers(zone=zone, interval=interval, start=start, end=end) else QueueRollup


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
    spans: OpenSpans | None = None,
) -> None:
    """Sum one rollup's columns for the KPIs ``wanted`` into ``sums`` (with ``spans``, business hours
    only: the rows of the intervals that start while open)."""
    columns = sorted(
        {column for name in wanted for column in KPIS[name].numerator + KPIS[name].denominator}
        | {column for name in wanted for column in LEVEL_KPIS.get(name, ())}
    )
    scoped = model.objects.filter(contact_rollups_scope(user))
    if spans is not None:
        scoped = scoped.filter(business_hours_condition(model=model, spans=spans))
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
    fields = ["bucket", *group_columns, *(f"sum_{column}" for column in columns)]
    if "service_level" in wanted:
        query = query.annotate(variants=ArrayAgg("sl_variant", distinct=True, default=[]))
        fields.append("variants")
    query = query.order_by("bucket", *group_columns).values_list(*fields)[: MAX_ROWS + 1]
    sql, params = query.query.sql_with_params()
    # From the replica inside reading_from_replica() (a report), like the ORM's reads.
    alias = read_alias()
    connection = connections[alias]
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        # PostgreSQL's JIT compiles this for longer than a report's statement runs.
        cursor.execute("SET LOCAL jit = off")
        # The driver's tuples as they come: psycopg2 already gives ints, floats and lists, and
        # Django's per-value converters cost more than the statement for 100,000 rows. Only a
        # local bucket (Trunc) needs its own: the local time, made aware in the zone.
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    if isinstance(bucket, Trunc):
        local = query.query.annotations["bucket"]
        fetched = [(local.convert_value(row[0], None, connection), *row[1:]) for row in fetched]
    width = 1 + len(group_columns)
    variants = len(fields) - 1 if "service_level" in wanted else None
    totals, all_variants = sums.totals, sums.variants
    for row in fetched:
        key = row[:width]
        figures = dict(zip(columns, row[width : width + len(columns)], strict=True))
        if key in totals:
            totals[key].update(figures)
        else:
            totals[key] = figures
        if variants is not None:
            all_variants.setdefault(key, []).extend(row[variants])


def _figures(*, kpis: list[str], keys: list[tuple[Any, ...]], sums: _Sums) -> list[tuple[KpiValue, ...]]:
    """Each key's figures, in the order of ``kpis``: computed a KPI at a time over every key; the
    levels (the backlog) run from key to key of each group from its baseline."""
    rows = [sums.totals[key] for key in keys]
    columns: list[list[KpiValue]] = []
    for name in kpis:
        if name in LEVEL_KPIS:
            opened, resolved = LEVEL_KPIS[name]
            running = dict(sums.baselines)
            column = []
            for key, totals in zip(keys, rows, strict=True):
                group = key[1:]
                running[group] = running.get(group, 0) + totals.get(opened, 0) - totals.get(resolved, 0)
                column.append(KpiValue(numerator=running[group], denominator=None, value=running[group]))
        else:
            column = kpi_values(kpi=KPIS[name], rows=rows)
        if name == "service_level":
            for key, value in zip(keys, column, strict=True):
                value.variant = _variant_text(sums.variants.get(key, []))
        columns.append(column)
    return list(zip(*columns, strict=True))


def _none_last(key: tuple[Any, ...]) -> tuple[tuple[bool, Any], ...]:
    return tuple((value is None, value) for value in key)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a report's rows are made: 100,000 rows of five figures are
    half a million new objects, which set off full collections over the whole heap (half the CPU
    time of a 43,200-row report in bench/insights.py). The rows hold no cycles; it is back on after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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
    # Business hours need the contact rollup's team of each queue-less row: the full 15-minute rows.
    contacts = (
        ContactRollup
        if hours
        else _contact_rollup(
            user=user, interval=interval, zone=zone, start=start, end=end, dimensions={*group_by, *filters}
        )
    )
    sources = ((Source.CONTACTS, contacts), (Source.AGENTS, AgentRollup), (Source.CASES, CaseRollup))
    spans = open_spans(start=start, end=end) if hours else None  # once, for every rollup summed
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
                bucket=_bucket(interval=interval, zone=zone, model=model, start=start, end=end),
                group_columns=group_columns,
                filters=filters,
                spans=spans,
            )
    # None sorts last, as PostgreSQL orders it; only team and agent ids can be None.
    nullable = {"team_id", "agent_id"} & set(group_columns)
    keys = sorted(sums.totals, key=_none_last if nullable else None)
    series_rows = [
        SeriesRow(
            key[0].astimezone(zone), dict(zip(group_by, key[1:], strict=True)), dict(zip(kpis, figures, strict=True))
        )
        for key, figures in zip(keys, _figures(kpis=kpis, keys=keys, sums=sums), strict=True)
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
            label=str(kpi.label),
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
    with _collector_paused():
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
