"""Writing strategies, and evaluating them: per journey event, incrementally, and on time triggers."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from cea.accounts.types import Actor
from cea.common.errors import PermissionDenied, ValidationFailed
from cea.common.roles import is_admin
from insights.strategies.evaluation import Candidate, firings_record
from insights.strategies.index import strategy_index, strategy_index_invalidate
from insights.strategies.models import Direction, Strategy, StrategyFiring, StrategyWatermark, TriggerKind
from insights.strategies.rules import in_audience, in_window, strategy_require_valid, zone_of
from records.customers.models import Customer, CustomerStatus
from records.journey.models import JourneyEvent
from records.journey.selectors import journey_events_after

WRITABLE = frozenset(
    f.name for f in Strategy._meta.get_fields() if getattr(f, "editable", False) and f.name not in ("id", "updated_at")
)
MAX_GAPS = 1000


def _require_admin(actor: Actor) -> None:
    if actor is not None and not is_admin(actor):
        raise PermissionDenied("Only an administrator may change engagement strategies.")


def strategy_build(*, fields: dict[str, Any], strategy: Strategy | None = None) -> Strategy:
    """A strategy with ``fields`` applied (not saved), validated: ``ValidationFailed`` by field."""
    unknown = sorted(set(fields) - WRITABLE)
    if unknown:
        raise ValidationFailed(
            f"Unknown strategy fields: {', '.join(unknown)}.", fields={n: "Unknown." for n in unknown}
        )
    strategy = strategy or Strategy()
    for name, value in fields.items():
        setattr(strategy, name, value)
    strategy_require_valid(strategy)
    return strategy


@transaction.atomic
def strategy_create(*, actor: Actor, fields: dict[str, Any]) -> Strategy:
    _require_admin(actor)
    strategy = strategy_build(fields=fields)
    if Strategy.objects.filter(key=strategy.key).exists():
        raise ValidationFailed(f"A strategy with the key {strategy.key!r} exists.", fields={"key": "Taken."})
    strategy.save()
    strategy_index_invalidate()
    return strategy


@transaction.atomic
def strategy_update(*, actor: Actor, strategy: Strategy, fields: dict[str, Any]) -> Strategy:
    """Change a strategy (the key stays: firings and the holdout split hang on it)."""
    _require_admin(actor)
    if "key" in fields and fields["key"] != strategy.key:
        raise ValidationFailed("A strategy's key cannot change.", fields={"key": "Fixed once created."})
    strategy = Strategy.objects.select_for_update().get(pk=strategy.pk)
    strategy_build(fields=fields, strategy=strategy)
    strategy.save()
    strategy_index_invalidate()
    return strategy


# --- Per event ---------------------------------------------------------------------------------


def _customers(ids: set[int]) -> dict[int, Customer]:
    rows = Customer.objects.filter(pk__in=ids, status=CustomerStatus.ACTIVE).only(
        "id", "team_id", "persona", "journey_stage", "segment", "value_tier", "preferred_channel", "status", "scores"
    )
    return {customer.pk: customer for customer in rows}


def _event_candidates(events: list[JourneyEvent], now: dt.datetime) -> list[Candidate]:
    index = strategy_index()
    matched = [(event, [s for s in index.matching(event.kind) if in_window(s, now)]) for event in events]
    matched = [(event, strategies) for event, strategies in matched if strategies]
    if not matched:
        return []
    customers = _customers({event.customer_id for event, _ in matched})
    candidates = []
    for event, strategies in matched:
        customer = customers.get(event.customer_id)
        if customer is None:
            continue
        for strategy in strategies:
            if in_audience(strategy, customer):
                candidates.append(Candidate(strategy, customer, f"event:{event.pk}", event.pk, event.channel))
    return candidates


def strategies_evaluate_event(*, event: JourneyEvent, now: dt.datetime | None = None) -> list[StrategyFiring]:
    """Evaluate the active event strategies for one journey event; the firings it recorded (none if seen)."""
    now = now or timezone.now()
    # No transaction: the firings are one INSERT, committed by itself (one round trip, not four).
    return firings_record(_event_candidates([event], now), now=now)


@dataclass(frozen=True)
class EvaluationRun:
    events_read: int
    firings: int
    last_id: int


def _state_locked() -> StrategyWatermark | None:
    StrategyWatermark.objects.get_or_create(name="journey")
    return StrategyWatermark.objects.select_for_update(skip_locked=True).filter(name="journey").first()


def _advance(state: StrategyWatermark, events: list[JourneyEvent], gaps: dict[int, float]) -> None:
    """Move the watermark past the events read, keeping ids skipped (a transaction still open) for a while."""
    now = time.time()
    expected = state.last_id + 1
    for event in events:
        gaps.pop(event.pk, None)
        if event.pk >= expected:
            for missing in range(max(expected, event.pk - MAX_GAPS), event.pk):
                gaps[missing] = now
            expected = event.pk + 1
    horizon = now - settings.CEA_STRATEGIES_GAP_SECONDS
    kept = sorted((i for i, first in gaps.items() if first > horizon), reverse=True)[:MAX_GAPS]
    state.last_id = expected - 1
    state.gaps = {str(i): gaps[i] for i in kept}
    state.evaluated_at = timezone.now()
    state.save(update_fields=["last_id", "gaps", "evaluated_at"])


def strategies_evaluate_new_events(*, batch: int | None = None, now: dt.datetime | None = None) -> EvaluationRun | None:
    """Evaluate the journey events after the watermark (``None`` if another run holds it).

    On first run the watermark starts at the newest event: a new deployment does not act on the
    whole history. One transaction: the firings and the new watermark commit together.
    """
    batch = batch or settings.CEA_STRATEGIES_BATCH
    now = now or timezone.now()
    with transaction.atomic():
        state = _state_locked()
        if state is None:
            return None
        if state.evaluated_at is None and state.last_id == 0:
            state.last_id = JourneyEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
            state.evaluated_at = now
            state.save(update_fields=["last_id", "evaluated_at"])
            return EvaluationRun(events_read=0, firings=0, last_id=state.last_id)
        gaps = {int(i): float(first) for i, first in (state.gaps or {}).items()}
        events = journey_events_after(after_id=state.last_id, limit=batch, also_ids=sorted(gaps))
        firings = firings_record(_event_candidates(events, now), now=now)
        _advance(state, events, gaps)
    return EvaluationRun(events_read=len(events), firings=len(firings), last_id=state.last_id)


# --- Time triggers (set-based) -------------------------------------------------------------------


def audience_filter(strategy: Strategy) -> Q:
    """The audience as a filter on customers (active ones only)."""
    q = Q(status=CustomerStatus.ACTIVE)
    for field, values in (
        ("persona", strategy.audience_personas),
        ("journey_stage", strategy.audience_stages),
        ("segment", strategy.audience_segments),
        ("value_tier", strategy.audience_value_tiers),
    ):
        if values:
            q &= Q(**{f"{field}__in": values})
    return q


_BEYOND = {
    Direction.ABOVE: "jsonb_typeof(scores -> %s) = 'number' AND (scores ->> %s)::float >= %s",
    Direction.BELOW: "jsonb_typeof(scores -> %s) = 'number' AND (scores ->> %s)::float <= %s",
}


def beyond_filter(strategy: Strategy) -> Q:
    """Customers now on the far side of a score trigger's threshold (a number there; text never is)."""
    beyond = _BEYOND[Direction(strategy.score_direction)]
    sql = f"SELECT id FROM records_customer WHERE {beyond}"  # noqa: S608 - a fixed fragment
    return Q(pk__in=RawSQL(sql, [strategy.score_key, strategy.score_key, strategy.score_threshold]))  # noqa: S611


