"""Real-time figures of queues and agents, from live state (routing's tables), not from rollups.

Per queue: the contacts waiting now (and offered, still in the queue), the longest wait, and for
today (since local midnight in ``settings.TIME_ZONE``) and for the last 15 minutes: contacts
queued, answered, abandoned (and short abandons), the service level under the queue's own formula
(the KPI registry's rule, ``insights.kpis.definitions``) and the average speed of answer. Per team: its
agents by state (available, busy, after-contact, away by reason, offline), and per queue the
agents who may take its work (its team's; for a shared queue of no team, those the reader sees).

Everything is read through ``engagement.routing.selectors`` in a handful of set-based statements
whatever the number of queues and agents (bench/wallboard.py). Who may see which team is
``insights.access``'s to say; these selectors do not check.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
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
from insights.kpis.definitions import QueueOutcomes, ServiceLevelTerms, service_level_fraction

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


def service_level_percent(*, contacts: QueueContacts, terms: ServiceLevelTerms) -> float | None:
    """Service level in percent under the queue's formula (``terms``), by the KPI registry's rule
    (``service_level_fraction``); ``None`` while nothing counts in its denominator.

    The contacts that left the queue count as the registry counts them: answered or abandoned
    within the target or after it, and short abandons under the queue's threshold (routing's work
    items record no callbacks, and flow-outs are counted by the reports, not here). Real time adds
    the contacts still in the queue: one younger than the target is left out until it is decided
    (it may yet meet it); one older than the target has missed it, and counts in the denominator
    when the formula counts it however it leaves the queue from now on, answered late or abandoned
    late: always under Connect (queued, not within), under Genesys-style when both terms are on
    (the defaults), never otherwise
    (docs/kpis.md, "Real time"). Transfers in are left out (see ``queue_contacts_since``).
    """
    decided = QueueOutcomes(
        answered_within=contacts.answered_within,
        answered_after=contacts.answered - contacts.answered_within,
        abandoned_within=contacts.abandoned_within,
        abandoned_after=contacts.abandoned - contacts.abandoned_within,
        short_abandoned=contacts.short_abandoned,
    )
    met, counted = service_level_fraction(outcomes=decided, terms=terms)
    late = contacts.waiting_past_target
    if late:
        # What the registry's rule counts of them whichever way they leave: the smaller denominator.
        answered_late = replace(decided, answered_after=decided.answered_after + late)
        abandoned_late = replace(decided, abandoned_after=decided.abandoned_after + late)
        counted = min(
            service_level_fraction(outcomes=answered_late, terms=terms)[1],
            service_level_fraction(outcomes=abandoned_late, terms=terms)[1],
        )
    return round(100 * met / counted, 1) if counted else None


def average_speed_of_answer(*, contacts: QueueContacts) -> float | None:
    """ASA in seconds: the answered contacts' waits from enqueue to answer, over the answered contacts."""
    return round(contacts.answer_wait_seconds / contacts.answered, 1) if contacts.answered else None


@dataclass(frozen=True)
class PeriodFigures:
    """A queue's contacts since ``since``: queued, answered, abandoned (short abandons among them), service
    level under the queue's formula, ASA."""

    since: datetime
    queued: int
    answered: int
    abandoned: int
    short_abandoned: int
    service_level_percent: float | None
    average_speed_of_answer_seconds: float | None

    @classmethod
    def of(cls, contacts: QueueContacts, *, since: datetime, terms: ServiceLevelTerms) -> PeriodFigures:
        return cls(
            since=since,
            queued=contacts.queued,
            answered=contacts.answered,
            abandoned=contacts.abandoned,
            short_abandoned=contacts.short_abandoned,
            service_level_percent=service_level_percent(contacts=contacts, terms=terms),
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
    """One queue, now: what waits in it, and its contacts today and in the last 15 minutes.

    ``service_level_variant``: the queue's service-level formula in words (the KPI registry's), which
    both periods' service levels follow.
    """

    queue_id: int
    name: str
    label: str
    channel: str
    team_id: int | None
    team: str | None
    service_level_target_percent: int
    service_level_target_seconds: int
    service_level_variant: str
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

    @property
    def service_level_variants(self) -> list[tuple[str, list[str]]]:
        """Each service-level formula of the board's queues in words, with the labels of its queues, in order."""
        labels: dict[str, list[str]] = {}
        for queue in self.queues:
            labels.setdefault(queue.service_level_variant, []).append(queue.label)
        return list(labels.items())


def _queue_figures(
    queue: Queue,
    *,
    terms: ServiceLevelTerms,
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
        service_level_variant=terms.variant,
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
    figures = []
    for queue in queues:
        terms = ServiceLevelTerms.of(queue)
        today_contacts = today.get(queue.pk, QueueContacts(queue_id=queue.pk))
        recent_contacts = recent.get(queue.pk, QueueContacts(queue_id=queue.pk))
        figures.append(
            _queue_figures(
                queue,
                terms=terms,
                waiting=waiting.get(queue.pk, QueueWaiting(queue_id=queue.pk)),
                today=PeriodFigures.of(today_contacts, since=midnight, terms=terms),
                recent=PeriodFigures.of(recent_contacts, since=recent_start, terms=terms),
                agents=agents.get(queue.team_id, AgentStates()),
                now=now,
            )
        )
    return figures


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
