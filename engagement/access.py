"""Check, then do, for engagement: every interface fetches conversations and contexts here.

A conversation is visible to the agents and supervisors of its team or its customer's team,
to the agent handling it, and to admins and integration clients. Acting on a live conversation
(wrapping it up, transferring, ending, identifying its customer) needs more than seeing it:
``require_handling_agent``. A context is visible when its customer or conversation is
(``access_context``, shared by the REST API and the live websocket, so both refuse the same
things). Self-service's IVR is driven by the telephony platform or an administrator
(``require_ivr_driver``); containment figures are for supervisors and administrators.

The agent desktop is for agents and supervisors (``require_desk_user``), the roles the router
offers work to.

The supervisor's real-time tools (monitor, whisper, barge in, an agent's presence, moving work)
are for supervisors, on their teams' work, and admins, on all (``require_supervisor``,
``supervised_conversations``, ``access_supervised_conversation``, ``access_supervised_agent``,
``access_supervised_work``); agents and integration clients are refused. A conversation is a
team's when it, its customer, its queue or its agent is the team's.

Engagement's services import this module, so it imports only models, conversations' selectors
and ``records.access``: it is the bottom of engagement's layers (docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from cea.accounts.models import User
from cea.accounts.types import AnyUser
from cea.common.errors import NotFound, PermissionDenied, ValidationFailed
from cea.common.roles import Role, can_supervise, is_admin, role_of, sees_everything, team_ids_of
from engagement.context.models import ContextScope
from engagement.conversations.models import Conversation
from engagement.conversations.selectors import conversation_of_call
from engagement.routing.models import OPEN_WORK, Queue, WorkItem
from records.access import access_customer, require_signed_in, row_id

IVR_DRIVERS = (Role.INTEGRATION, Role.ADMIN)
CONTAINMENT_READERS = (Role.SUPERVISOR, Role.ADMIN, Role.INTEGRATION)
MAX_CALL_ID = 190  # it becomes the context alias "call:<call id>" (aliases are at most 200 characters)
# Who takes work: the router offers it to these roles, and the agent desktop is theirs.
ROUTABLE_ROLES = (Role.AGENT, Role.SUPERVISOR)


# --- Conversations --------------------------------------------------------------------------


def conversations_visible_to(user) -> QuerySet[Conversation]:
    require_signed_in(user)
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
    require_signed_in(user)
    pk = row_id(conversation_id)
    conversations = Conversation.objects.select_related("customer", "team", "agent")
    conversation = conversations.filter(pk=pk).first() if pk is not None else None
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


# --- Contexts -------------------------------------------------------------------------------


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


# --- Self-service ---------------------------------------------------------------------------


def require_ivr_driver(user) -> None:
    """The IVR is driven by the telephony platform (an integration client) or an administrator."""
    require_signed_in(user)
    if role_of(user) not in IVR_DRIVERS:
        raise PermissionDenied(
            "Only the telephony platform (an integration client) or an administrator drives the IVR."
        )


def access_ivr_call(user, *, call_id: str) -> Conversation | None:
    """The voice conversation of ``call_id`` if ``user`` may drive it; ``None`` for a call not seen yet.

    The caller opens a new call's conversation (``selfservice_ivr_call``); a known one not
    visible to ``user`` is refused.
    """
    require_ivr_driver(user)
    if not call_id or len(call_id) > MAX_CALL_ID or "\x00" in call_id:
        raise ValidationFailed(f"A call id is 1-{MAX_CALL_ID} characters.", fields={"call_id": "Invalid."})
    conversation = conversation_of_call(call_id=call_id)
    if conversation is None:
        return None
    if not conversation_visible(user, conversation):
        raise PermissionDenied("This call belongs to a team you are not in.")
    return conversation


def containment_conversations_visible_to(user) -> QuerySet[Conversation]:
    """The conversations whose containment ``user`` may see: supervisors their teams', admins and clients all."""
    require_signed_in(user)
    if role_of(user) not in CONTAINMENT_READERS:
        raise PermissionDenied("Containment figures are for supervisors and administrators.")
    return conversations_visible_to(user)


# --- The agent desktop ------------------------------------------------------------------------


def is_desk_user(user: AnyUser) -> bool:
    """Agents and supervisors take work at the desk; admins and integration clients do not."""
    return role_of(user) in ROUTABLE_ROLES


def require_desk_user(user: AnyUser) -> None:
    if role_of(user) is None:
        raise PermissionDenied("Sign in first.", code="not_authenticated")
    if not is_desk_user(user):
        raise PermissionDenied("The desktop is for agents and supervisors.", code="not_an_agent")


