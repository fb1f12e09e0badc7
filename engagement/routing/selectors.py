"""Read-only views of routing: queue statistics, an agent's offers and work, live figures of queues and agents."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from cea.accounts.models import User
from cea.common.errors import NotFound
from engagement.access import ROUTABLE_ROLES
from engagement.routing.hours import OpenSpan, merge_spans, open_spans
from engagement.routing.models import (
    AgentProfile,
    BusinessHours,
    Offer,
    OfferStatus,
    Presence,
    PresenceChange,
    Queue,
    QueueFlowOut,
    WorkItem,
    WorkStatus,
)
from records.interactions.models import Interaction


def queue_stats(*, since: datetime | None = None, now: datetime | None = None) -> list[dict[str, Any]]:
    """Per active queue: waiting work, the oldest wait, free agents, and the service level since ``since``.

    Service level: the share of work answered within the queue's target seconds, among the work
    answered or abandoned since ``since`` (default: the last 24 hours).
    """
    now = now or timezone.now()
    since = since or now - timedelta(hours=24)
    live = queues_waiting()
    results = []
    for queue in Queue.objects.filter(is_active=True).select_related("team"):
        done = WorkItem.objects.filter(queue=queue, wait_seconds__isnull=False, transferred_from__isnull=True).filter(
            Q(assigned_at__gte=since) | Q(status=WorkStatus.ABANDONED, ended_at__gte=since)
        )
        counts = done.aggregate(
            answered=Count("pk", filter=Q(assigned_at__isnull=False)),
            within=Count("pk", filter=Q(assigned_at__isnull=False, wait_seconds__lte=queue.service_level_seconds)),
            abandoned=Count("pk", filter=Q(status=WorkStatus.ABANDONED)),
        )
        handled = counts["answered"] + counts["abandoned"]
        row = live.get(queue.pk, QueueWaiting(queue_id=queue.pk))
        agents = AgentProfile.objects.filter(presence=Presence.AVAILABLE, user__is_active=True)
        if queue.team_id:
            agents = agents.filter(user__teams=queue.team_id)
        results.append(
            {
                "name": queue.name,
                "label": queue.label or queue.name,
                "channel": queue.channel,
                "team": queue.team.name if queue.team else None,
                "waiting": row.waiting,
                "offered": row.offered,
                "oldest_wait_seconds": round((now - row.oldest_enqueued_at).total_seconds(), 1)
                if row.oldest_enqueued_at
                else None,
                "agents_available": agents.count(),
                "answered": counts["answered"],
                "abandoned": counts["abandoned"],
                "service_level_target": f"{queue.service_level_percent}% in {queue.service_level_seconds} s",
                "service_level_percent": round(100 * counts["within"] / handled, 1) if handled else None,
            }
        )
    return results


# --- Live figures of queues and agents (the wallboard's and the real-time API's facts) ------------


@dataclass(frozen=True)
class QueueWaiting:
    """A queue's work not yet with an agent, now: waiting, offered (reserved, still in the queue) and the oldest."""

    queue_id: int
    waiting: int = 0
    offered: int = 0
    oldest_enqueued_at: datetime | None = None


def queues_waiting(*, queue_ids: Collection[int] | None = None) -> dict[int, QueueWaiting]:
    """Per queue with work in it (of ``queue_ids``, default all): its waiting and offered work, one statement."""
    items = WorkItem.objects.filter(status__in=(WorkStatus.WAITING, WorkStatus.OFFERED))
    if queue_ids is not None:
        items = items.filter(queue_id__in=list(queue_ids))
    rows = items.values("queue_id").annotate(
        waiting=Count("pk", filter=Q(status=WorkStatus.WAITING)),
        offered=Count("pk", filter=Q(status=WorkStatus.OFFERED)),
        oldest=Min("enqueued_at"),
    )
    return {
        row["queue_id"]: QueueWaiting(
            queue_id=row["queue_id"], waiting=row["waiting"], offered=row["offered"], oldest_enqueued_at=row["oldest"]
        )
        for row in rows
    }


@dataclass(frozen=True)
class QueueContacts:
    """What became of the contacts that joined a queue since a moment (transfers in left out).

    ``within`` counts against the queue's ``service_level_seconds``: ``answered_within`` and
    ``abandoned_within`` left the queue within it; ``short_abandoned`` were abandoned in under the
    queue's ``short_abandon_seconds`` (a part of ``abandoned_within``: the threshold is under the
    target); ``waiting_past_target`` are still in the queue and older than the target (they can no
    longer meet it); ``answer_wait_seconds`` sums the answered ones' waits.
    """

    queue_id: int
    queued: int = 0
    answered: int = 0
    answered_within: int = 0
    abandoned: int = 0
    abandoned_within: int = 0
    short_abandoned: int = 0
    waiting_past_target: int = 0
    answer_wait_seconds: float = 0.0


