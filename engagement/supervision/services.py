"""The supervisor's real-time tools: monitor, whisper, barge in, an agent's presence, moving work.

Every tool checks that the actor supervises what it touches (``engagement.access``: supervisors
their teams' conversations and agents, admins all, agents and integration clients never), runs
inside ``audited(actor)`` and records a ``SupervisorAction`` (the audit trail's row for actions
that change nothing else, such as a silent monitor) in the same transaction.

- Monitor: the supervisor follows the conversation's messages (the page subscribes to its group
  over ``ws/context/``, read-only); neither the customer nor the agent is told.
- Whisper: an internal message (``Message.internal``) that the agent's desktop shows and the
  customer's channel never gets.
- Barge in: the supervisor joins as a participant, the customer is told "<name> joined the
  conversation" (a system notice the web chat shows), and may then write to the customer
  (``supervision_say``, delivered as an agent's reply).
- Presence: through ``routing.presence.presence_set`` (cause ``supervisor``; the agent's desktop
  is told who did it).
- Work: ``orchestration.work_move`` (waiting work to another queue) and
  ``orchestration.work_requeue`` (offered or assigned work back to waiting).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from cea.accounts.models import User
from cea.accounts.types import AnyUser
from cea.common.channels import Channel, Direction
from cea.common.errors import Conflict, PermissionDenied, ValidationFailed
from cea.common.live import supervision_hint_on_commit
from cea.common.pii import redact_value
from cea.common.roles import is_admin, team_ids_of
from engagement.access import (
    access_supervised_conversation,
    access_supervised_work,
    require_supervisor,
    supervises_agent,
)
from engagement.conversations.models import AuthorKind, Conversation, ConversationStatus, Message
from engagement.conversations.replies import SPOKEN_CHANNELS, conversation_reply
from engagement.conversations.services import message_add
from engagement.orchestration import work_move, work_requeue
from engagement.routing.models import AgentProfile, Queue, WorkItem
from engagement.routing.presence import presence_set
from engagement.supervision.models import SupervisionKind, SupervisorAction
from engagement.supervision.selectors import supervision_joined
from records.audit.context import audited

MAX_WHISPER_CHARS = 2000
MAX_NOTE_CHARS = 500
JOINED_EVENT = "participant_joined"


def _record(
    *,
    actor: User,
    kind: str,
    conversation: Conversation | None = None,
    agent: User | None = None,
    work_item: WorkItem | None = None,
    message: Message | None = None,
    detail: dict[str, Any] | None = None,
) -> SupervisorAction:
    with audited(actor, source="supervision"):
        return SupervisorAction.objects.create(
            supervisor=actor,
            kind=kind,
            conversation=conversation,
            agent=agent,
            work_item=work_item,
            message=message,
            detail=redact_value(detail or {}),  # a supervisor's notes: redacted (cea.common.pii)
        )


def _as_supervisor(actor: AnyUser) -> User:
    """``actor`` if a supervisor or an admin (signed in), else ``PermissionDenied``."""
    require_supervisor(actor)
    if not isinstance(actor, User):  # require_supervisor refuses anonymous users
        raise PermissionDenied("Sign in first.", code="not_authenticated")
    return actor


def _supervised(actor: AnyUser, conversation: Conversation) -> Conversation:
    """The conversation locked and as it is now, after checking ``actor`` supervises it."""
    access_supervised_conversation(actor, conversation.pk)
    return Conversation.objects.select_for_update(of=("self",)).select_related("agent").get(pk=conversation.pk)


def _check_note(note: str) -> str:
    note = note.strip()
    if len(note) > MAX_NOTE_CHARS:
        raise ValidationFailed(f"The note is at most {MAX_NOTE_CHARS} characters.", fields={"note": "Too long."})
    return note


# --- Conversations ----------------------------------------------------------------------------


@transaction.atomic
def supervision_monitor(*, actor: AnyUser, conversation: Conversation) -> SupervisorAction:
    """Record that ``actor`` starts monitoring ``conversation`` silently (nobody in it is told).

    An ended conversation is a ``Conflict`` (``conversation_ended``).
    """
    actor = _as_supervisor(actor)
    conversation = _supervised(actor, conversation)
    if conversation.status == ConversationStatus.ENDED:
        raise Conflict(f"Conversation {conversation.pk} has ended.", code="conversation_ended")
    return _record(
        actor=actor,
        kind=SupervisionKind.MONITOR,
        conversation=conversation,
        agent=conversation.agent,
        detail={"status": conversation.status},
    )


@transaction.atomic
def supervision_whisper(*, actor: AnyUser, conversation: Conversation, body: str) -> Message:
    """Say something to the agent handling ``conversation`` that the customer never sees.

    Recorded as an internal message (``Message.internal``), pushed to the conversation's group
    (the agent's desktop and monitoring supervisors show it; the web chat drops it). Only a
    conversation with an agent (``Conflict``: ``no_agent``).
    """
    actor = _as_supervisor(actor)
    body = body.strip()
    if not body:
        raise ValidationFailed("A whisper needs some text.", fields={"body": "This field may not be blank."})
    if len(body) > MAX_WHISPER_CHARS:
        raise ValidationFailed(f"A whisper is at most {MAX_WHISPER_CHARS} characters.", fields={"body": "Too long."})
    conversation = _supervised(actor, conversation)
    if conversation.status != ConversationStatus.ACTIVE or conversation.agent is None:
        raise Conflict("Only a conversation with an agent can be whispered into.", code="no_agent")
    message, _ = message_add(
        conversation=conversation,
        direction=Direction.OUTBOUND,
        author_kind=AuthorKind.AGENT,
        author=actor,
        author_name=str(actor),
        body=body,
        payload={"event": "whisper", "to": str(conversation.agent)},
        internal=True,
    )
    _record(
        actor=actor,
        kind=SupervisionKind.WHISPER,
        conversation=conversation,
        agent=conversation.agent,
        message=message,
    )
    return message


@transaction.atomic
def supervision_barge_in(*, actor: AnyUser, conversation: Conversation) -> SupervisorAction:
    """Join ``conversation`` as a participant; the customer is told "<name> joined the conversation".

    Joining twice returns the first join (the customer is told once). A conversation waiting or
    with an agent, on a channel with text (not a call or a branch visit: ``Conflict``,
    ``no_text_replies``); otherwise ``Conflict`` (``not_live``).
    """
    actor = _as_supervisor(actor)
    conversation = _supervised(actor, conversation)
    if conversation.status not in (ConversationStatus.QUEUED, ConversationStatus.ACTIVE):
        raise Conflict("Only a conversation waiting for or with an agent can be joined.", code="not_live")
    spoken = SPOKEN_CHANNELS.get(Channel(conversation.channel))
    if spoken is not None:
        raise Conflict(f"Conversation {conversation.pk} is {spoken}: there is no text to join.", code="no_text_replies")
    joined = SupervisorAction.objects.filter(
        supervisor=actor, conversation=conversation, kind=SupervisionKind.BARGE_IN
    ).first()
    if joined is not None:
        return joined
    name = str(actor)
    notice, _ = message_add(
        conversation=conversation,
        direction=Direction.OUTBOUND,
        author_kind=AuthorKind.SYSTEM,
        body=f"{name} joined the conversation.",
        payload={"event": JOINED_EVENT, "name": name, "role": "supervisor"},
    )
    return _record(
        actor=actor,
        kind=SupervisionKind.BARGE_IN,
        conversation=conversation,
        agent=conversation.agent,
        message=notice,
    )


@transaction.atomic
def supervision_say(
    *, actor: AnyUser, conversation: Conversation, body: str, client_message_id: str = ""
) -> tuple[Message, bool]:
    """A message from a supervisor who barged in, to the customer, delivered as an agent's reply.

    Not joined yet: ``Conflict`` (``not_joined``). Returns ``(message, created)`` as
    ``conversation_reply`` does.
    """
    actor = _as_supervisor(actor)
    conversation = _supervised(actor, conversation)
    if not supervision_joined(user=actor, conversation=conversation):
        raise Conflict("Barge in before writing to the customer.", code="not_joined")
    return conversation_reply(actor=actor, conversation=conversation, body=body, client_message_id=client_message_id)


# --- Agents and work --------------------------------------------------------------------------


@transaction.atomic
def supervision_presence_set(
    *, actor: AnyUser, agent: User, presence: str, reason_code: str = "", note: str = ""
) -> AgentProfile:
    """Set an agent's presence for them (``away`` with its reason code); the agent's desktop shows who did it.

    ``note`` (why, at most 500 characters) is kept in the audit. A supervisor only for agents of
    their teams, admins for all (``PermissionDenied``).
    """
    actor = _as_supervisor(actor)
    if not supervises_agent(actor, agent):
        raise PermissionDenied("This agent is not in a team you supervise.")
    note = _check_note(note)
    before = AgentProfile.objects.filter(user=agent).values_list("presence", flat=True).first()
    with audited(actor, source="supervision"):
        profile = presence_set(
            actor=actor, agent_user=agent, presence=presence, reason_code=reason_code, cause="supervisor"
        )
    _record(
        actor=actor,
        kind=SupervisionKind.PRESENCE,
        agent=agent,
        detail={"from": before or "", "to": presence, "reason": reason_code, "note": note},
    )
    return profile


@transaction.atomic
def supervision_work_move(*, actor: AnyUser, item: WorkItem, to_queue: Queue, note: str = "") -> WorkItem:
    """Move waiting work to another queue (``orchestration.work_move``).

    The actor must supervise the work's conversation, and a supervisor may move it only to a queue
    of one of their teams or to a queue without a team (``PermissionDenied``).
    """
    actor = _as_supervisor(actor)
    item = access_supervised_work(actor, item.pk)
    note = _check_note(note)
    _check_queue(actor, to_queue)
    from_queue = item.queue.name
    with audited(actor, source="supervision"):
        moved = work_move(item=item, to_queue=to_queue)
    supervision_hint_on_commit(what="conversations")
    _record(
        actor=actor,
        kind=SupervisionKind.MOVE,
        conversation=moved.conversation,
        work_item=moved,
        detail={"from_queue": from_queue, "to_queue": to_queue.name, "note": note},
    )
    return moved


@transaction.atomic
def supervision_work_requeue(*, actor: AnyUser, item: WorkItem, note: str = "") -> WorkItem:
    """Put offered or assigned work back to waiting in its queue (``orchestration.work_requeue``)."""
    actor = _as_supervisor(actor)
    item = access_supervised_work(actor, item.pk)
    note = _check_note(note)
    agent = item.agent.user if item.agent is not None else None
    from_status = item.status
    with audited(actor, source="supervision"):
        waiting = work_requeue(actor=actor, item=item, note=note)
    _record(
        actor=actor,
        kind=SupervisionKind.REQUEUE,
        conversation=waiting.conversation,
        work_item=waiting,
        agent=agent,
        detail={"from_status": from_status, "queue": waiting.queue.name, "note": note},
    )
    return waiting


def _check_queue(actor: User, queue: Queue) -> None:
    if is_admin(actor) or queue.team_id is None or queue.team_id in team_ids_of(actor):
        return
    raise PermissionDenied("This queue belongs to a team you do not supervise.")
