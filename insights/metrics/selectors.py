"""Engagement metrics: engagement rate, retention and churn by monthly cohort, lifetime value.

Every figure is one SQL statement over records' selectors (customers, their interactions, revenue
events), by local calendar month (``settings.TIME_ZONE``); docs/journeys.md, "Engagement metrics",
defines each one. Nothing here checks who asks: the pages and the API pass the teams a user may see
(``insights.access.customer_insight_team_ids``).

- **Engaged**: a customer with at least one interaction (any channel, either direction) in the
  month. Engagement rate = engaged ÷ customers who existed by the month's end.
- **Active / lapsed**: a customer is active for ``LAPSE_DAYS`` after each contact (or after they
  became a customer); they lapse — churn — when that time passes without another contact.
  Monthly churn = customers who lapsed in the month ÷ customers active at its start.
- **Cohort**: the customers who became customers in a month. Retention at month *k* = the share of
  the cohort engaged in the *k*-th month after it; churned = the share lapsed by the range's end.
- **Lifetime value estimate** = revenue per active customer per month × expected lifetime in
  months (1 ÷ average monthly churn). Revenue is the ``amount`` of ``REVENUE_EVENT_KINDS`` journey
  events. No estimate without revenue or without churn; the reason is given instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings

from cea.common.days import local_midnight
from cea.common.replica import reading_connection
from insights.journeys.selectors import StageFigures, journey_map
from insights.kpis.intervals import queryset_sql
from records.customers.selectors import customers_served_by
from records.interactions.selectors import interactions_of_customers_between, interactions_of_customers_of
from records.journey.selectors import journey_events_of_kinds_between

LAPSE_DAYS = 90
REVENUE_EVENT_KINDS = ["order.placed"]


@dataclass(frozen=True)
class Rate:
    """``part`` of ``whole``, and their ratio (``None`` when ``whole`` is 0)."""

    part: int
    whole: int

    @property
    def value(self) -> float | None:
        return self.part / self.whole if self.whole else None


@dataclass(frozen=True)
class MonthFigures:
    month: dt.date
    engagement: Rate  # engaged ÷ customers by the month's end
    churn: Rate  # lapsed in the month ÷ active at its start


@dataclass(frozen=True)
class GroupFigures:
    key: str
    engagement: Rate  # engaged in the range ÷ customers by its end


@dataclass(frozen=True)
class Cohort:
    month: dt.date
    size: int
    retained: list[int]  # engaged in month 0, 1, … after the cohort's month, up to the range's end
    lapsed: int  # lapsed by the range's end

    @property
    def retention(self) -> list[float | None]:
        return [count / self.size if self.size else None for count in self.retained]

    @property
    def churn(self) -> Rate:
        return Rate(part=self.lapsed, whole=self.size)


@dataclass(frozen=True)
class LifetimeValue:
    revenue: Decimal
    active_customer_months: int  # the sum, over the months, of the customers active at their start
    monthly_churn: float | None
    monthly_value: float | None
    expected_months: float | None
    estimate: float | None
    reason: str  # why there is no estimate ("" when there is one)


@dataclass(frozen=True)
class EngagementMetrics:
    first_month: dt.date
    last_month: dt.date
    persona: str | None
    channel: str
    months: list[MonthFigures]
    by_persona: list[GroupFigures]
    by_channel: list[GroupFigures]
    cohorts: list[Cohort]
    lifetime_value: LifetimeValue
    # By journey stage (all time, from the stage visits: docs/journeys.md, "Journey map"): entered,
    # conversion, drop-off, time in stage, contacts' sentiment; satisfaction and effort need surveys.
    stages: list[StageFigures] = field(default_factory=list)
    surveys: bool = False


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    months, month = [], first
    while month <= last:
        months.append(month)
        month = _next_month(month)
    return months


def _rows(sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    with reading_connection().cursor() as cursor:  # the replica in a report's scope
        cursor.execute(sql, params)
        return list(cursor.fetchall())


@dataclass(frozen=True)
class _Facts:
    """The statement's common CTEs: ``c`` the customers, ``i`` their contacts from ``LAPSE_DAYS``
    before the range (a lapse in the range may follow a contact before it) to its end."""

    sql: str
    params: tuple[Any, ...]
    start: dt.datetime
    end: dt.datetime


def _facts(
    *, team_ids: frozenset[int] | None, first: dt.date, last: dt.date, persona: str | None, channel: str
) -> _Facts:
    start, end = local_midnight(first), local_midnight(_next_month(last))
    customers = customers_served_by(team_ids=team_ids).filter(created_at__lt=end)
    if persona is not None:
        customers = customers.filter(persona=persona)
    contacts = interactions_of_customers_between(start=start - dt.timedelta(days=LAPSE_DAYS), end=end)
    if channel:
        contacts = contacts.filter(channel=channel)
    customers_sql, customers_params = queryset_sql(customers.order_by().values("id", "persona", "created_at"))
    contacts_sql, contacts_params = queryset_sql(contacts.order_by().values("customer_id", "channel", "started_at"))
    sql = (
        f"WITH c AS ({customers_sql}), "  # noqa: S608 - selectors' SQL, values are parameters
        f"i AS (SELECT i0.* FROM ({contacts_sql}) i0 JOIN c ON c.id = i0.customer_id) "
    )
    return _Facts(sql=sql, params=customers_params + contacts_params, start=start, end=end)


_MONTHS_SQL = """
, months AS (
    SELECT month, month::timestamp AT TIME ZONE %s AS starts, (month + interval '1 month') AT TIME ZONE %s AS ends
    FROM unnest(%s::date[]) AS month
),
-- Each customer's moments of contact (their becoming a customer counts as one) and the next one.
moments AS (
    SELECT customer_id, at, lead(at) OVER (PARTITION BY customer_id ORDER BY at) AS next_at
    FROM (SELECT customer_id, started_at AS at FROM i UNION ALL SELECT id, created_at FROM c) m
),
customers AS (SELECT m.month, count(c.id) AS n FROM months m JOIN c ON c.created_at < m.ends GROUP BY m.month),
engaged AS (
    SELECT m.month, count(DISTINCT i.customer_id) AS n
    FROM months m JOIN i ON i.started_at >= m.starts AND i.started_at < m.ends GROUP BY m.month
),
lapsed AS (
    SELECT m.month, count(*) AS n FROM months m JOIN moments mo
        ON mo.at + make_interval(days => %s) >= m.starts AND mo.at + make_interval(days => %s) < m.ends
    WHERE (mo.next_at IS NULL OR mo.next_at > mo.at + make_interval(days => %s))
      AND mo.at + make_interval(days => %s) < now()
    GROUP BY m.month
),
active AS (
    SELECT m.month, count(DISTINCT mo.customer_id) AS n FROM months m JOIN moments mo
        ON mo.at < m.starts AND mo.at >= m.starts - make_interval(days => %s)
    GROUP BY m.month
)
SELECT m.month, coalesce(c.n, 0), coalesce(e.n, 0), coalesce(l.n, 0), coalesce(a.n, 0)
FROM months m LEFT JOIN customers c USING (month) LEFT JOIN engaged e USING (month)
    LEFT JOIN lapsed l USING (month) LEFT JOIN active a USING (month)
