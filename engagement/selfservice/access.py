"""Check, then do, for self-service's interfaces: who may drive the IVR and read containment."""

from __future__ import annotations

from django.db.models import QuerySet

from cea.common.errors import PermissionDenied, ValidationFailed
from cea.common.roles import Role, role_of
from engagement.access import conversation_visible, conversations_visible_to
from engagement.conversations.models import Conversation
from engagement.selfservice.selectors import conversation_of_call
from engagement.selfservice.services import selfservice_ivr_call

IVR_DRIVERS = (Role.INTEGRATION, Role.ADMIN)
CONTAINMENT_READERS = (Role.SUPERVISOR, Role.ADMIN, Role.INTEGRATION)
MAX_CALL_ID = 190  # it becomes the context alias "call:<call id>" (aliases are at most 200 characters)


def require_ivr_driver(user) -> None:
    """The IVR is driven by the telephony platform (an integration client) or an administrator."""
    role = role_of(user)
    if role is None:
        raise PermissionDenied("Sign in first.", code="not_authenticated")
    if role not in IVR_DRIVERS:
        raise PermissionDenied(
            "Only the telephony platform (an integration client) or an administrator drives the IVR."
        )


def ivr_conversation(user, *, call_id: str, caller: str = "") -> Conversation:
    """The voice conversation of ``call_id``, opened if the call is new; refused if not visible."""
    require_ivr_driver(user)
    if not call_id or len(call_id) > MAX_CALL_ID or "\x00" in call_id:
        raise ValidationFailed(f"A call id is 1-{MAX_CALL_ID} characters.", fields={"call_id": "Invalid."})
    conversation = conversation_of_call(call_id=call_id)
    if conversation is None:
        return selfservice_ivr_call(call_id=call_id, caller=caller)
    if not conversation_visible(user, conversation):
        raise PermissionDenied("This call belongs to a team you are not in.")
    return conversation


def conversations_for_containment(user) -> QuerySet[Conversation]:
    """The conversations whose containment ``user`` may see: supervisors their teams', admins and clients all."""
    role = role_of(user)
    if role is None:
        raise PermissionDenied("Sign in first.", code="not_authenticated")
    if role not in CONTAINMENT_READERS:
        raise PermissionDenied("Containment figures are for supervisors and administrators.")
    return conversations_visible_to(user)
