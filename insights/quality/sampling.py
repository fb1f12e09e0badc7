"""The sampling queue: which interactions of a week supervisors should evaluate, and why.

Per agent and week: ``per_agent`` random picks (ordered by a hash of the week and the contact: the same
week sampled twice picks the same), plus targeted picks, the worst first, at most ``targeted_per_agent``
per reason (set-based: a window ranks each agent's contacts in SQL):

- low satisfaction: ``Interaction.satisfaction`` (CSAT) ≤ 2;
- negative sentiment: ``Interaction.sentiment`` ≤ −0.5;
- long handle time: ended − answered above the p90 of its queue that week (queues with at least
  ``P90_MIN_CONTACTS`` answered contacts), else above ``CEA_QA_LONG_HANDLE_SECONDS`` (default 900 s).

Idempotent: an interaction is sampled once per reason, and interactions already evaluated are skipped.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import (
    Aggregate,
    CharField,
    Count,
    Exists,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    Window,
)
from django.db.models.functions import MD5, Cast, Coalesce, Concat, Extract, RowNumber

from insights.quality.models import Evaluation, EvaluationStatus, SampleItem, SampleReason
from records.interactions.models import Interaction
from records.interactions.selectors import interactions_answered_between

P90_MIN_CONTACTS = 10
LOW_SATISFACTION = 2
NEGATIVE_SENTIMENT = -0.5
PICKED_COLUMNS = ("id", "agent_id", "team_id", "queue", "satisfaction", "sentiment", "answered_at", "ended_at")
FINAL_STATUSES = [status for status in EvaluationStatus.values if status != EvaluationStatus.DRAFT]


class Percentile90(Aggregate):
    """PostgreSQL's continuous 90th percentile of the expression."""

    function = "percentile_cont"
    template = "%(function)s(0.9) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def week_start_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


@dataclass(frozen=True)
class SampleCounts:
    random: int
    low_satisfaction: int
    negative_sentiment: int
    long_handle_time: int

    @property
    def total(self) -> int:
        return self.random + self.low_satisfaction + self.negative_sentiment + self.long_handle_time


def long_handle_default() -> float:
    return float(settings.CEA_QA_LONG_HANDLE_SECONDS)


def queue_p90_seconds(contacts: QuerySet[Interaction]) -> dict[str, float]:
    """The p90 handle time in seconds per queue with enough contacts (set-based, one query)."""
    rows = (
        contacts.values("queue")
        .annotate(contacts=Count("id"), p90=Percentile90(Extract("handle", "epoch")))
        .filter(contacts__gte=P90_MIN_CONTACTS)
    )
    return {row["queue"]: float(row["p90"]) for row in rows}


def _worst_per_agent(contacts: QuerySet[Interaction], order: list, limit: int) -> QuerySet[Interaction]:
    """At most ``limit`` contacts per agent, the first in ``order`` (a window in SQL: rows never loop here)."""
    ranked = contacts.annotate(rank=Window(RowNumber(), partition_by=[F("agent_id")], order_by=order))
    return ranked.filter(rank__lte=limit).only(*PICKED_COLUMNS).order_by("agent_id", "rank")


