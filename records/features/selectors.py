"""Reads for models: every active customer's behaviour as of a moment, and what each did after it.

``customer_features_as_of`` is one SQL statement over the facts (interactions, cases, holdings,
journey events): only facts at or before ``as_of`` count, so a model trained on features as of a
past cutoff never sees what came after it. ``customers_active_between`` and
``customers_acquiring_between`` are the label reads: who did something, or gained a holding, in a
window after the cutoff. Insights' churn and propensity models read through these
(docs/models.md); nothing here loops over customers in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection

from cea.common.channels import Channel

# The window of "recent" counts, and how far back the statement looks at all (days).
RECENT_DAYS = 90
LOOKBACK_DAYS = 365
# Channels counted on their own over the recent window; the others are summed as "other".
COUNTED_CHANNELS: tuple[str, ...] = (Channel.VOICE, Channel.CHAT, Channel.EMAIL, Channel.SMS, Channel.SOCIAL)
# Holdings whose appearance is a purchase or an upgrade (propensity's label).
ACQUIRED_KINDS: tuple[str, ...] = ("account", "product", "order")
# Journey events that are a purchase when a source system reports one without a holding.
PURCHASE_EVENT_KINDS: tuple[str, ...] = ("order.placed", "purchase.completed", "holding.added")
# Journey events insights writes itself (scores, personas, stages) are not the customer's activity.
OWN_SOURCE = "insights"

FEATURE_COLUMNS: tuple[str, ...] = (
    "tenure_days",
    "days_since_last_contact",
    "days_since_last_activity",
    "contacts_90d",
    "contacts_365d",
    *(f"contacts_90d_{channel}" for channel in COUNTED_CHANNELS),
    "contacts_90d_other",
    "cases_open",
    "cases_opened_90d",
    "cases_resolved_90d",
    "holdings",
    "sentiment_90d",
    "events_90d",
)

_CHANNEL_COUNTS = ",\n".join(
    f"count(*) FILTER (WHERE i.started_at > %(recent)s AND i.channel = '{channel}') AS contacts_90d_{channel}"
    for channel in COUNTED_CHANNELS
)
_CHANNEL_SELECT = ",\n".join(f"coalesce(ct.contacts_90d_{channel}, 0)" for channel in COUNTED_CHANNELS)
_COUNTED = ", ".join(f"'{channel}'" for channel in COUNTED_CHANNELS)

# One pass per fact table, grouped by customer, joined to the customers; days are fractional.
FEATURES_SQL = f"""
WITH base AS (
    SELECT c.id, c.value_tier, c.created_at
    FROM records_customer c
    WHERE c.status = 'active' AND c.created_at <= %(as_of)s
      AND (%(ids)s::bigint[] IS NULL OR c.id = ANY(%(ids)s::bigint[]))
), ct AS (
    SELECT i.customer_id,
        max(i.started_at) AS last_at,
        count(*) FILTER (WHERE i.started_at > %(recent)s) AS contacts_90d,
        count(*) AS contacts_365d,
        {_CHANNEL_COUNTS},
        count(*) FILTER (WHERE i.started_at > %(recent)s AND i.channel NOT IN ({_COUNTED})) AS contacts_90d_other,
        avg(i.sentiment) FILTER (WHERE i.started_at > %(recent)s) AS sentiment_90d
    FROM records_interaction i
    WHERE i.customer_id IS NOT NULL AND i.started_at <= %(as_of)s AND i.started_at > %(lookback)s
    GROUP BY i.customer_id
), cs AS (
    SELECT k.customer_id,
        max(k.created_at) AS last_at,
        count(*) FILTER (WHERE (k.resolved_at IS NULL OR k.resolved_at > %(as_of)s)
                           AND (k.closed_at IS NULL OR k.closed_at > %(as_of)s)) AS cases_open,
        count(*) FILTER (WHERE k.created_at > %(recent)s) AS cases_opened_90d,
        count(*) FILTER (WHERE k.resolved_at > %(recent)s AND k.resolved_at <= %(as_of)s) AS cases_resolved_90d
    FROM records_case k
    WHERE k.created_at <= %(as_of)s
    GROUP BY k.customer_id
), hd AS (
    SELECT h.customer_id, count(*) AS holdings
    FROM records_holding h
    WHERE h.created_at <= %(as_of)s
    GROUP BY h.customer_id
), ev AS (
    SELECT e.customer_id, max(e.occurred_at) AS last_at,
        count(*) FILTER (WHERE e.occurred_at > %(recent)s) AS events_90d
    FROM records_journeyevent e
    WHERE e.occurred_at <= %(as_of)s AND e.occurred_at > %(lookback)s AND e.source_system <> '{OWN_SOURCE}'
    GROUP BY e.customer_id
)
SELECT b.id, b.value_tier,
    extract(epoch FROM %(as_of)s - b.created_at) / 86400.0,
    least(coalesce(extract(epoch FROM %(as_of)s - ct.last_at) / 86400.0, {LOOKBACK_DAYS}), {LOOKBACK_DAYS}),
    least(coalesce(extract(epoch FROM %(as_of)s - greatest(ct.last_at, cs.last_at, ev.last_at)) / 86400.0,
                   {LOOKBACK_DAYS}), {LOOKBACK_DAYS}),
    coalesce(ct.contacts_90d, 0),
    coalesce(ct.contacts_365d, 0),
    {_CHANNEL_SELECT},
    coalesce(ct.contacts_90d_other, 0),
    coalesce(cs.cases_open, 0),
    coalesce(cs.cases_opened_90d, 0),
    coalesce(cs.cases_resolved_90d, 0),
    coalesce(hd.holdings, 0),
    coalesce(ct.sentiment_90d, 0),
    coalesce(ev.events_90d, 0)