ORDER BY m.month
"""


def _month_figures(facts: _Facts, first: dt.date, last: dt.date) -> list[MonthFigures]:
    tz = settings.TIME_ZONE
    lapse = LAPSE_DAYS
    params = (*facts.params, tz, tz, _months(first, last), lapse, lapse, lapse, lapse, lapse)
    return [
        MonthFigures(month=month, engagement=Rate(part=engaged, whole=customers), churn=Rate(part=lapsed, whole=active))
        for month, customers, engaged, lapsed, active in _rows(facts.sql + _MONTHS_SQL, params)
    ]


_BY_PERSONA_SQL = """
SELECT c.persona, count(*), count(*) FILTER (WHERE c.id IN (SELECT customer_id FROM i WHERE started_at >= %s))
FROM c GROUP BY c.persona ORDER BY c.persona
"""
_BY_CHANNEL_SQL = """
SELECT i.channel, count(DISTINCT i.customer_id), (SELECT count(*) FROM c)
FROM i WHERE started_at >= %s GROUP BY i.channel ORDER BY i.channel
"""


def _groups(facts: _Facts) -> tuple[list[GroupFigures], list[GroupFigures]]:
    by_persona = [
        GroupFigures(key=persona, engagement=Rate(part=engaged, whole=customers))
        for persona, customers, engaged in _rows(facts.sql + _BY_PERSONA_SQL, (*facts.params, facts.start))
    ]
    by_channel = [
        GroupFigures(key=channel, engagement=Rate(part=engaged, whole=customers))
        for channel, engaged, customers in _rows(facts.sql + _BY_CHANNEL_SQL, (*facts.params, facts.start))
    ]
    return by_persona, by_channel


_COHORTS_SQL = """
, cohort AS (
    SELECT id, date_trunc('month', created_at AT TIME ZONE %s)::date AS month FROM c WHERE created_at >= %s
),
engaged AS (
    SELECT DISTINCT i.customer_id, date_trunc('month', i.started_at AT TIME ZONE %s)::date AS month FROM i
),
last_moment AS (
    SELECT co.id, greatest(max(i.started_at), min(c.created_at)) AS at
    FROM cohort co JOIN c ON c.id = co.id LEFT JOIN i ON i.customer_id = co.id GROUP BY co.id
)
SELECT co.month, count(DISTINCT co.id), NULL::int, NULL::bigint,
    count(DISTINCT co.id) FILTER (WHERE lm.at + make_interval(days => %s) < least(%s, now()))
