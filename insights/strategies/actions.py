"""What a strategy does when it fires: one executor per action kind, in a registry.

An executor takes the strategy, the customer, the firing's channel (a message's consented channel,
chosen before) and the firing (its arbitration components), and writes through the owning app's
services, as the system (``actor=None``):

- ``message``: engagement's ``outbound_start`` on the firing's channel (the customer's preferred
  channel consented for the strategy's purpose, else the first consented one), with the strategy's
  text and subject, ``source="strategy:<key>"``;
- ``callback``: engagement's ``callback_request`` through the strategy's queue, with its reason;
- ``next_best_action``: engagement's ``recommendation_offer`` (``source_key="strategy:<key>"``), the
  strategy's title and detail, reasons = why it fired and the arbitration components in words,
  score = the arbitration priority, expiry ``expires_hours`` after the firing (none if not set);
- ``case``: records' ``case_create``; ``priority_boost``: the customer's context.

An executor raises ``ApplicationError`` when the action cannot be done (no consent any more, no
address, no such queue …); the firing is then recorded ``failed`` with the message, in words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from engagement.context.models import ContextScope
from engagement.context.services import context_read, context_write
from engagement.outbound.services import callback_request, outbound_start
from engagement.recommendations.services import recommendation_offer
from insights.strategies.arbitration import component_reasons
from insights.strategies.models import ActionKind, Strategy, TriggerKind
from records.cases.services import case_create
from records.customers.models import Customer

if TYPE_CHECKING:
    from insights.strategies.models import StrategyFiring

SOURCE = "insights.strategies"


@dataclass(frozen=True)
class ActionResult:
    """What an executor did, in words for the firing log (``reason``)."""

    summary: str


Executor = Callable[[Strategy, Customer, str, "StrategyFiring | None"], ActionResult]


def why_fired(strategy: Strategy) -> str:
    """The strategy and its trigger, in words (the first of a next best action's reasons)."""
    kind = strategy.trigger_kind
    if kind == TriggerKind.EVENT:
        when = f"on the journey event {strategy.event_pattern}"
    elif kind == TriggerKind.STAGE_ENTERED:
        when = f"on entering the stage {strategy.stage}"
    elif kind == TriggerKind.STAGE_STAYED:
        when = f"after {strategy.stay_days} days in the stage {strategy.stage}"
    elif kind == TriggerKind.SCORE_CROSSED:
        when = f"{strategy.score_key} crossed {strategy.score_threshold:g} ({strategy.score_direction})"
    else:
        when = f"every day at {strategy.schedule_time}"
    return f"Strategy {strategy.name}: {when}"[:300]


def _message(strategy: Strategy, customer: Customer, channel: str, firing: StrategyFiring | None) -> ActionResult:
    params: dict[str, Any] = strategy.action_params
    conversation = outbound_start(
        actor=None,
        customer=customer,
        channel=channel,
        text=params["text"],
        purpose=strategy.consent_purpose,
        source=strategy.source_key,
        subject=params.get("subject", ""),
    )
    return ActionResult(summary=f"message by {channel}: conversation {conversation.pk}")


def _callback(strategy: Strategy, customer: Customer, channel: str, firing: StrategyFiring | None) -> ActionResult:
    params: dict[str, Any] = strategy.action_params
    callback = callback_request(
        actor=None, customer=customer, queue=params["queue"], reason=params["reason"], source=strategy.source_key
    )
    return ActionResult(summary=f"callback {callback.pk} through {callback.queue}")


def _next_best_action(
    strategy: Strategy, customer: Customer, channel: str, firing: StrategyFiring | None
) -> ActionResult:
    params: dict[str, Any] = strategy.action_params
    hours = params.get("expires_hours")
    priority = firing.priority if firing is not None and firing.priority is not None else 0.0
    reasons = [why_fired(strategy), *component_reasons(firing.components if firing is not None else {})]
    action = recommendation_offer(
        actor=None,
        customer=customer,
        source_key=strategy.source_key,
        title=params["title"],
        detail=params["detail"],
        reasons=reasons,
        score=priority,
        expires_at=timezone.now() + dt.timedelta(hours=int(hours)) if hours else None,
    )
    return ActionResult(summary=f"next best action {action.pk} offered (priority {priority:.3f})")


def _case(strategy: Strategy, customer: Customer, channel: str, firing: StrategyFiring | None) -> ActionResult:
    params: dict[str, Any] = strategy.action_params
    case = case_create(
        actor=None,
        customer=customer,
        subject=params["subject"],
        description=params.get("description", "") or f"Opened by the engagement strategy {strategy.name}.",
        source_system="insights",
    )
    return ActionResult(summary=f"case {case.reference}")


def _priority_boost(
    strategy: Strategy, customer: Customer, channel: str, firing: StrategyFiring | None
) -> ActionResult:
    """``priority_boost`` on the customer's context: routing adds it to every contact of the
    customer enqueued while it lives (``engagement.routing.engine``; a conversation's own boost wins)."""
    params: dict[str, Any] = strategy.action_params
    points = int(params["points"])
    current = context_read(scope=ContextScope.CUSTOMER, context_id=customer.pk).values.get("priority_boost")
    if isinstance(current, int | float) and not isinstance(current, bool) and abs(current) >= abs(points):
        return ActionResult(summary=f"priority boost {current} kept (not lower than {points})")
    context_write(
        actor=None,
        scope=ContextScope.CUSTOMER,
        context_id=customer.pk,
        values={"priority_boost": points},
        ttl_seconds=int(params.get("ttl_hours", 24)) * 3600,
        customer_id=customer.pk,
        source=SOURCE,
        summary=f"Priority boost {points} by the strategy {strategy.name}",
    )
    return ActionResult(summary=f"priority boost {points} for {params.get('ttl_hours', 24)} h")


ACTIONS: dict[str, Executor] = {
    ActionKind.MESSAGE: _message,
    ActionKind.CALLBACK: _callback,
    ActionKind.NEXT_BEST_ACTION: _next_best_action,
    ActionKind.CASE: _case,
    ActionKind.PRIORITY_BOOST: _priority_boost,
}


def action_execute(
    *, strategy: Strategy, customer: Customer, channel: str = "", firing: StrategyFiring | None = None
) -> ActionResult:
    """Run the strategy's action for the customer (``ApplicationError`` if it cannot be done)."""
    return ACTIONS[strategy.action_kind](strategy, customer, channel, firing)