FROM base b
LEFT JOIN ct ON ct.customer_id = b.id
LEFT JOIN cs ON cs.customer_id = b.id
LEFT JOIN hd ON hd.customer_id = b.id
LEFT JOIN ev ON ev.customer_id = b.id
ORDER BY b.id
"""  # noqa: S608 - the interpolated names are module constants (channels, numbers), never input

ACTIVE_SQL = f"""
SELECT customer_id FROM records_interaction
 WHERE customer_id IS NOT NULL AND started_at > %(after)s AND started_at <= %(until)s
UNION
SELECT customer_id FROM records_case WHERE created_at > %(after)s AND created_at <= %(until)s
UNION
SELECT customer_id FROM records_journeyevent
 WHERE occurred_at > %(after)s AND occurred_at <= %(until)s AND source_system <> '{OWN_SOURCE}'
"""  # noqa: S608 - a module constant

ACQUIRING_SQL = """
SELECT customer_id FROM records_holding
 WHERE created_at > %(after)s AND created_at <= %(until)s AND kind = ANY(%(kinds)s)
UNION
SELECT customer_id FROM records_journeyevent
 WHERE occurred_at > %(after)s AND occurred_at <= %(until)s AND kind = ANY(%(events)s)
"""


@dataclass(frozen=True)
class FeatureTable:
    """Each row: customer id, value tier, then ``FEATURE_COLUMNS`` in order (floats)."""

    as_of: datetime
    customer_ids: list[int]
    value_tiers: list[str]
    values: list[tuple[float, ...]]


def customer_features_as_of(*, as_of: datetime, customer_ids: Sequence[int] | None = None) -> FeatureTable:
    """The features of every active customer created at or before ``as_of`` (or of ``customer_ids``
    among them), from facts at or before ``as_of`` only; one statement, ordered by customer id.

    Days since last contact / activity are capped at ``LOOKBACK_DAYS`` (none in the lookback counts
    as the cap); ``sentiment_90d`` is 0 when no recent contact had a sentiment.
    """
    params: dict[str, Any] = {
        "as_of": as_of,
        "recent": as_of - timedelta(days=RECENT_DAYS),
        "lookback": as_of - timedelta(days=LOOKBACK_DAYS),
        "ids": list(customer_ids) if customer_ids is not None else None,
    }
    with connection.cursor() as cursor:
        cursor.execute(FEATURES_SQL, params)
        rows = cursor.fetchall()
    return FeatureTable(
        as_of=as_of,
        customer_ids=[row[0] for row in rows],
        value_tiers=[row[1] for row in rows],
        values=[tuple(float(value) for value in row[2:]) for row in rows],
    )


def customers_active_between(*, after: datetime, until: datetime) -> set[int]:
    """Customers with an interaction, a case opened or a journey event (not insights' own) in ``(after, until]``."""
    with connection.cursor() as cursor:
        cursor.execute(ACTIVE_SQL, {"after": after, "until": until})
        return {row[0] for row in cursor.fetchall()}


def customers_acquiring_between(*, after: datetime, until: datetime) -> set[int]:
    """Customers who gained an account, a product or an order (a new holding, or a purchase journey
    event: ``PURCHASE_EVENT_KINDS``) in ``(after, until]``."""
    params: dict[str, Any] = {
        "after": after,
        "until": until,
        "kinds": list(ACQUIRED_KINDS),
        "events": list(PURCHASE_EVENT_KINDS),
    }
    with connection.cursor() as cursor:
        cursor.execute(ACQUIRING_SQL, params)
        return {row[0] for row in cursor.fetchall()}
