"""Deciding what a strategy does for a customer on one occasion, and recording it once.

Shared by the per-event evaluation, the time triggers and the dry-run. For a batch of
candidates (strategy × customer × occasion) it reads, in one query each, the customers' recent
firings (caps) and their granted consents, then decides in order:

1. the strategy's own cap (``cap_firings`` per ``cap_days``), then the global per-customer cap
   (``CEA_STRATEGIES_CUSTOMER_CAP`` per ``CEA_STRATEGIES_CUSTOMER_CAP_DAYS``, all strategies):
   suppressed ``capped`` / ``global_cap``;
2. quiet hours (local time of the strategy): suppressed ``quiet_hours`` — never deferred;
3. consent: a message needs a channel consented for its purpose (the customer's preferred
   channel first); suppressed ``no_consent``;
4. arbitration (``insights.strategies.arbitration``): the eligible strategies of one customer at one
   occasion are ranked by priority in their pool (desk card, proactive); the top N go on, the rest
   are suppressed ``outranked`` — a customer of the random control group gets N chosen at random;
5. the holdout: a kept candidate whose customer is in the strategy's holdout is recorded
   ``held_out`` and not acted on.

Firings and holdouts both count towards the caps, so the two groups meet the same limits. Every
eligible candidate's arbitration components and priority are recorded on its firing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from cea.common.channels import Channel
from cea.common.errors import ApplicationError
from cea.common.tasks import send_on_commit
from engagement.conversations.selectors import customers_in_conversation
from engagement.outbound.services import OUTBOUND_CHANNELS
from insights.strategies.actions import action_execute
from insights.strategies.arbitration import (
    LIVE,
    OUTRANKED,
    Occasion,
    components_of,
    control_order,
    in_control,
    pool_of,
    ranked,
    top_of,
)
from insights.strategies.models import ActionKind, FiringGroup, FiringOutcome, Strategy, StrategyFiring
from insights.strategies.rules import in_holdout, in_quiet_hours
from records.customers.models import Consent, Customer

# The channels a proactive message may go out on (those engagement starts conversations on), in the
# order tried after the preferred one.
MESSAGE_CHANNELS = tuple(OUTBOUND_CHANNELS)
COUNTED = (FiringOutcome.FIRED, FiringOutcome.HELD_OUT, FiringOutcome.FAILED)

CAPPED, GLOBAL_CAP, QUIET_HOURS, NO_CONSENT = "capped", "global_cap", "quiet_hours", "no_consent"


@dataclass(frozen=True)
class Candidate:
    strategy: Strategy
    customer: Customer
    occasion: str
    event_id: int | None = None
    channel: str = ""  # the occasion's channel (the journey event's), for arbitration's context weight


@dataclass
class Decision:
    candidate: Candidate
    group: str
    outcome: str
    reason: str = ""
    channel: str = ""
    priority: float | None = None
    components: dict[str, Any] = field(default_factory=dict)


def _recent(customer_ids: list[int], since: dt.datetime) -> dict[int, list[tuple[int, dt.datetime]]]:
    recent: dict[int, list[tuple[int, dt.datetime]]] = defaultdict(list)
    rows = StrategyFiring.objects.filter(customer_id__in=customer_ids, outcome__in=COUNTED, at__gte=since)
    for customer_id, strategy_id, at in rows.values_list("customer_id", "strategy_id", "at"):
        recent[customer_id].append((strategy_id, at))
    return recent


def _consents(customer_ids: list[int]) -> dict[int, set[tuple[str, str]]]:
    granted: dict[int, set[tuple[str, str]]] = defaultdict(set)
    rows = Consent.objects.filter(customer_id__in=customer_ids, granted=True)
    for customer_id, channel, purpose in rows.values_list("customer_id", "channel", "purpose"):
        granted[customer_id].add((channel, purpose))
    return granted


def message_channel(strategy: Strategy, customer: Customer, granted: set[tuple[str, str]]) -> str:
    """The channel a message goes out on: the one the strategy names, else the customer's preferred
    channel, else the first message channel — each only if consented for the purpose (``""``: none)."""
    purpose = strategy.consent_purpose
    named = (strategy.action_params or {}).get("channel", "")
    if named:
        return named if (named, purpose) in granted else ""
    preferred = customer.preferred_channel
    order = [preferred, *MESSAGE_CHANNELS] if preferred in MESSAGE_CHANNELS else list(MESSAGE_CHANNELS)
    return next((channel for channel in order if (channel, purpose) in granted), "")


def _consent(strategy: Strategy, customer: Customer, granted: set[tuple[str, str]]) -> tuple[bool, str]:
    if strategy.action_kind == ActionKind.MESSAGE:
        channel = message_channel(strategy, customer, granted)
        return bool(channel), channel
    if strategy.action_kind == ActionKind.CALLBACK and strategy.consent_purpose:
        return (Channel.VOICE, strategy.consent_purpose) in granted, Channel.VOICE
    if strategy.consent_purpose:
        return any(purpose == strategy.consent_purpose for _, purpose in granted), ""
    return True, ""


class _Caps:
    """Firings per (customer, strategy) and per customer in their windows, counting this batch's too."""

    def __init__(self, candidates: list[Candidate], now: dt.datetime) -> None:
        self.now = now
        self.global_cap = settings.CEA_STRATEGIES_CUSTOMER_CAP
        self.global_since = now - dt.timedelta(days=settings.CEA_STRATEGIES_CUSTOMER_CAP_DAYS)
        longest = max([c.strategy.cap_days for c in candidates] + [settings.CEA_STRATEGIES_CUSTOMER_CAP_DAYS])
        self.recent = _recent(sorted({c.customer.pk for c in candidates}), now - dt.timedelta(days=longest))
        self.added: Counter[tuple[int, int]] = Counter()
        self.added_global: Counter[int] = Counter()

    def refusal(self, strategy: Strategy, customer_id: int) -> str:
        since = self.now - dt.timedelta(days=strategy.cap_days)
        rows = self.recent.get(customer_id, [])
        own = sum(1 for sid, at in rows if sid == strategy.pk and at >= since) + self.added[(customer_id, strategy.pk)]
        if own >= strategy.cap_firings:
            return CAPPED
        overall = sum(1 for _, at in rows if at >= self.global_since) + self.added_global[customer_id]
        return GLOBAL_CAP if overall >= self.global_cap else ""

    def count(self, strategy: Strategy, customer_id: int) -> None:
        self.added[(customer_id, strategy.pk)] += 1
        self.added_global[customer_id] += 1