# --- The supervisor's real-time tools ---------------------------------------------------------


def require_supervisor(user: AnyUser) -> None:
    """Supervisors and admins; anyone else ``PermissionDenied`` (``not_a_supervisor``)."""
    require_signed_in(user)
    if not can_supervise(user):
        raise PermissionDenied(
            "The supervisor's tools are for supervisors and administrators.", code="not_a_supervisor"
        )


def _of_teams(teams: frozenset[int]) -> Q:
    """Conversations that are one of ``teams``': their own team, their customer's, their queue's or their agent's."""
    return (
        Q(team_id__in=teams)
        | Q(customer__team_id__in=teams)
        | Q(queue__in=Queue.objects.filter(team_id__in=teams).values("name"))
        | Q(Exists(User.teams.through.objects.filter(user_id=OuterRef("agent_id"), team_id__in=teams)))
    )


def supervised_conversations(user: AnyUser) -> QuerySet[Conversation]:
    """The conversations ``user`` supervises: admins all, a supervisor their teams'; anyone else is refused."""
    require_supervisor(user)
    conversations = Conversation.objects.all()
    if is_admin(user):
        return conversations
    return conversations.filter(_of_teams(team_ids_of(user)))


def access_supervised_conversation(user: AnyUser, conversation_id: object) -> Conversation:
    """The conversation if ``user`` supervises it: unknown ``NotFound``, another team's ``PermissionDenied``."""
    require_supervisor(user)
    pk = row_id(conversation_id)
    conversation = (
        Conversation.objects.select_related("customer", "team", "agent").filter(pk=pk).first()
        if pk is not None
        else None
    )
    if conversation is None:
        raise NotFound(f"No conversation with id {conversation_id}.")
    if not is_admin(user) and not supervised_conversations(user).filter(pk=conversation.pk).exists():
        raise PermissionDenied("This conversation belongs to a team you do not supervise.")
    return conversation


def supervises_agent(user: AnyUser, agent: User) -> bool:
    """Admins supervise every agent; a supervisor the agents who share one of their teams."""
    if not can_supervise(user):
        return False
    return is_admin(user) or bool(team_ids_of(user) & team_ids_of(agent))


def access_supervised_agent(user: AnyUser, agent_id: object) -> User:
    """The agent (or supervisor) ``user`` may act for: unknown ``NotFound``, another team's ``PermissionDenied``."""
    require_supervisor(user)
    pk = row_id(agent_id)
    agent = User.objects.filter(pk=pk, role__in=ROUTABLE_ROLES).first() if pk is not None else None
    if agent is None:
        raise NotFound(f"No agent with id {agent_id}.")
    if not supervises_agent(user, agent):
        raise PermissionDenied("This agent is not in a team you supervise.")
    return agent


def access_supervised_work(user: AnyUser, work_item_id: object) -> WorkItem:
    """Open work of a conversation ``user`` supervises.

    Unknown or closed: ``NotFound``; another team's: ``PermissionDenied``.
    """
    require_supervisor(user)
    pk = row_id(work_item_id)
    item = (
        WorkItem.objects.select_related("queue", "conversation").filter(pk=pk, status__in=OPEN_WORK).first()
        if pk is not None
        else None
    )
    if item is None:
        raise NotFound(f"No open work item with id {work_item_id}.")
    access_supervised_conversation(user, item.conversation_id)
    return item


# --- Routing's configuration ------------------------------------------------------------------

CONFIG_READERS = (Role.SUPERVISOR, Role.ADMIN, Role.INTEGRATION)


def require_config_reader(user: AnyUser) -> None:
    """Routing's configuration (business hours, queues' settings) is read by supervisors, admins and
    integration clients; agents are refused (``PermissionDenied``)."""
    require_signed_in(user)
    if role_of(user) not in CONFIG_READERS:
        raise PermissionDenied("Routing's configuration is for supervisors and administrators.")


def queues_visible_to(user: AnyUser) -> QuerySet[Queue]:
    """The queues whose settings ``user`` reads: all for admins and clients, a supervisor's teams' queues
    and the queues of no team; none for anyone else."""
    require_config_reader(user)
    queues = Queue.objects.all()
    if sees_everything(user):
        return queues
    return queues.filter(Q(team_id__in=team_ids_of(user)) | Q(team__isnull=True))


def access_queue(user: AnyUser, name: str) -> Queue:
    """The queue ``name`` if ``user`` may read its settings; ``NotFound`` for another team's (as for none)."""
    queue = queues_visible_to(user).select_related("business_hours").filter(name=name).first()
    if queue is None:
        raise NotFound(f"No queue {name!r}.")
    return queue