def _crossings(strategy: Strategy, now: dt.datetime) -> list[int]:
    """Customers newly beyond the threshold (rows added); those back on the near side are forgotten."""
    beyond = _BEYOND[Direction(strategy.score_direction)]
    params = [strategy.score_key, strategy.score_key, strategy.score_threshold]
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM insights_strategycrossing x USING records_customer c"  # noqa: S608 - fixed fragments
            f" WHERE x.strategy_id = %s AND c.id = x.customer_id AND NOT ({beyond})",
            [strategy.pk, *params],
        )
        cursor.execute(
            "INSERT INTO insights_strategycrossing (strategy_id, customer_id, crossed_at)"  # noqa: S608
            f" SELECT %s, c.id, %s FROM records_customer c WHERE c.status = 'active' AND {beyond}"
            " ON CONFLICT (strategy_id, customer_id) DO NOTHING RETURNING customer_id",
            [strategy.pk, now, *params],
        )
        return [row[0] for row in cursor.fetchall()]


def trigger_population(strategy: Strategy, now: dt.datetime) -> QuerySet[Customer]:
    """The customers a time trigger reaches now, before caps and the rest (audience included)."""
    customers = Customer.objects.filter(audience_filter(strategy))
    if strategy.trigger_kind == TriggerKind.STAGE_ENTERED:
        since = max(strategy.created_at, now - dt.timedelta(seconds=settings.CEA_STRATEGIES_STAGE_LOOKBACK_SECONDS))
        return customers.filter(journey_stage=strategy.stage, journey_stage_since__gte=since)
    if strategy.trigger_kind == TriggerKind.STAGE_STAYED:
        return customers.filter(
            journey_stage=strategy.stage, journey_stage_since__lte=now - dt.timedelta(days=strategy.stay_days or 0)
        )
    return customers


