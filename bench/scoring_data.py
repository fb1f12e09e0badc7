"""Synthetic customers, interactions and holdings for the scoring models, written set-wise in SQL.

Used by bench/scoring.py (100,000 customers) and tests/insights/test_scoring_training.py (a few
hundred). Each customer draws an engagement e in [0, 1): they contact the centre about rate·e
(``rate``) times a day, on a channel and with a sentiment that also follow e, and with probability 0.35 they
go quiet for good at a random day of the span. Holdings appear at a rate that grows with e.
So the signal is known: low recent contact, long silence and low engagement mean churn; high
engagement means a new holding. ``setseed`` makes the same data for the same seed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection, transaction

SPAN_DAYS = 200

CUSTOMERS_SQL = """
CREATE TEMP TABLE synthetic_people ON COMMIT DROP AS
SELECT g AS n, random() AS engagement, random() < 0.35 AS lapses, random() AS lapse_at, random() AS tier
FROM generate_series(1, %(customers)s) g;

CREATE TEMP TABLE synthetic_customers ON COMMIT DROP AS
WITH made AS (
    INSERT INTO records_customer (
        created_at, updated_at, given_name, family_name, search_name, email, phone, address_line1,
        address_line2, city, postcode, country, language, preferred_channel, preferences, segment, persona,
        value_tier, custom_attributes, scores, status, journey_stage, persona_reasons
    )
    SELECT %(start)s::timestamptz - (p.n %% 700) * interval '1 day', %(now)s, 'Synthetic', 'Customer ' || p.n,
        'synthetic customer ' || p.n, '', '', '', '', '', '', '', 'en', '', '{}', 'synthetic', '',
        CASE WHEN p.tier < 0.6 THEN 'standard' WHEN p.tier < 0.85 THEN 'silver' WHEN p.tier < 0.97 THEN 'gold'
             ELSE 'platinum' END,
        '{}', '{}', 'active', '', '[]'
    FROM synthetic_people p ORDER BY p.n
    RETURNING id, family_name
)
SELECT m.id, p.* FROM made m JOIN synthetic_people p ON m.family_name = 'Customer ' || p.n;

INSERT INTO records_interaction (
    created_at, updated_at, channel, direction, external_id, started_at, ended_at, queue, transcript,
    wrap_up_code, disposition, wrap_up_notes, context_snapshot, sentiment, sentiment_label, customer_id
)
SELECT t.at, t.at,
    CASE WHEN random() < c.engagement THEN 'chat' WHEN random() < 0.5 THEN 'voice' ELSE 'email' END,
    'inbound', '', t.at, t.at + interval '5 minutes', '', '[]', '', '', '', '{}',
    round((c.engagement - 0.5 + (random() - 0.5) * 0.6)::numeric, 2)::float, '', c.id
FROM synthetic_customers c
CROSS JOIN LATERAL generate_series(1, floor(c.engagement * %(rate)s * %(span)s + random() * 2)::int) k
CROSS JOIN LATERAL (
    SELECT %(start)s::timestamptz + (random() + 0 * k) * (CASE WHEN c.lapses THEN c.lapse_at ELSE 1 END)
        * %(span)s * interval '1 day' AS at
) t;

INSERT INTO records_holding (
    created_at, updated_at, system, kind, external_id, name, status, currency, data, checksum, customer_id
)
SELECT t.at, t.at, 'synthetic', 'product', 'S-' || c.id || '-' || k, 'Product', 'active', '', '{}', '', c.id
FROM synthetic_customers c
CROSS JOIN LATERAL generate_series(1, floor(c.engagement * c.engagement * 6 + random() * 0.5)::int) k
CROSS JOIN LATERAL (SELECT %(start)s::timestamptz + (random() + 0 * k) * %(span)s * interval '1 day' AS at) t;
"""


def synthetic_facts_write(*, customers: int, now: datetime, seed: float = 0.42, rate: float = 0.25) -> list[int]:
    """Insert ``customers`` synthetic customers with their interactions (about ``rate``·e a day) and
    holdings over the ``SPAN_DAYS`` before ``now``; returns the customers' ids. Runs in one
    transaction (the audit triggers record the inserts as for any other row)."""
    start = now - timedelta(days=SPAN_DAYS)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [seed])
        params = {"customers": customers, "start": start, "now": now, "span": SPAN_DAYS, "rate": rate}
        for statement in CUSTOMERS_SQL.split(";\n"):
            if statement.strip():
                cursor.execute(statement, {name: value for name, value in params.items() if f"%({name})s" in statement})
        cursor.execute("SELECT id FROM synthetic_customers ORDER BY id")
        return [row[0] for row in cursor.fetchall()]
