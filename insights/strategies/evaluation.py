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
4. the holdout: an eligible customer in the holdout is recorded ``held_out`` and not acted on.

Firings and holdouts both count towards the caps, so the two groups meet the same limits.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from cea.common.channels import Channel
from cea.common.errors import ApplicationError
from cea.common.tasks import send_on_commit
from insights.strategies.actions import action_execute
from insights.strategies.models import ActionKind, FiringGroup, FiringOutcome, Strategy, StrategyFiring
from insights.strategies.rules import in_holdout, in_quiet_hours
from records.customers.models import Consent, Customer

# The channels a proactive message may go out on, in the order tried after the preferred one.
MESSAGE_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.MOBILE_APP, Channel.CHAT, Channel.SOCIAL)
COUNTED = (FiringOutcome.FIRED, FiringOutcome.HELD_OUT, FiringOutcome.FAILED)

CAPPED, GLOBAL_CAP, QUIET_HOURS, NO_CONSENT = "capped", "global_cap", "quiet_hours", "no_consent"


@dataclass(frozen=True)
class Candidate:
    strategy: Strategy
    customer: Customer
    occasion: str
    event_id: int | None = None


@dataclass
class Decision:
    candidate: Candidate
    group: str
    outcome: str
    reason: str = ""
    channel: str = ""


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
    order = [customer.preferred_channel, *MESSAGE_CHANNELS] if customer.preferred_channel else list(MESSAGE_CHANNELS)
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


def decide(candidates: list[Candidate], *, now: dt.datetime) -> list[Decision]:
    """What each candidate gets (in order; earlier ones count towards later ones' caps). Reads only."""
    if not candidates:
        return []
    caps = _Caps(candidates, now)
    needs_consent = any(c.strategy.action_kind == ActionKind.MESSAGE or c.strategy.consent_purpose for c in candidates)
    granted = _consents(sorted({c.customer.pk for c in candidates})) if needs_consent else {}
    decisions = []
    for candidate in candidates:
        strategy, customer = candidate.strategy, candidate.customer
        held = in_holdout(strategy_key=strategy.key, customer_id=customer.pk, percent=strategy.holdout_percent)
        group = FiringGroup.HOLDOUT if held else FiringGroup.TREATMENT
        decision = Decision(candidate=candidate, group=group, outcome=FiringOutcome.SUPPRESSED)
        consented, channel = _consent(strategy, customer, granted.get(customer.pk, set()))
        if refusal := caps.refusal(strategy, customer.pk):
            decision.reason = refusal
        elif in_quiet_hours(strategy, now):
            decision.reason = QUIET_HOURS
        elif not consented:
            decision.reason = NO_CONSENT
        else:
            decision.outcome = FiringOutcome.HELD_OUT if held else FiringOutcome.FIRED
            decision.channel = channel
            caps.count(strategy, customer.pk)
        decisions.append(decision)
    return decisions


# One statement, which commits without waiting for its WAL flush (``synchronous_commit`` off for
# its transaction; see ``firings_record``). VALUES rows take their types from the first one.
_INSERT = (
    "INSERT INTO insights_strategyfiring"
    ' (strategy_id, customer_id, event_id, occasion, "group", outcome, reason, channel, at)'
    " SELECT v.* FROM (VALUES __ROWS__) AS v"
    " CROSS JOIN (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed"
    " ON CONFLICT (strategy_id, occasion) DO NOTHING RETURNING id, strategy_id, occasion"
)
_FIRST_ROW = "(%s::bigint, %s::bigint, %s::bigint, %s, %s, %s, %s, %s, %s::timestamptz)"
_ROW = "(%s, %s, %s, %s, %s, %s, %s, %s, %s)"


def _insert(decisions: list[Decision], now: dt.datetime) -> list[tuple[StrategyFiring, Decision]]:
    """Insert the firings in one statement; an occasion already recorded (the same event again, or
    another evaluation meanwhile) is skipped by the unique constraint and left out of the result."""
    if not decisions:
        return []
    params: list[int | str | dt.datetime | None] = []
    for d in decisions:
        c = d.candidate
        params += [c.strategy.pk, c.customer.pk, c.event_id, c.occasion, d.group, d.outcome, d.reason, d.channel, now]
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
        result = action_execute(strategy=firing.strategy, customer=firing.customer, channel=firing.channel)
    except ApplicationError as error:
        firing.outcome, firing.reason = FiringOutcome.FAILED, error.message[:200]
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
