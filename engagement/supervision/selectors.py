"""What a supervisor sees live: their teams' conversations waiting for or with an agent.

Each row has the conversation's state, queue, agent, how long the customer waited (still waiting:
until now) and the live sentiment when something wrote it into the conversation's context
(``sentiment``, -1 … 1, and ``sentiment_label``: the keys an analyser writes; an ended
conversation's sentiment is its Interaction's). Unknown sentiment is ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from cea.accounts.models import User
from cea.accounts.types import AnyUser
from cea.common.roles import is_admin, team_ids_of
from engagement.access import ROUTABLE_ROLES, require_supervisor, supervised_conversations
from engagement.context import store
from engagement.context.models import ContextScope
from engagement.conversations.models import Conversation, ConversationStatus
from engagement.routing.models import OPEN_WORK, Presence, Queue, ReasonCode, WorkItem
from engagement.supervision.models import SupervisionKind, SupervisorAction

LIVE = (ConversationStatus.QUEUED, ConversationStatus.ACTIVE)
LIST_LIMIT = 500


@dataclass(frozen=True)
class LiveConversation:
    id: int
    channel: str
    channel_label: str
    status: str
    status_label: str
    queue: str
    queue_label: str
    team: str
    agent_id: int | None
    agent: str
    customer: str
    subject: str
    started_at: datetime
    waiting_since: datetime | None
    wait_seconds: float | None
    work_item: int | None
    work_status: str
    sentiment: float | None
    sentiment_label: str
    sentiment_alert: str = ""  # a strongly negative customer turn (insights' alert), in words


def _sentiment(values: dict[str, Any]) -> tuple[float | None, str]:
    score = values.get("sentiment")
    if isinstance(score, bool) or not isinstance(score, int | float) or not -1 <= score <= 1:
        score = None
    label = values.get("sentiment_label")
    return (float(score) if score is not None else None), (label if isinstance(label, str) else "")


def _alert(values: dict[str, Any]) -> str:
    alert = values.get("sentiment_alert")
    return alert[:200] if isinstance(alert, str) else ""


def _wait_seconds(conversation: Conversation, *, item: WorkItem | None, now: datetime) -> float | None:
    """How long a queued conversation has waited so far; for one past the queue, how long it waited."""
    waiting_since = item.enqueued_at if item is not None else conversation.escalated_at
    if conversation.status == ConversationStatus.QUEUED and waiting_since is not None:
        return round(max(0.0, (now - waiting_since).total_seconds()), 1)
    wait = item.wait_seconds if item is not None else None
    return round(wait, 1) if wait is not None else None


def _live_row(
    conversation: Conversation, *, item: WorkItem | None, queue_label: str, context: Any, now: datetime
) -> LiveConversation:
    sentiment, sentiment_label = _sentiment(context.values if context is not None else {})
    agent = conversation.agent
    customer = str(conversation.customer) if conversation.customer else (conversation.contact_value or "Visitor")
    return LiveConversation(
        id=conversation.pk,
        channel=conversation.channel,
        channel_label=conversation.get_channel_display(),
        status=conversation.status,
        status_label=conversation.get_status_display(),
        queue=conversation.queue,
        queue_label=queue_label,
        team=conversation.team.name if conversation.team is not None else "",
        agent_id=agent.pk if agent is not None else None,
        agent=str(agent) if agent is not None else "",
        customer=customer,
        subject=conversation.subject,
        started_at=conversation.created_at,
        waiting_since=item.enqueued_at if item is not None else conversation.escalated_at,
        wait_seconds=_wait_seconds(conversation, item=item, now=now),
        work_item=item.pk if item is not None else None,
        work_status=item.status if item is not None else "",
        sentiment=sentiment,
        sentiment_label=sentiment_label,
        sentiment_alert=_alert(context.values if context is not None else {}),
    )


def live_conversations(
    *, user: AnyUser, now: datetime | None = None, limit: int = LIST_LIMIT
) -> list[LiveConversation]:
    """The live conversations ``user`` supervises (admins all), longest waiting first, then oldest.

    Raises ``PermissionDenied`` for anyone but a supervisor or an admin.
    """
    now = now or timezone.now()
    conversations = list(
        supervised_conversations(user)
        .filter(status__in=LIVE)
        .select_related("customer", "team", "agent")
        .order_by("created_at", "id")[:limit]
    )
    ids = [conversation.pk for conversation in conversations]
    items = {
        item.conversation_id: item
        for item in WorkItem.objects.filter(conversation_id__in=ids, status__in=OPEN_WORK).select_related("queue")
    }
    labels = dict(Queue.objects.filter(name__in={c.queue for c in conversations}).values_list("name", "label"))
    contexts = store.read_many(ContextScope.CONVERSATION, [str(pk) for pk in ids])
    rows = [
        _live_row(
            conversation,
            item=items.get(conversation.pk),
            queue_label=labels.get(conversation.queue) or conversation.queue,
            context=contexts.get(str(conversation.pk)),
            now=now,
        )
        for conversation in conversations
    ]
    rows.sort(key=lambda row: (row.status != ConversationStatus.QUEUED, -(row.wait_seconds or 0), row.started_at))
    return rows


def supervision_joined(*, user: AnyUser, conversation: Conversation) -> bool:
    """Whether ``user`` barged into ``conversation`` (and so may write to its customer)."""
    return SupervisorAction.objects.filter(
        supervisor_id=user.pk, conversation=conversation, kind=SupervisionKind.BARGE_IN
    ).exists()


@dataclass(frozen=True)
class SupervisedAgent:
    id: int
    name: str
    presence: str
    presence_label: str
    reason_label: str
    since: datetime | None
    load_units: int
    capacity_units: int


def supervised_agents(*, user: AnyUser) -> list[SupervisedAgent]:
    """The agents and supervisors ``user`` may act for (admins: all), with their presence, by name."""
    require_supervisor(user)
    people = User.objects.filter(is_active=True, role__in=ROUTABLE_ROLES).select_related(
        "routing_profile", "routing_profile__reason"
    )
    if not is_admin(user):
        people = people.filter(teams__in=team_ids_of(user)).distinct()
    rows = []
    for person in people.order_by("first_name", "last_name", "username"):
        profile = getattr(person, "routing_profile", None)
        rows.append(
            SupervisedAgent(
                id=person.pk,
                name=str(person),
                presence=profile.presence if profile is not None else Presence.OFFLINE,
                presence_label=profile.get_presence_display() if profile is not None else str(Presence.OFFLINE.label),
                reason_label=profile.reason.label if profile is not None and profile.reason is not None else "",
                since=profile.presence_since if profile is not None else None,
                load_units=profile.load_units if profile is not None else 0,
                capacity_units=profile.capacity_units if profile is not None else 0,
            )
        )
    return rows


def supervision_queues(*, user: AnyUser) -> list[Queue]:
    """The open queues ``user`` may move work to: their teams' and those without a team (admins: all)."""
    queues = Queue.objects.filter(is_active=True)
    if not is_admin(user):
        queues = queues.filter(Q(team__isnull=True) | Q(team_id__in=team_ids_of(user)))
    return list(queues.order_by("label", "name"))


def presence_options() -> list[tuple[str, str]]:
    """What a supervisor may set an agent to: ``(value, label)``, away once per reason code (``away:<code>``)."""
    labels = {value: str(label) for value, label in Presence.choices}
    return [
        (Presence.AVAILABLE.value, labels[Presence.AVAILABLE]),
        (Presence.BUSY.value, labels[Presence.BUSY]),
        *(
            (f"{Presence.AWAY}:{code}", gettext("Away · %(reason)s") % {"reason": label})
            for code, label in ReasonCode.objects.filter(system=False, is_active=True).values_list("code", "label")
        ),
        (Presence.OFFLINE.value, labels[Presence.OFFLINE]),
    ]
