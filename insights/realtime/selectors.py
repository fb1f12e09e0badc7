"""Real-time figures of queues and agents, from live state (routing's tables), not from rollups.

Per queue: the contacts waiting now (and offered, still in the queue), the longest wait, and for
today (since local midnight in ``settings.TIME_ZONE``) and for the last 15 minutes: contacts
queued, answered, abandoned, the service level and the average speed of answer. Per team: its
agents by state (available, busy, after-contact, away by reason, offline), and per queue the
agents who may take its work (its team's; for a shared queue of no team, those the reader sees).

Everything is read through ``engagement.routing.selectors`` in a handful of set-based statements
whatever the number of queues and agents (bench/wallboard.py). Who may see which team is
``insights.access``'s to say; these selectors do not check.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from cea.accounts.models import Team
from engagement.routing.models import Presence, Queue
from engagement.routing.selectors import (
    AgentStateCount,
    QueueContacts,
    QueueWaiting,
    agent_state_counts,
    queue_contacts_since,
    queues_active,
    queues_waiting,
)

RECENT = timedelta(minutes=15)
TODAY = "today"
LAST_15_MINUTES = "last_15_minutes"


def today_start(*, now: datetime) -> datetime:
    """Local midnight of ``now``'s day in ``settings.TIME_ZONE``, as an aware datetime.

    The wall clock's midnight, so a DST day is 23 or 25 hours long; zoneinfo gives the offset
    of that wall time.
    """
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def service_level_percent(*, contacts: QueueContacts) -> float | None:
    """Service level, Amazon Connect's default definition, in percent (``None`` with no contact decided yet).

    Contacts removed from the queue within the queue's target (``service_level_seconds``, from
    the enqueue time), answered or abandoned, over the contacts queued. Real time: contacts still
    waiting that are younger than the target are left out until they are decided (they may yet
    meet it); those already older count against it. Transfers in are left out (see
    ``queue_contacts_since``). The one place the real-time figures define it: point it at the KPI
    registry's definition (insights/kpis/) when that exists.
    """
    met = contacts.answered_within + contacts.abandoned_within
    decided = contacts.answered + contacts.abandoned + contacts.waiting_past_target
    return round(100 * met / decided, 1) if decided else None


def average_speed_of_answer(*, contacts: QueueContacts) -> float | None:
    """ASA in seconds: the answered contacts' waits from enqueue to answer, over the answered contacts."""
    return round(contacts.answer_wait_seconds / contacts.answered, 1) if contacts.answered else None


@dataclass(frozen=True)
class PeriodFigures:
    """A queue's contacts since ``since``: queued, answered, abandoned, service level, ASA."""

    since: datetime
    queued: int
    answered: int
    abandoned: int
    service_level_percent: float | None
    average_speed_of_answer_seconds: float | None

    @classmethod
    def of(cls, contacts: QueueContacts, *, since: datetime) -> PeriodFigures:
        return cls(
            since=since,
            queued=contacts.queued,
            answered=contacts.answered,
            abandoned=contacts.abandoned,
            service_level_percent=service_level_percent(contacts=contacts),
            average_speed_of_answer_seconds=average_speed_of_answer(contacts=contacts),
        )


@dataclass(frozen=True)
class AwayReason:
    code: str
    label: str
    agents: int


@dataclass(frozen=True)
class AgentStates:
    """Agents by presence; ``away_reasons`` splits ``away`` by reason, most agents first."""

    available: int = 0
    busy: int = 0
    after_contact: int = 0
    away: int = 0
    offline: int = 0
    away_reasons: tuple[AwayReason, ...] = ()

    @property
    def total(self) -> int:
        return self.available + self.busy + self.after_contact + self.away + self.offline

    @classmethod
    def of(cls, counts: Collection[AgentStateCount]) -> AgentStates:
        by_presence = dict.fromkeys(Presence.values, 0)
        reasons: dict[tuple[str, str], int] = {}
        for count in counts:
            by_presence[count.presence] = by_presence.get(count.presence, 0) + count.agents
            if count.presence == Presence.AWAY:
                key = (count.reason_code, count.reason_label or count.reason_code or "No reason")
                reasons[key] = reasons.get(key, 0) + count.agents
        return cls(
            available=by_presence[Presence.AVAILABLE],
            busy=by_presence[Presence.BUSY],
            after_contact=by_presence[Presence.AFTER_CONTACT],
            away=by_presence[Presence.AWAY],
            offline=by_presence[Presence.OFFLINE],
            away_reasons=tuple(
                AwayReason(code=code, label=label, agents=agents)
                for (code, label), agents in sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
            ),
        )