def queue_contacts_since(
    *, since: datetime, now: datetime, queue_ids: Collection[int] | None = None
) -> dict[int, QueueContacts]:
    """Per queue (of ``queue_ids``, default all) with contacts enqueued in ``[since, now]``: their outcomes.

    One statement.

    A contact counts in the queue it is in now (an overflow moves it with its enqueue time), against
    that queue's target and short-abandon threshold (a wait under ``short_abandon_seconds``, as
    insights' rollup counts short abandons); a transfer's new work item is left out (its contact was
    counted where it first queued).
    """
    target = F("queue__service_level_seconds")
    target_passed_at = ExpressionWrapper(
        Value(now) - target * Value(timedelta(seconds=1)), output_field=DateTimeField()
    )
    answered = Q(assigned_at__isnull=False)
    abandoned = Q(status=WorkStatus.ABANDONED)
    items = WorkItem.objects.filter(enqueued_at__gte=since, enqueued_at__lte=now, transferred_from__isnull=True)
    if queue_ids is not None:
        items = items.filter(queue_id__in=list(queue_ids))
    rows = items.values("queue_id").annotate(
        queued=Count("pk"),
        answered=Count("pk", filter=answered),
        answered_within=Count("pk", filter=answered & Q(wait_seconds__lte=target)),
        abandoned=Count("pk", filter=abandoned),
        abandoned_within=Count("pk", filter=abandoned & Q(wait_seconds__lte=target)),
        short_abandoned=Count("pk", filter=abandoned & Q(wait_seconds__lt=F("queue__short_abandon_seconds"))),
        waiting_past_target=Count(
            "pk",
            filter=Q(status__in=(WorkStatus.WAITING, WorkStatus.OFFERED), enqueued_at__lt=target_passed_at),
        ),
        answer_wait_seconds=Sum("wait_seconds", filter=answered),
    )
    return {
        row["queue_id"]: QueueContacts(
            queue_id=row["queue_id"],
            queued=row["queued"],
            answered=row["answered"],
            answered_within=row["answered_within"],
            abandoned=row["abandoned"],
            abandoned_within=row["abandoned_within"],
            short_abandoned=row["short_abandoned"],
            waiting_past_target=row["waiting_past_target"],
            answer_wait_seconds=float(row["answer_wait_seconds"] or 0.0),
        )
        for row in rows
    }


@dataclass(frozen=True)
class AgentStateCount:
    """How many agents (of a team, or of all when ``team_id`` is ``None``) are in one presence (and reason)."""

    team_id: int | None
    presence: str
    reason_code: str
    reason_label: str
    agents: int


def agent_state_counts(*, team_ids: Collection[int] | None, by_team: bool = True) -> list[AgentStateCount]:
    """Active agents with a routing profile by presence and away reason, one statement: per team of
    ``team_ids`` (``by_team``), or over the agents of any of ``team_ids`` (each once, ``team_id=None``),
    or over all agents (each once) when ``team_ids`` is ``None``."""
    profiles = AgentProfile.objects.filter(
        user__is_active=True, user__role__in=ROUTABLE_ROLES, user__is_superuser=False
    )
    fields = ["presence", "reason__code", "reason__label"]
    if team_ids is not None:
        profiles = profiles.filter(user__teams__in=list(team_ids))
        if by_team:
            fields = ["user__teams", *fields]
    rows = profiles.values(*fields).annotate(agents=Count("pk", distinct=True)).order_by(*fields)
    return [
        AgentStateCount(
            team_id=row.get("user__teams"),
            presence=row["presence"],
            reason_code=row["reason__code"] or "",
            reason_label=row["reason__label"] or "",
            agents=row["agents"],
        )
        for row in rows
    ]


def queues_active(*, team_ids: Collection[int] | None = None, shared: bool = True) -> list[Queue]:
    """Active queues, by name: of ``team_ids`` (default any team) and, with ``shared``, those of no team."""
    queues = Queue.objects.filter(is_active=True).select_related("team")
    if team_ids is not None:
        in_teams = Q(team_id__in=list(team_ids))
        queues = queues.filter(in_teams | Q(team__isnull=True) if shared else in_teams)
    elif not shared:
        queues = queues.filter(team__isnull=False)
    return list(queues.order_by("name"))


def offers_pending_for(*, profile: AgentProfile) -> QuerySet[Offer]:
    return (
        Offer.objects.filter(agent=profile, status=OfferStatus.PENDING)
        .select_related("work_item__conversation__customer", "work_item__queue")
        .order_by("offered_at", "pk")
    )


# --- Transfer targets ---------------------------------------------------------------------------


