"""What a strategy does when it fires: one executor per action kind, in a registry.

An executor takes the strategy, the customer and the firing's channel (a message's consented
channel, chosen before) and writes through the owning app's services, as the system
(``actor=None``). It raises ``ApplicationError`` when the action cannot be done; the firing is
then recorded as ``failed`` with the message.

``case`` and ``priority_boost`` are done here. ``message``, ``callback`` and ``next_best_action``
call engagement services built in parallel (issue 13: ``outbound_start``, ``callback_request``,
``recommendation_offer``); until they are on this branch each adapter refuses with
``ActionNotWired`` naming the missing service — WIRING TO COMPLETE BY THE LEAD at merge: replace
the body of ``_message``, ``_callback`` and ``_next_best_action`` by the call in its docstring.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cea.common.errors import ApplicationError
from engagement.context.models import ContextScope
from engagement.context.services import context_read, context_write
from insights.strategies.models import ActionKind, Strategy
from records.cases.services import case_create
from records.customers.models import Customer

SOURCE = "insights.strategies"


class ActionNotWired(ApplicationError):
    """The engagement service an action needs is not on this branch yet."""

    status_code = 501
    code = "not_wired"


@dataclass(frozen=True)
class ActionResult:
    """What an executor did, in words for the firing log (``reason``)."""

    summary: str


Executor = Callable[[Strategy, Customer, str], ActionResult]


def _not_wired(service: str) -> ActionNotWired:
    return ActionNotWired(
        f"The action needs engagement's {service}(), which is not wired yet (issue 13: the lead wires it at merge)."
    )


def _message(strategy: Strategy, customer: Customer, channel: str) -> ActionResult:
    """``outbound_start(actor=None, customer=customer, channel=channel, text=params["text"],
    purpose=strategy.consent_purpose, source=f"strategy:{strategy.key}", subject=params.get("subject", ""))``."""
    raise _not_wired("outbound_start")


def _callback(strategy: Strategy, customer: Customer, channel: str) -> ActionResult:
    """``callback_request(actor=None, customer=customer, queue=params["queue"], reason=params["reason"],
    source=f"strategy:{strategy.key}")``."""
    raise _not_wired("callback_request")


def _next_best_action(strategy: Strategy, customer: Customer, channel: str) -> ActionResult:
    """``recommendation_offer(actor=None, customer=customer, source_key=f"strategy:{strategy.key}",
    title=params["title"], detail=params["detail"], reasons=[strategy.name], score=params.get("score", 0.5))``."""
    raise _not_wired("recommendation_offer")


def _case(strategy: Strategy, customer: Customer, channel: str) -> ActionResult:
    params: dict[str, Any] = strategy.action_params
    case = case_create(
        actor=None,
        customer=customer,
        subject=params["subject"],
        description=params.get("description", "") or f"Opened by the engagement strategy {strategy.name}.",
        source_system="insights",
    )
    return ActionResult(summary=f"case {case.reference}")


def _priority_boost(strategy: Strategy, customer: Customer, channel: str) -> ActionResult:
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


def action_execute(*, strategy: Strategy, customer: Customer, channel: str = "") -> ActionResult:
    """Run the strategy's action for the customer (``ApplicationError`` if it cannot be done)."""
    return ACTIONS[strategy.action_kind](strategy, customer, channel)
