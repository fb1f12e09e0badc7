"""Reads of interactions for other layers (insights' rollups), without checking who asks."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import BooleanField, DurationField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet

from cea.common.channels import Direction
from records.interactions.models import Interaction


def interactions_changed(*, after: datetime | None, until: datetime) -> QuerySet[Interaction]:
    """Interactions recorded or changed in ``(after, until]`` (all up to ``until`` when ``after`` is None)."""
    changed = Interaction.objects.filter(updated_at__lte=until)
    return changed if after is None else changed.filter(updated_at__gt=after)


def interaction_facts(*, started_ranges: list[tuple[datetime, datetime]], repeat_days: int) -> QuerySet[Interaction]:
    """Interactions started in one of the ``[from, before)`` ranges, annotated for contact KPIs.

    Annotations: ``customer_tier`` (the customer's value tier, blank without a customer),
    ``contained`` (ended in self-service, as recorded in its context snapshot) and ``repeated``
    (the same customer came back with the same wrap-up code after it started and at most
    ``repeat_days`` days after it ended: not resolved at first contact).
    """
    repeat = Interaction.objects.filter(
        customer_id=OuterRef("customer_id"),
        wrap_up_code=OuterRef("wrap_up_code"),
        started_at__gt=OuterRef("started_at"),
        started_at__lte=OuterRef("ended_at") + timedelta(days=repeat_days),
    ).exclude(pk=OuterRef("pk"))
    started = Q()
    for started_from, started_before in started_ranges:
        started |= Q(started_at__gte=started_from, started_at__lt=started_before)
    return Interaction.objects.filter(started).annotate(
        customer_tier=F("customer__value_tier"),
        contained=ExpressionWrapper(Q(context_snapshot__contained=True), output_field=BooleanField()),
        repeated=Exists(repeat),
    )


def interactions_repeated_by(*, interactions: QuerySet[Interaction], repeat_days: int) -> QuerySet[Interaction]:
    """Earlier interactions that one of ``interactions`` repeats (same customer and wrap-up code, within N days).

    Their first-contact resolution changes when a repeat arrives, so their intervals are re-computed.
    """
    later = interactions.filter(
        customer_id=OuterRef("customer_id"),
        wrap_up_code=OuterRef("wrap_up_code"),
        started_at__gt=OuterRef("started_at"),
        started_at__lte=OuterRef("ended_at") + timedelta(days=repeat_days),
    )
    customers = interactions.filter(customer_id__isnull=False).values("customer_id")
    return Interaction.objects.filter(customer_id__in=customers).exclude(wrap_up_code="").filter(Exists(later))


def interactions_handled_around(
    *, start: datetime, end: datetime, released_since_start: QuerySet[Any] | None = None
) -> QuerySet[Interaction]:
    """Interactions an agent answered before ``end`` that ended after a day before ``start``
    (their after-contact work may run into ``[start, end)``), among those started in the week before.

    The bound on the start (indexed) keeps an incremental run from reading every interaction: a
    contact that lasts more than a week is cut at that bound in agents' time.

    ``released_since_start`` (the ids of interactions whose after-contact work ended at or after
    ``start``, from engagement) keeps only the contacts that reach ``start``: those that ended at or
    after it (indexed, ``interaction_ended``) or are among those ids. An incremental run then reads
    the few contacts of its window instead of a week of interactions (bench/insights.py).
    """
    handled = Interaction.objects.filter(
        started_at__gt=start - timedelta(days=7),
        started_at__lt=end,
        agent__isnull=False,
        answered_at__isnull=False,
        answered_at__lt=end,
        ended_at__gt=start - timedelta(days=1),
    ).order_by()
    if released_since_start is None:
        return handled
    reaching = Interaction.objects.filter(ended_at__gte=start).order_by().values("pk").union(released_since_start)
    return handled.filter(pk__in=reaching)


def interactions_for_report(
    *,
    started_from: datetime,
    started_before: datetime,
    team_ids: Collection[int] | None = None,
    agent_id: int | None = None,
    dimensions: Mapping[str, Sequence[str | int]] | None = None,
) -> QuerySet[Interaction]:
    """Interactions started in ``[started_from, started_before)`` for insights' drill-down and exports.

    ``team_ids``/``agent_id`` narrow them to a supervisor's teams or an agent's own (``None``: no
    limit; the caller decides who sees what). ``dimensions`` keeps those whose report dimension
    (``queue``, ``channel``, ``team``, ``agent``, ``wrap_up_code``, ``customer_tier``) is one of the
    values given. Customer, agent and team are selected with them, oldest first.
    """
    columns = {
        "queue": "queue",
        "channel": "channel",
        "team": "team_id",
        "agent": "agent_id",
        "wrap_up_code": "wrap_up_code",
        "customer_tier": "customer__value_tier",
    }
    interactions = Interaction.objects.filter(started_at__gte=started_from, started_at__lt=started_before)
    if team_ids is not None:
        interactions = interactions.filter(team_id__in=sorted(team_ids))
    if agent_id is not None:
        interactions = interactions.filter(agent_id=agent_id)
    for name, values in (dimensions or {}).items():
        if name not in columns:
            raise ValueError(f"Unknown report dimension {name!r}.")
        # A blank value is a contact without one (no team, no agent, no queue).
        blank = Q(**{f"{columns[name]}__isnull": True}) if name in ("team", "agent") else Q(**{columns[name]: ""})
        chosen = [value for value in values if value not in ("", None)]
        condition = Q(**{f"{columns[name]}__in": chosen})
        if len(chosen) < len(values):
            condition |= blank
        interactions = interactions.filter(condition)
    return interactions.select_related("customer", "agent", "team").order_by("started_at", "id")


def interactions_of_customers_between(*, start: datetime, end: datetime) -> QuerySet[Interaction]:
    """Interactions with a known customer started in ``[start, end)``: the contacts that count as engagement."""
    return Interaction.objects.filter(customer__isnull=False, started_at__gte=start, started_at__lt=end)


def interactions_of_customers_of(*, team_ids: frozenset[int] | None) -> QuerySet[Interaction]:
    """Interactions with a known customer of ``team_ids`` (``None``: of any team or none)."""
    contacts = Interaction.objects.filter(customer__isnull=False)
    return contacts if team_ids is None else contacts.filter(customer__team_id__in=sorted(team_ids))


def interactions_answered_between(*, ended_from: datetime, ended_before: datetime) -> QuerySet[Interaction]:
    """Interactions an agent answered that ended in ``[ended_from, ended_before)`` and belong to a team
    (insights' quality sampling), annotated with ``handle`` (ended − answered, an interval)."""
    return (
        Interaction.objects.filter(
            ended_at__gte=ended_from,
            ended_at__lt=ended_before,
            agent__isnull=False,
            answered_at__isnull=False,
            team__isnull=False,
        )
        .annotate(handle=ExpressionWrapper(F("ended_at") - F("answered_at"), output_field=DurationField()))
        .order_by()
    )


def interaction_with_customer(*, interaction_id: int) -> Interaction | None:
    """One interaction with its customer, agent and team, or ``None`` (for insights' scorers, compliance
    checks and surveys, which follow a recorded interaction: system work, no reader to check)."""
    return Interaction.objects.select_related("customer", "agent", "team").filter(pk=interaction_id).first()


def interactions_page(
    *, after_id: int = 0, limit: int = 1000, unscored_only: bool = False, created_since: datetime | None = None
) -> list[Interaction]:
    """Interactions by id after ``after_id`` (a backfill's page), with their customers; ``unscored_only``:
    those without a sentiment yet; ``created_since``: those recorded since then."""
    rows = Interaction.objects.select_related("customer").filter(pk__gt=after_id)
    if unscored_only:
        rows = rows.filter(sentiment__isnull=True)
    if created_since is not None:
        rows = rows.filter(created_at__gte=created_since)
    return list(rows.order_by("id")[:limit])


def recent_sentiments_of(*, customer_ids: list[int], since: datetime, per_customer: int) -> dict[int, list[float]]:
    """Each customer's interactions' sentiments since ``since``, oldest first, the newest ``per_customer``
    only (customers without one are left out). One query."""
    rows = (
        Interaction.objects.filter(customer_id__in=customer_ids, started_at__gte=since, sentiment__isnull=False)
        .order_by("customer_id", "-started_at", "-id")
        .values_list("customer_id", "sentiment")
    )
    found: dict[int, list[float]] = {}
    for customer_id, score in rows:
        kept = found.setdefault(customer_id, [])
        if score is not None and len(kept) < per_customer:
            kept.append(float(score))
    return {pk: list(reversed(scores)) for pk, scores in found.items()}


def interaction_queue_channels(*, since: datetime | None) -> list[dict[str, Any]]:
    """The queues and channels inbound contacts came through since ``since`` (all history when None), for
    workforce planning: per (queue, channel) ``contacts``, ``first_started_at``, ``last_started_at`` and
    ``team_id``, the team most of its contacts belonged to (None when most had none; ties: the lowest id).
    Contacts without a queue are left out. Ordered by contacts, most first."""
    from django.db.models import Count, Max, Min

    inbound = Interaction.objects.filter(direction="inbound").exclude(queue="")
    if since is not None:
        inbound = inbound.filter(started_at__gte=since)
    per_team = inbound.values("queue", "channel", "team_id").annotate(
        contacts=Count("id"), first=Min("started_at"), last=Max("started_at")
    )
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for row in per_team.order_by("queue", "channel", "-contacts", "team_id"):
        key = (row["queue"], row["channel"])
        entry = found.get(key)
        if entry is None:
            found[key] = {
                "queue": row["queue"],
                "channel": row["channel"],
                "contacts": row["contacts"],
                "first_started_at": row["first"],
                "last_started_at": row["last"],
                "team_id": row["team_id"],
            }
            continue
        entry["contacts"] += row["contacts"]
        entry["first_started_at"] = min(entry["first_started_at"], row["first"])
        entry["last_started_at"] = max(entry["last_started_at"], row["last"])
    return sorted(found.values(), key=lambda entry: (-entry["contacts"], entry["queue"], entry["channel"]))


@dataclass(frozen=True)
class IntervalCounts:
    """One interval of one queue and channel: inbound contacts that started in it (abandoned ones
    included), those an agent answered, and their handle seconds (answered to ended)."""

    interval_start: datetime
    contacts: int
    handled: int
    handle_seconds: float


INTERVAL_COUNTS_SQL = """
    SELECT date_bin(%(bin)s, started_at, %(origin)s) AS interval_start,
           count(*) AS contacts,
           count(answered_at) AS handled,
           coalesce(sum(extract(epoch FROM ended_at - answered_at)), 0) AS handle_seconds
      FROM records_interaction
     WHERE queue = %(queue)s AND channel = %(channel)s AND direction = %(inbound)s
       AND started_at >= %(start)s AND started_at < %(end)s
     GROUP BY 1
     ORDER BY 1
"""


def interaction_interval_counts(
    *, queue: str, channel: str, start: datetime, end: datetime, interval_minutes: int
) -> list[IntervalCounts]:
    """Inbound contacts of ``queue`` on ``channel`` per interval of ``interval_minutes`` (aligned in UTC to
    the epoch, so 15 and 30 minutes fall on the quarter- and half-hours) that started in ``[start, end)``.

    Intervals without contacts are absent; ``contacts`` counts abandoned ones (never answered) too.
    One GROUP BY over the interactions (``INTERVAL_COUNTS_SQL``).
    """
    params: dict[str, Any] = {
        "bin": timedelta(minutes=interval_minutes),
        "origin": datetime(2000, 1, 1, tzinfo=UTC),
        "queue": queue,
        "channel": channel,
        "inbound": Direction.INBOUND.value,
        "start": start,
        "end": end,
    }
    with connection.cursor() as cursor:
        cursor.execute(INTERVAL_COUNTS_SQL, params)
        return [
            IntervalCounts(interval_start=row[0], contacts=row[1], handled=row[2], handle_seconds=float(row[3]))
            for row in cursor.fetchall()
        ]