def transfer_target_agents() -> QuerySet[User]:
    """The users a conversation may be transferred to: active agents and supervisors.

    A superuser is an administrator whatever their role field says (``role_of``), so is none.
    """
    return get_user_model().objects.filter(is_active=True, is_superuser=False, role__in=ROUTABLE_ROLES)


def transfer_target_agent(*, reference: int | str) -> User | None:
    """The transfer target named by ``reference`` (a user id, or a username), or ``None`` if no such target.

    Both the API and the desk resolve ``to_agent`` here, so they accept and refuse the same users.
    """
    targets = transfer_target_agents()
    text = str(reference)
    agent = targets.filter(pk=int(text)).first() if text.isascii() and text.isdigit() else None
    return agent or targets.filter(username=text).first()


def transfer_destination(*, to_queue: str, to_agent: int | None) -> tuple[Queue | None, User | None]:
    """The queue or the agent a transfer's input names (``TransferInputSerializer``); ``NotFound`` if none.

    Routing's transfer and voice call control's call transfer read their input the same way.
    """
    if to_queue:
        queue = Queue.objects.filter(name=to_queue).first()
        if queue is None:
            raise NotFound(f"No queue {to_queue!r}.")
        return queue, None
    agent = transfer_target_agent(reference=to_agent or "")
    if agent is None:
        raise NotFound(f"No agent with id {to_agent}.")
    return None, agent


def interactions_with_routing(*, interactions: QuerySet[Interaction]) -> QuerySet[Interaction]:
    """Interactions annotated with what routing knows of them, for insights' contact rollups.

    ``first_enqueued_at``: when its conversation first waited for an agent (null: never routed);
    ``transferred``: an agent transferred it at least once; ``released_at``: when the last agent
    wrapped it up (the end of after-contact work; null when nobody did).
    """
    work = WorkItem.objects.filter(conversation__interaction=OuterRef("pk"))
    return interactions.annotate(
        first_enqueued_at=Subquery(work.order_by("enqueued_at").values("enqueued_at")[:1]),
        transferred=Exists(work.filter(status=WorkStatus.TRANSFERRED)),
        released_at=Subquery(work.filter(status=WorkStatus.DONE).order_by("-ended_at").values("ended_at")[:1]),
    )


def interactions_released_since(*, since: datetime) -> QuerySet[WorkItem]:
    """The ids (``interaction_id``) of interactions whose after-contact work ended at or after ``since``
    (a work item of theirs done then: their ``released_at`` is at least ``since``), for insights'
    agents' time. Read through the ``workitem_ended`` index."""
    return (
        WorkItem.objects.filter(status=WorkStatus.DONE, ended_at__gte=since)
        .order_by()
        .values(interaction_id=F("conversation__interaction_id"))  # type: ignore[return-value]  # ids, as a subquery
    )


def interaction_flow_outs(*, interactions: QuerySet[Interaction]) -> QuerySet[QueueFlowOut]:
    """The flow-outs of ``interactions``' conversations (work that left a queue unanswered for another),
    oldest first, for insights' contact rollups: rows ``{"interaction_id", "queue", "final_queue",
    "entered_queue_at", "flowed_out_at"}``.

    ``queue`` is the name of the queue left (the name interactions record); ``final_queue`` the
    name of the queue of the conversation's last work item, where it was answered, abandoned or
    ended (an overflow moves the work, not the conversation's own ``queue``, which still names
    the queue it first waited in until an agent answers).
    """
    last_item = WorkItem.objects.filter(conversation_id=OuterRef("conversation_id")).order_by("-id")
    return (
        QueueFlowOut.objects.filter(conversation__interaction__in=interactions.order_by().values("pk"))
        .order_by("flowed_out_at", "id")
        .values(  # type: ignore[return-value]  # rows as dicts, read as SQL
            "entered_queue_at",
            "flowed_out_at",
            interaction_id=F("conversation__interaction_id"),
            queue=F("from_queue__name"),
            final_queue=Subquery(last_item.values("queue__name")[:1]),
        )
    )


def queue_service_level_settings() -> QuerySet[Queue]:
    """Every queue's service-level settings by name (the name interactions record)."""
    return Queue.objects.order_by().values(  # type: ignore[return-value]  # rows as dicts, read as SQL
        "name",
        "service_level_seconds",
        "service_level_formula",
        "short_abandon_seconds",
        "sl_counts_answered_after_target",
        "sl_counts_abandons",
        "sl_excludes_short_abandons",
        "sl_counts_flow_outs",
    )


def presence_spans(*, start: datetime, end: datetime, now: datetime) -> QuerySet[PresenceChange]:
    """Agents' presence periods overlapping ``[start, end)``, with ``user_id`` and ``until``
    (the period's end, ``now`` while it lasts), for insights' agent rollups."""
    return (
        PresenceChange.objects.filter(started_at__lt=end)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start))
        .annotate(user_id=F("agent__user_id"), until=Coalesce("ended_at", Value(now, output_field=DateTimeField())))
        .order_by()
    )