def _live(candidates: list[Candidate]) -> set[int] | None:
    """Customers in a conversation now, read only when a strategy weighs it (``None``: not read)."""
    if not any(LIVE in (c.strategy.context_weights or {}) for c in candidates):
        return None
    return customers_in_conversation(customer_ids={c.customer.pk for c in candidates})


def _eligibility(decision: Decision, caps: _Caps, granted: dict[int, set[tuple[str, str]]], now: dt.datetime) -> bool:
    """Caps, quiet hours and consent for one candidate: the reason it is refused, set on the decision."""
    strategy, customer = decision.candidate.strategy, decision.candidate.customer
    consented, channel = _consent(strategy, customer, granted.get(customer.pk, set()))
    if refusal := caps.refusal(strategy, customer.pk):
        decision.reason = refusal
    elif in_quiet_hours(strategy, now):
        decision.reason = QUIET_HOURS
    elif not consented:
        decision.reason = NO_CONSENT
    else:
        decision.channel = channel
        return True
    return False


def _arbitrate(eligible: list[Decision], caps: _Caps, live: set[int] | None, pool: str) -> None:
    """Rank one customer's eligible candidates at one occasion in one pool; keep the top N (a control
    customer: N at random), held out by their own holdout; the rest are ``outranked``."""
    first = eligible[0].candidate
    customer = first.customer
    occasion = Occasion(channel=first.channel, live=None if live is None else customer.pk in live)
    entries = [(d.candidate.strategy, components_of(d.candidate.strategy, customer.scores, occasion)) for d in eligible]
    best_first = ranked(entries)
    control = in_control(customer_id=customer.pk)
    order = control_order(len(eligible), seed=f"{first.occasion}:{customer.pk}:{pool}") if control else best_first
    rank_of = {position: rank for rank, position in enumerate(best_first, start=1)}
    kept, top = 0, top_of(pool)
    for position in order:
        decision, (strategy, components) = eligible[position], entries[position]
        components.update(rank=rank_of[position], eligible=len(eligible), control=control)
        decision.priority, decision.components = components["priority"], components
        held = decision.group == FiringGroup.HOLDOUT  # a strategy's holdout holds for control customers too
        if control and not held:
            decision.group = FiringGroup.CONTROL
        if kept >= top:
            decision.reason = OUTRANKED
        elif refusal := caps.refusal(strategy, customer.pk):  # the customer's cap, met by a better one
            decision.reason = refusal
        else:
            kept += 1
            caps.count(strategy, customer.pk)
            decision.outcome = FiringOutcome.HELD_OUT if held else FiringOutcome.FIRED


def decide(candidates: list[Candidate], *, now: dt.datetime) -> list[Decision]:
    """What each candidate gets. Candidates are arbitrated per customer, occasion and pool; earlier
    occasions count towards later ones' caps. Reads only."""
    if not candidates:
        return []
    caps = _Caps(candidates, now)
    needs_consent = any(c.strategy.action_kind == ActionKind.MESSAGE or c.strategy.consent_purpose for c in candidates)
    granted = _consents(sorted({c.customer.pk for c in candidates})) if needs_consent else {}
    live = _live(candidates)
    occasions: dict[tuple[int, str, str], list[Decision]] = {}
    decisions = []
    for candidate in candidates:
        strategy, customer = candidate.strategy, candidate.customer
        held = in_holdout(strategy_key=strategy.key, customer_id=customer.pk, percent=strategy.holdout_percent)
        group = FiringGroup.HOLDOUT if held else FiringGroup.TREATMENT
        decision = Decision(candidate=candidate, group=group, outcome=FiringOutcome.SUPPRESSED)
        decisions.append(decision)
        occasions.setdefault((customer.pk, candidate.occasion, pool_of(strategy)), []).append(decision)
    for (_, _, pool), members in occasions.items():
        eligible = [decision for decision in members if _eligibility(decision, caps, granted, now)]
        if eligible:
            _arbitrate(eligible, caps, live, pool)
    return decisions


