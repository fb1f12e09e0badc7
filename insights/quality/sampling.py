"""The sampling queue: which interactions of a week supervisors should evaluate, and why.

Per agent and week: ``per_agent`` random picks (seeded by week and agent: the same week sampled twice
picks the same), plus targeted picks, the worst first, at most ``targeted_per_agent`` per reason:

- low satisfaction: ``Interaction.satisfaction`` (CSAT) ≤ 2;
- negative sentiment: ``Interaction.sentiment`` ≤ −0.5;
- long handle time: ended − answered above the p90 of its queue that week (queues with at least
  ``P90_MIN_CONTACTS`` answered contacts), else above ``CEA_QA_LONG_HANDLE_SECONDS`` (default 900 s).

Idempotent: an interaction is sampled once per reason, and interactions already evaluated are skipped.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Aggregate, Count, Exists, FloatField, OuterRef, QuerySet
from django.db.models.functions import Extract

from insights.quality.models import Evaluation, EvaluationStatus, SampleItem, SampleReason
from records.interactions.models import Interaction
from records.interactions.selectors import interactions_answered_between

P90_MIN_CONTACTS = 10
LOW_SATISFACTION = 2
NEGATIVE_SENTIMENT = -0.5
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


def _pick(contacts: QuerySet[Interaction], limit: int) -> list[Interaction]:
    """At most ``limit`` contacts per agent, in the queryset's order (the worst first)."""
    taken: dict[int, int] = defaultdict(int)
    picked = []
    for contact in contacts:
        agent_id = contact.agent_id or 0  # the selector keeps contacts with an agent only
        if taken[agent_id] < limit:
            taken[agent_id] += 1
            picked.append(contact)
    return picked


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

    low = open_contacts.filter(satisfaction__lte=LOW_SATISFACTION).order_by("satisfaction", "-ended_at")
    picks += [(c, SampleReason.LOW_SATISFACTION, f"CSAT {c.satisfaction}/5") for c in _pick(low, targeted_per_agent)]
    negative = open_contacts.filter(sentiment__lte=NEGATIVE_SENTIMENT).order_by("sentiment", "-ended_at")
    picks += [
        (c, SampleReason.NEGATIVE_SENTIMENT, f"Sentiment {c.sentiment:.2f}")
        for c in _pick(negative, targeted_per_agent)
    ]
    p90 = queue_p90_seconds(contacts)
    default = long_handle_default()
    long_ones = []
    for contact in open_contacts.order_by("-handle"):
        limit = p90.get(contact.queue, default)
        seconds = getattr(contact, "handle").total_seconds()  # noqa: B009 - an annotation mypy cannot see
        if seconds <= limit:
            continue
        long_ones.append((contact, limit, seconds))
    taken: dict[int, int] = defaultdict(int)
    for contact, limit, seconds in long_ones:
        if taken[contact.agent_id or 0] < targeted_per_agent:
            taken[contact.agent_id or 0] += 1
            basis = "the queue's p90" if contact.queue in p90 else "the threshold"
            picks.append(
                (contact, SampleReason.LONG_HANDLE_TIME, f"Handle {seconds:.0f} s, above {basis} of {limit:.0f} s")
            )

    existing_random = dict(
        SampleItem.objects.filter(week_start=week_start, reason=SampleReason.RANDOM)
        .values("agent_id")
        .annotate(n=Count("id"))
        .values_list("agent_id", "n")
    )
    by_agent: dict[int, list[Interaction]] = defaultdict(list)
    for contact in open_contacts.order_by("id"):
        by_agent[contact.agent_id or 0].append(contact)
    for agent_id, agent_contacts in sorted(by_agent.items()):
        wanted = per_agent - existing_random.get(agent_id, 0)
        if wanted <= 0:
            continue
        chooser = random.Random(f"{week_start.isoformat()}:{agent_id}")
        chosen = chooser.sample(agent_contacts, min(wanted, len(agent_contacts)))
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