@dataclass(frozen=True)
class QueueFigures:
    """One queue, now: what waits in it, and its contacts today and in the last 15 minutes."""

    queue_id: int
    name: str
    label: str
    channel: str
    team_id: int | None
    team: str | None
    service_level_target_percent: int
    service_level_target_seconds: int
    waiting: int
    offered: int
    oldest_enqueued_at: datetime | None
    longest_wait_seconds: float | None
    today: PeriodFigures
    last_15_minutes: PeriodFigures
    agents: AgentStates = field(default_factory=AgentStates)


@dataclass(frozen=True)
class TeamBoard:
    """A team's wallboard: its queues (and the shared queues of no team) and its agents by state."""

    team_id: int
    team: str
    computed_at: datetime
    queues: list[QueueFigures] = field(default_factory=list)
    agents: AgentStates = field(default_factory=AgentStates)


def _queue_figures(
    queue: Queue,
    *,
    waiting: QueueWaiting,
    today: PeriodFigures,
    recent: PeriodFigures,
    agents: AgentStates,
    now: datetime,
) -> QueueFigures:
    return QueueFigures(
        queue_id=queue.pk,
        name=queue.name,
        label=queue.label or queue.name,
        channel=queue.channel,
        team_id=queue.team_id,
        team=queue.team.name if queue.team_id and queue.team else None,
        service_level_target_percent=queue.service_level_percent,
        service_level_target_seconds=queue.service_level_seconds,
        waiting=waiting.waiting,
        offered=waiting.offered,
        oldest_enqueued_at=waiting.oldest_enqueued_at,
        longest_wait_seconds=round(max(0.0, (now - waiting.oldest_enqueued_at).total_seconds()), 1)
        if waiting.oldest_enqueued_at
        else None,
        today=today,
        last_15_minutes=recent,
        agents=agents,
    )


def queue_figures(
    *, queues: Collection[Queue], agents: Mapping[int | None, AgentStates] | None = None, now: datetime | None = None
) -> list[QueueFigures]:
    """The real-time figures of ``queues`` (three statements whatever their number), in the order given.

    ``agents``: the agents who may take each queue's work, by the queue's team id (``None``: the
    shared queues of no team); a queue whose team is not in it gets none.
    """
    now = now or timezone.now()
    agents = agents or {}
    ids = [queue.pk for queue in queues]
    midnight, recent_start = today_start(now=now), now - RECENT
    waiting = queues_waiting(queue_ids=ids)
    today = queue_contacts_since(since=midnight, now=now, queue_ids=ids)
    recent = queue_contacts_since(since=recent_start, now=now, queue_ids=ids)
    return [
        _queue_figures(
            queue,
            waiting=waiting.get(queue.pk, QueueWaiting(queue_id=queue.pk)),
            today=PeriodFigures.of(today.get(queue.pk, QueueContacts(queue_id=queue.pk)), since=midnight),
            recent=PeriodFigures.of(recent.get(queue.pk, QueueContacts(queue_id=queue.pk)), since=recent_start),
            agents=agents.get(queue.team_id, AgentStates()),
            now=now,
        )
        for queue in queues
    ]


def realtime_queues(*, team_ids: Collection[int] | None, now: datetime | None = None) -> list[QueueFigures]:
    """Every active queue of ``team_ids`` and of no team (``None``: every active queue), with its figures.

    Each queue's agents are those who may take its work, as far as the reader sees: a team's queue,
    the team's agents; a shared queue (of no team), the agents of ``team_ids`` (each once; all
    agents when ``None``). Six statements whatever the number of queues.
    """
    queues = queues_active(team_ids=team_ids)
    team_ids_shown = {queue.team_id for queue in queues if queue.team_id is not None}
    agents: dict[int | None, AgentStates] = dict(agent_states_by_team(team_ids=team_ids_shown).items())
    if any(queue.team_id is None for queue in queues):
        agents[None] = AgentStates.of(agent_state_counts(team_ids=team_ids, by_team=False))
    return queue_figures(queues=queues, agents=agents, now=now)


def agent_states_by_team(*, team_ids: Collection[int]) -> dict[int, AgentStates]:
    """Each team's agents by state (an agent in two teams counts in both)."""
    counts: dict[int, list[AgentStateCount]] = {team_id: [] for team_id in team_ids}
    for count in agent_state_counts(team_ids=team_ids):
        if count.team_id is not None:
            counts.setdefault(count.team_id, []).append(count)
    return {team_id: AgentStates.of(rows) for team_id, rows in counts.items()}


def team_board(*, team: Team, now: datetime | None = None) -> TeamBoard:
    """``team``'s wallboard: its active queues and the shared ones (of no team), by name, and its agents by state."""
    now = now or timezone.now()
    agents = agent_states_by_team(team_ids=[team.pk])[team.pk]
    # On a team's board, the team's agents are who may take the work of its queues and of the shared ones.
    queues = queue_figures(queues=queues_active(team_ids=[team.pk]), agents={team.pk: agents, None: agents}, now=now)
    return TeamBoard(team_id=team.pk, team=team.name, computed_at=now, queues=queues, agents=agents)