def sample_week(
    *, week_start: dt.date, team_ids: frozenset[int] | None = None, per_agent: int = 2, targeted_per_agent: int = 3
) -> SampleCounts:
    """Add the week's picks to the queue for ``team_ids`` (``None``: every team); returns how many were added."""
    start = dt.datetime.combine(week_start, dt.time(), tzinfo=dt.UTC)
    contacts = interactions_answered_between(ended_from=start, ended_before=start + dt.timedelta(days=7))
    if team_ids is not None:
        contacts = contacts.filter(team_id__in=sorted(team_ids))
    evaluated = Evaluation.objects.filter(
        interaction_id=OuterRef("pk"), calibration__isnull=True, status__in=FINAL_STATUSES
    )
    open_contacts = contacts.exclude(Exists(evaluated))
    picks: list[tuple[Interaction, str, str]] = []

    low = open_contacts.filter(satisfaction__lte=LOW_SATISFACTION)
    worst = [F("satisfaction").asc(), F("ended_at").desc()]
    picks += [
        (c, SampleReason.LOW_SATISFACTION, f"CSAT {c.satisfaction}/5")
        for c in _worst_per_agent(low, worst, targeted_per_agent)
    ]
    negative = open_contacts.filter(sentiment__lte=NEGATIVE_SENTIMENT)
    worst = [F("sentiment").asc(), F("ended_at").desc()]
    picks += [
        (c, SampleReason.NEGATIVE_SENTIMENT, f"Sentiment {c.sentiment:.2f}")
        for c in _worst_per_agent(negative, worst, targeted_per_agent)
    ]
    p90 = queue_p90_seconds(contacts)
    default = long_handle_default()
    above = Q(handle__gt=dt.timedelta(seconds=default)) & ~Q(queue__in=sorted(p90))
    for queue, seconds in p90.items():
        above |= Q(queue=queue, handle__gt=dt.timedelta(seconds=seconds))
    longest = [F("handle").desc(), F("id").asc()]
    for contact in _worst_per_agent(open_contacts.filter(above), longest, targeted_per_agent):
        limit = p90.get(contact.queue, default)
        basis = "the queue's p90" if contact.queue in p90 else "the threshold"
        handle = getattr(contact, "handle").total_seconds()  # noqa: B009 - an annotation mypy cannot see
        picks.append((contact, SampleReason.LONG_HANDLE_TIME, f"Handle {handle:.0f} s, above {basis} of {limit:.0f} s"))

    # Random: per agent, the first contacts by a hash of week and id (the same picks on every run), as
    # many as the agent still lacks this week; contacts already picked at random are not drawn again.
    random_items = SampleItem.objects.filter(week_start=week_start, reason=SampleReason.RANDOM)
    already_random = (
        random_items.filter(agent_id=OuterRef("agent_id")).values("agent_id").annotate(n=Count("id")).values("n")
    )
    draw = MD5(Concat(Value(f"{week_start.isoformat()}:"), Cast("id", output_field=CharField())))
    candidates = open_contacts.exclude(pk__in=random_items.values("interaction_id")).annotate(
        lacking=per_agent - Coalesce(Subquery(already_random), 0)
    )
    ranked = candidates.annotate(rank=Window(RowNumber(), partition_by=[F("agent_id")], order_by=[draw.asc()]))
    chosen = ranked.filter(rank__lte=F("lacking")).only(*PICKED_COLUMNS)
    picks += [(c, SampleReason.RANDOM, "Random sample of the agent's week") for c in chosen]

    return _store(picks, week_start)


def _store(picks: list[tuple[Interaction, str, str]], week_start: dt.date) -> SampleCounts:
    counts: dict[str, int] = defaultdict(int)
    with transaction.atomic():
        already = set(
            SampleItem.objects.filter(interaction_id__in=[c.pk for c, _, _ in picks]).values_list(
                "interaction_id", "reason"
            )
        )
        new = []
        for contact, reason, detail in picks:
            if (contact.pk, reason) in already:
                continue
            already.add((contact.pk, reason))
            counts[reason] += 1
            new.append(
                SampleItem(
                    interaction=contact,
                    team_id=contact.team_id,
                    agent_id=contact.agent_id,
                    week_start=week_start,
                    reason=reason,
                    detail=detail,
                )
            )
        SampleItem.objects.bulk_create(new, ignore_conflicts=True)
    return SampleCounts(
        random=counts[SampleReason.RANDOM],
        low_satisfaction=counts[SampleReason.LOW_SATISFACTION],
        negative_sentiment=counts[SampleReason.NEGATIVE_SENTIMENT],
        long_handle_time=counts[SampleReason.LONG_HANDLE_TIME],
    )