# One statement, which commits without waiting for its WAL flush (``synchronous_commit`` off for
# its transaction; see ``firings_record``). VALUES rows take their types from the first one.
_INSERT = (
    "INSERT INTO insights_strategyfiring"
    ' (strategy_id, customer_id, event_id, occasion, "group", outcome, reason, channel, at, priority, components)'
    " SELECT v.* FROM (VALUES __ROWS__) AS v"
    " CROSS JOIN (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed"
    " ON CONFLICT (strategy_id, occasion) DO NOTHING RETURNING id, strategy_id, occasion"
)
_FIRST_ROW = "(%s::bigint, %s::bigint, %s::bigint, %s, %s, %s, %s, %s, %s::timestamptz, %s::float8, %s::jsonb)"
_ROW = "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"


def _insert(decisions: list[Decision], now: dt.datetime) -> list[tuple[StrategyFiring, Decision]]:
    """Insert the firings in one statement; an occasion already recorded (the same event again, or
    another evaluation meanwhile) is skipped by the unique constraint and left out of the result."""
    if not decisions:
        return []
    params: list[int | float | str | dt.datetime | None] = []
    for d in decisions:
        c = d.candidate
        params += [c.strategy.pk, c.customer.pk, c.event_id, c.occasion, d.group, d.outcome, d.reason, d.channel, now]
        params += [d.priority, json.dumps(d.components)]
    sql = _INSERT.replace("__ROWS__", ", ".join([_FIRST_ROW] + [_ROW] * (len(decisions) - 1)))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        inserted = {(strategy_id, occasion): pk for pk, strategy_id, occasion in cursor.fetchall()}
    recorded = []
    for d in decisions:
        c = d.candidate
        pk = inserted.get((c.strategy.pk, c.occasion))
        if pk is not None:
            firing = StrategyFiring(
                pk=pk, strategy=c.strategy, customer=c.customer, event_id=c.event_id, occasion=c.occasion,
                group=d.group, outcome=d.outcome, reason=d.reason, channel=d.channel, at=now,
                priority=d.priority, components=d.components,
            )  # fmt: skip
            recorded.append((firing, d))
    return recorded


def firings_record(candidates: list[Candidate], *, now: dt.datetime) -> list[StrategyFiring]:
    """Decide and record the new candidates' firings; the actions of those that fired run in a
    Celery task sent once this commits (``firings_act``), so an event's evaluation never waits
    for another app's writes.

    The transaction that records firings commits without waiting for its WAL flush: a crash may
    lose the last moment's firings — never corrupt them — and the incremental run, whose
    watermark is lost with them, evaluates those events again (docs/journeys.md). Outside a
    transaction the one INSERT is its own.
    """
    unique = list({(c.strategy.pk, c.occasion): c for c in reversed(candidates)}.values())[::-1]
    recorded = [firing for firing, _ in _insert(decide(unique, now=now), now)]
    fired = [firing.pk for firing in recorded if firing.outcome == FiringOutcome.FIRED]
    if fired:
        from insights.strategies.tasks import act_on_firings  # the task module imports this one

        send_on_commit(act_on_firings, firing_ids=fired)
    return recorded


def _act(firing: StrategyFiring, now: dt.datetime) -> None:
    try:
        result = action_execute(
            strategy=firing.strategy, customer=firing.customer, channel=firing.channel, firing=firing
        )
    except ApplicationError as error:
        details = " ".join(f"{name}: {' '.join(errors)}" for name, errors in error.fields.items())
        firing.outcome, firing.reason = FiringOutcome.FAILED, f"{error.message} {details}".strip()[:200]
    else:
        firing.reason = result.summary[:200]
    firing.acted_at = now
    firing.save(update_fields=["outcome", "reason", "acted_at"])


def firings_act(*, firing_ids: list[int]) -> int:
    """Run the actions of fired firings not acted on yet; the number run. Idempotent: each row is
    locked (skipped if another worker holds it) and marked ``acted_at``; an action that fails turns
    its row ``failed`` with the reason, in words."""
    done = 0
    for firing_id in firing_ids:
        with transaction.atomic():
            firing = (
                StrategyFiring.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("strategy", "customer")
                .filter(pk=firing_id, outcome=FiringOutcome.FIRED, acted_at__isnull=True)
                .first()
            )
            if firing is None:
                continue
            _act(firing, timezone.now())
            done += 1
    return done
