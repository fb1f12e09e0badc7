"""Check, then do, for engagement: conversations are fetched through these helpers.

A conversation is visible to the agents and supervisors of its team or its customer's team,
to the agent handling it, and to admins and integration clients. Acting on a live conversation
(wrapping it up, transferring, ending, identifying its customer) needs more than seeing it:
``require_handling_agent``.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from cea.common.errors import NotFound, PermissionDenied
from cea.common.roles import Role, can_supervise, role_of, sees_everything
from engagement.conversations.models import Conversation
from records.access import team_ids_of


def conversations_visible_to(user) -> QuerySet[Conversation]:
    if role_of(user) is None:
        raise PermissionDenied("Sign in first.", code="not_authenticated")
    conversations = Conversation.objects.all()
    if sees_everything(user):
        return conversations
    teams = team_ids_of(user)
    return conversations.filter(
        Q(team_id__in=teams) | Q(customer__team_id__in=teams) | Q(agent_id=user.pk) | Exists(_routed_to(user))
    )


def _routed_to(user, conversation_id=None):
    """Open work of a conversation offered to, handled by or transferred by name to ``user``.

    The router may offer a conversation to an agent outside its team (a queue without a team, a
    transfer by name): the offer is what lets them see it.
    """
    from engagement.routing.models import OPEN_WORK, WorkItem

    work = WorkItem.objects.filter(status__in=OPEN_WORK).filter(
        Q(agent__user_id=user.pk) | Q(target_agent__user_id=user.pk)
    )
    if conversation_id is None:
        return work.filter(conversation_id=OuterRef("pk"))
    return work.filter(conversation_id=conversation_id)


def conversation_visible(user, conversation: Conversation) -> bool:
    if sees_everything(user):
        return True
    teams = team_ids_of(user)
    return (
        conversation.agent_id == user.pk
        or (conversation.team_id is not None and conversation.team_id in teams)
        or (conversation.customer is not None and conversation.customer.team_id in teams)
        or _routed_to(user, conversation.pk).exists()
    )


def access_conversation(user, conversation_id) -> Conversation:
    if role_of(user) is None:
        raise PermissionDenied("Sign in first.", code="not_authenticated")
    text = str(conversation_id)
    conversation = (
        Conversation.objects.select_related("customer", "team", "agent").filter(pk=int(text)).first()
        if text.isascii() and text.isdigit()
        else None
    )
    if conversation is None:
        raise NotFound(f"No conversation with id {conversation_id}.")
    if not conversation_visible(user, conversation):
        raise PermissionDenied("This conversation belongs to a team you are not in.")
    return conversation


def require_handling_agent(user, conversation: Conversation, *, clients: bool = False) -> None:
    """Only the agent handling ``conversation``, a supervisor or an administrator may act on it.

    ``user=None`` is the system (a channel, self-service, a task): it may. With ``clients``,
    integration clients (channel back-ends, limited by their token's scopes) may too. Check it
    on the conversation row as it is now (locked), not on a caller's copy: a conversation
    transferred meanwhile is no longer the agent's. Raises ``PermissionDenied``.
    """
    if user is None or conversation.agent_id == user.pk or can_supervise(user):
        return
    if clients and role_of(user) == Role.INTEGRATION:
        return
    raise PermissionDenied("Only the agent handling this conversation (or a supervisor) can do this.")