def _occasion(strategy: Strategy, customer: Customer, now: dt.datetime) -> str:
    kind = strategy.trigger_kind
    if kind in (TriggerKind.STAGE_ENTERED, TriggerKind.STAGE_STAYED):
        since = customer.journey_stage_since.timestamp() if customer.journey_stage_since else 0
        return f"{kind}:{customer.pk}:{since:.0f}"
    if kind == TriggerKind.SCHEDULE:
        return f"schedule:{now.astimezone(zone_of(strategy)).date().isoformat()}:{customer.pk}"
    return f"score:{customer.pk}:{now.timestamp():.0f}"


def _time_candidates(strategy: Strategy, now: dt.datetime) -> list[Candidate]:
    if strategy.trigger_kind == TriggerKind.SCORE_CROSSED:
        customers = Customer.objects.filter(audience_filter(strategy), pk__in=_crossings(strategy, now))
    elif strategy.trigger_kind == TriggerKind.SCHEDULE:
        local = now.astimezone(zone_of(strategy))
        if (
            strategy.schedule_time is None
            or local.time() < strategy.schedule_time
            or strategy.last_scheduled_on == local.date()
        ):
            return []
        strategy.last_scheduled_on = local.date()
        strategy.save(update_fields=["last_scheduled_on"])
        customers = trigger_population(strategy, now)
    else:
        customers = trigger_population(strategy, now)
    return [Candidate(strategy, customer, _occasion(strategy, customer, now)) for customer in customers.iterator()]


TIME_TRIGGER_CHUNK = 2000
TIME_TRIGGERS = (TriggerKind.STAGE_ENTERED, TriggerKind.STAGE_STAYED, TriggerKind.SCORE_CROSSED, TriggerKind.SCHEDULE)


def _chunks(candidates: list[Candidate]) -> list[list[Candidate]]:
    """About ``TIME_TRIGGER_CHUNK`` candidates each, a customer's all in one (their occasions are arbitrated
    together)."""
    ordered = sorted(candidates, key=lambda c: c.customer.pk)  # stable: strategies stay in key order
    chunks: list[list[Candidate]] = []
    for candidate in ordered:
        if not chunks or (
            len(chunks[-1]) >= TIME_TRIGGER_CHUNK and chunks[-1][-1].customer.pk != candidate.customer.pk
        ):
            chunks.append([])
        chunks[-1].append(candidate)
    return chunks


def strategies_evaluate_time_triggers(*, now: dt.datetime | None = None) -> int:
    """Evaluate every active stage, score and schedule strategy now; the number of firings recorded.

    The candidates of all strategies are decided together, so strategies meeting a customer at the
    same occasion (entering the same stage, the same day's schedule) are arbitrated against each other.
    """
    now = now or timezone.now()
    recorded = 0
    with transaction.atomic():
        candidates: list[Candidate] = []
        for strategy in Strategy.objects.filter(active=True, trigger_kind__in=TIME_TRIGGERS).order_by("key"):
            if in_window(strategy, now):
                candidates += _time_candidates(strategy, now)
        # Decided and inserted in chunks: a statement per chunk, not one of a million rows.
        for chunk in _chunks(candidates):
            recorded += len(firings_record(chunk, now=now))
    return recorded