def presence_timeline(
    *, start: datetime, end: datetime, now: datetime, user_ids: Collection[int] | None = None
) -> QuerySet[PresenceChange]:
    """Presence periods overlapping ``[start, end)`` of the agents whose users are ``user_ids`` (all
    when ``None``), oldest first, with ``user_id``, ``until`` (``now`` while a period lasts) and
    the away reason selected: the agents' state timelines of insights' reports."""
    spans = presence_spans(start=start, end=end, now=now).select_related("reason")
    if user_ids is not None:
        spans = spans.filter(agent__user_id__in=sorted(user_ids))
    return spans.order_by("agent__user_id", "started_at", "id")


# --- Business hours ---------------------------------------------------------------------------


def business_hours_all() -> QuerySet[BusinessHours]:
    """Every business-hours schedule by name, with its ranges, closures and queues' names fetched."""
    return BusinessHours.objects.prefetch_related("ranges", "closures", "queues").order_by("name")


def business_hours_get(*, name: str) -> BusinessHours:
    """The schedule ``name`` with its ranges, closures and queues; ``NotFound`` when there is none."""
    schedule = business_hours_all().filter(name=name).first()
    if schedule is None:
        raise NotFound(f"No business hours {name!r}.")
    return schedule


def _always(start: datetime, end: datetime) -> list[OpenSpan]:
    return [OpenSpan(start, end)]


def queue_open_spans(*, queue: Queue, start: datetime, end: datetime) -> list[OpenSpan]:
    """When ``queue`` is open between ``start`` and ``end`` (aware): merged UTC spans clipped to the range.
    A queue without business hours is open throughout."""
    if queue.business_hours_id is None:
        return _always(start, end) if start < end else []
    schedule = business_hours_all().get(pk=queue.business_hours_id)
    return open_spans(schedule.spec(), start=start, end=end)


def queue_is_open(*, queue: Queue, at: datetime) -> bool:
    """Whether ``queue`` is open at the instant ``at`` (aware); always, without business hours."""
    return bool(queue_open_spans(queue=queue, start=at, end=at + timedelta(microseconds=1)))


def _schedule_spans(*, start: datetime, end: datetime) -> dict[int, list[OpenSpan]]:
    return {schedule.pk: open_spans(schedule.spec(), start=start, end=end) for schedule in business_hours_all()}


def scheduled_queue_spans(
    *, start: datetime, end: datetime, by_schedule: dict[int, list[OpenSpan]] | None = None
) -> dict[str, list[OpenSpan]]:
    """The open spans between ``start`` and ``end`` of each queue that has business hours, by queue name
    (the name interactions and rollups record). A queue not listed is always open. ``by_schedule``:
    the schedules' spans over that range when the caller has them (``scheduled_spans``)."""
    if by_schedule is None:
        by_schedule = _schedule_spans(start=start, end=end)
    queues = Queue.objects.filter(business_hours__isnull=False).values_list("name", "business_hours_id")
    return {name: by_schedule[schedule_id] for name, schedule_id in queues}


def scheduled_team_spans(
    *, start: datetime, end: datetime, by_schedule: dict[int, list[OpenSpan]] | None = None
) -> dict[int, list[OpenSpan]]:
    """A team's open spans: when at least one of its active queues is open, for each team whose every
    active queue has business hours. A team not listed (no active queue, or one always open) is
    always open. What work without a queue (agents' time, cases, self-service) is measured by.
    ``by_schedule`` as for ``scheduled_queue_spans``."""
    if by_schedule is None:
        by_schedule = _schedule_spans(start=start, end=end)
    teams: dict[int, list[int | None]] = {}
    for team_id, schedule_id in Queue.objects.filter(is_active=True, team__isnull=False).values_list(
        "team_id", "business_hours_id"
    ):
        teams.setdefault(team_id, []).append(schedule_id)
    return {
        team_id: merge_spans([span for schedule_id in schedules if schedule_id for span in by_schedule[schedule_id]])
        for team_id, schedules in teams.items()
        if None not in schedules
    }


def scheduled_spans(*, start: datetime, end: datetime) -> tuple[dict[str, list[OpenSpan]], dict[int, list[OpenSpan]]]:
    """``scheduled_queue_spans`` and ``scheduled_team_spans`` together, the schedules read and their spans
    computed once for both."""
    by_schedule = _schedule_spans(start=start, end=end)
    return (
        scheduled_queue_spans(start=start, end=end, by_schedule=by_schedule),
        scheduled_team_spans(start=start, end=end, by_schedule=by_schedule),
    )
