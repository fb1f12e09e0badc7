"""Check, then do, for contexts: a context is visible when its customer or conversation is.

Shared by the REST API and the live websocket, so both refuse the same things.
"""

from __future__ import annotations

from dataclasses import dataclass

from cea.common.errors import NotFound
from engagement.access import access_conversation
from engagement.context.models import ContextScope
from records.access import access_customer


@dataclass(frozen=True)
class ContextTarget:
    scope: str
    id: str
    customer_id: int | None


def access_context(user, scope: str, context_id) -> ContextTarget:
    """The context ``scope``/``context_id`` if ``user`` may see it.

    Unknown scope or object: ``NotFound``; an object of another team: ``PermissionDenied``.
    """
    if scope == ContextScope.CUSTOMER:
        customer = access_customer(user, context_id)
        return ContextTarget(scope=scope, id=str(customer.pk), customer_id=customer.pk)
    if scope == ContextScope.CONVERSATION:
        conversation = access_conversation(user, context_id)
        return ContextTarget(scope=scope, id=str(conversation.pk), customer_id=conversation.customer_id)
    raise NotFound(f"No context scope {scope!r}; scopes are {', '.join(ContextScope.values)}.")