FROM cohort co JOIN last_moment lm ON lm.id = co.id GROUP BY co.month
UNION ALL
SELECT co.month, NULL,
    (extract(year FROM age(e.month, co.month)) * 12 + extract(month FROM age(e.month, co.month)))::int,
    count(DISTINCT e.customer_id), NULL
FROM cohort co JOIN engaged e ON e.customer_id = co.id AND e.month >= co.month GROUP BY 1, 3
"""


def _cohorts(facts: _Facts, last: dt.date) -> list[Cohort]:
    tz = settings.TIME_ZONE
    params = (*facts.params, tz, facts.start, tz, LAPSE_DAYS, facts.end)
    sizes: dict[dt.date, tuple[int, int]] = {}
    retained: dict[dt.date, dict[int, int]] = {}
    for month, size, offset, engaged, lapsed in _rows(facts.sql + _COHORTS_SQL, params):
        if size is not None:
            sizes[month] = (size, lapsed)
        else:
            retained.setdefault(month, {})[offset] = engaged
    cohorts = []
    for month in sorted(sizes):
        size, lapsed = sizes[month]
        span = len(_months(month, last))
        counts = retained.get(month, {})
        cohorts.append(Cohort(month=month, size=size, retained=[counts.get(k, 0) for k in range(span)], lapsed=lapsed))
    return cohorts


def _revenue(facts: _Facts) -> Decimal:
    events = journey_events_of_kinds_between(kinds=REVENUE_EVENT_KINDS, start=facts.start, end=facts.end)
    events_sql, events_params = queryset_sql(events.order_by().values("customer_id", "payload"))
    sql = (
        facts.sql + f", r AS ({events_sql}) "  # noqa: S608 - selectors' SQL, values are parameters
        "SELECT coalesce(sum((r.payload->>'amount')::numeric), 0) FROM r JOIN c ON c.id = r.customer_id "
        "WHERE jsonb_typeof(r.payload->'amount') = 'number'"
    )
    return Decimal(_rows(sql, facts.params + events_params)[0][0])


def _lifetime_value(revenue: Decimal, months: list[MonthFigures]) -> LifetimeValue:
    # Only complete months with customers active at their start say what a month's churn is.
    measured = [month for month in months if month.churn.whole]
    active_months = sum(month.churn.whole for month in measured)
    lapsed = sum(month.churn.part for month in measured)
    churn = lapsed / active_months if active_months else None
    value = float(revenue) / active_months if active_months else None
    reason = ""
    if not revenue:
        reason = "No revenue recorded in the range (order.placed events with an amount)."
    elif not churn:
        reason = "No customer lapsed in the range, so no lifetime can be estimated yet."
    expected = 1 / churn if churn else None
    estimate = value * expected if (value is not None and expected is not None and not reason) else None
    return LifetimeValue(
        revenue=revenue,
        active_customer_months=active_months,
        monthly_churn=churn,
        monthly_value=value if revenue else None,
        expected_months=expected,
        estimate=estimate,
        reason=reason,
    )


def engagement_metrics(
    *, team_ids: frozenset[int] | None, first: dt.date, last: dt.date, persona: str | None = None, channel: str = ""
) -> EngagementMetrics:
    """The engagement metrics of the customers of ``team_ids`` (``None``: all) for the local months
    ``first`` … ``last`` (any day in them), of one ``persona`` (``""``: customers without one;
    ``None``: everyone) and counting contacts on one ``channel`` (``""``: every channel)."""
    first, last = month_start(first), month_start(last)
    facts = _facts(team_ids=team_ids, first=first, last=last, persona=persona, channel=channel)
    months = _month_figures(facts, first, last)
    by_persona, by_channel = _groups(facts)
    return EngagementMetrics(
        first_month=first,
        last_month=last,
        persona=persona,
        channel=channel,
        months=months,
        by_persona=by_persona,
        by_channel=by_channel,
        cohorts=_cohorts(facts, last),
        lifetime_value=_lifetime_value(_revenue(facts), months),
        **_stages(team_ids=team_ids, persona=persona, channel=channel),
    )


def _stages(*, team_ids: frozenset[int] | None, persona: str | None, channel: str) -> dict[str, Any]:
    """The stage figures of the journey map, for the same customers (and contacts on ``channel``)."""
    contacts = interactions_of_customers_of(team_ids=team_ids)
    if channel:
        contacts = contacts.filter(channel=channel)
    stages = journey_map(customers=customers_served_by(team_ids=team_ids), interactions=contacts, persona=persona)
    return {"stages": stages.stages, "surveys": stages.surveys}
