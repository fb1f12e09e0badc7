"""The router: work joins a queue, and each decision offers one waiting item to one free agent.

Decisions are safe with many workers at once. A decision locks the item it routes and the agent
it picks with ``SELECT … FOR UPDATE SKIP LOCKED``, so two workers never take the same item or the
same agent's last unit of capacity; a locked row is skipped, never waited for. ``load_units`` is
read and raised under the agent's lock, so no agent passes their capacity.

Two directions, one rule set:

- ``dispatch_queue`` (a new item, an offer that ended, the sweep): the queue's waiting items in
  rank order, each to the best free agent its current bullseye step allows;
- ``route_agent`` (an agent became free): the best waiting item, across the agent's queues,
  whose current step the agent matches.

Triggers run in Celery on commit (``kick_on_commit`` in ``routing/work.py``) and a periodic
sweep (``routing/sweep.py``) repeats them, so a lost trigger delays work by one sweep but never
strands it.

Blocking locks (accept, reject, transfer, presence, end of a conversation) are always taken in
the order conversation → work item → agent, so they cannot deadlock with one another.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from cea.common.sql import row_mapper
from engagement.context.models import ContextScope
from engagement.context.services import context_read
from engagement.conversations.models import Conversation
from engagement.routing.defaults import CHANNEL_UNITS, DEFAULT_UNITS
from engagement.routing.defaults import DEFAULT_QUEUE as DEFAULT_QUEUE_ROW
from engagement.routing.live import offer_payload, push_to_agent
from engagement.routing.models import (
    AgentProfile,
    AgentSelection,
    ChannelLoad,
    FlowOutReason,
    Offer,
    OfferStatus,
    Presence,
    Queue,
    QueueFlowOut,
    WorkItem,
    WorkStatus,
)
from engagement.routing.priority import effective_priority, priority_of, rank_of
from engagement.routing.rules import ANY_AGENT, Step, queue_steps, step_at, step_start
from engagement.routing.work import kick_on_commit

logger = logging.getLogger("engagement.routing")

DEFAULT_QUEUE, DEFAULT_QUEUE_LABEL = DEFAULT_QUEUE_ROW
# How many waiting items one dispatch looks at before it stops (items no free agent matches
# are passed over; the sweep comes back to them).
MAX_ATTEMPTS = 200


# --- Joining a queue --------------------------------------------------------------------------


def queue_for(name: str) -> Queue:
    """The active queue called ``name``, or the default queue (a contact is never dropped for a typo)."""
    queue = Queue.objects.filter(name=name, is_active=True).first() if name else None
    if queue is None:
        if name:
            logger.warning("No active queue %r: the work goes to %r.", name, DEFAULT_QUEUE)
        queue, _ = Queue.objects.get_or_create(name=DEFAULT_QUEUE, defaults={"label": DEFAULT_QUEUE_LABEL})
    return queue


def units_for(channel: str) -> int:
    units = ChannelLoad.objects.filter(channel=channel).values_list("units", flat=True).first()
    return units or CHANNEL_UNITS.get(channel, DEFAULT_UNITS)


def _context_values(conversation) -> dict:
    """The conversation's context, with the customer's ``priority_boost`` when the conversation has none.

    A boost on the customer's context (an engagement strategy's, until its TTL) raises every
    contact of that customer enqueued meanwhile; a boost set on the conversation itself wins.
    """
    try:
        values = context_read(scope=ContextScope.CONVERSATION, context_id=conversation.pk).values
        if conversation.customer_id is not None and "priority_boost" not in values:
            customer = context_read(scope=ContextScope.CUSTOMER, context_id=conversation.customer_id).values
            if "priority_boost" in customer:
                values = {**values, "priority_boost": customer["priority_boost"]}
        return values
    except Exception:
        logger.exception("Context of conversation %s unreadable for priority", conversation.pk)
        return {}


@transaction.atomic
def work_enqueue(
    *,
    conversation,
    queue_name: str = "",
    queue: Queue | None = None,
    target_agent: AgentProfile | None = None,
    transferred_from: WorkItem | None = None,
    note: str = "",
    now: datetime | None = None,
) -> WorkItem:
    """Put a conversation in a queue to wait for an agent; a conversation already waiting keeps its item.

    A new contact (not a transfer) of a thread an agent handled lately is targeted at that agent
    until ``target_until`` (``last_agent``); ``route_locked_item`` then hands it to the queue."""
    existing = (
        WorkItem.objects.filter(conversation=conversation, status__in=(WorkStatus.WAITING, WorkStatus.OFFERED))
        .select_related("queue")
        .first()
    )
    if existing is not None:
        return existing
    now = now or timezone.now()
    queue = queue or queue_for(queue_name or conversation.queue)
    priority, reasons = priority_of(
        base=queue.base_priority,
        customer=conversation.customer,
        verification_level=conversation.verification_level,
        context=_context_values(conversation),
    )
    # A transferred conversation's wait (for reporting) starts now; its ageing goes on from its
    # first wait, so a transfer does not send the customer to the back of the line.
    ageing_from = transferred_from.enqueued_at if transferred_from is not None else now
    target_until = None
    if target_agent is None and transferred_from is None:
        target_agent = last_agent(conversation=conversation, queue=queue, now=now)
        if target_agent is not None:
            target_until = now + timedelta(seconds=settings.CEA_PREFERRED_AGENT_SECONDS)
    item = WorkItem.objects.create(
        conversation=conversation,
        queue=queue,
        channel=conversation.channel,
        units=units_for(conversation.channel),
        priority=priority,
        priority_reasons=reasons,
        rank=rank_of(priority=priority, ageing_per_minute=queue.ageing_per_minute, enqueued_at=ageing_from),
        enqueued_at=now,
        entered_queue_at=now,
        target_agent=target_agent,
        target_until=target_until,
        transferred_from=transferred_from,
        note=note,
    )
    kick_on_commit(queue_ids=[queue.pk], agent_ids=[target_agent.pk] if target_agent else [])
    if target_until is not None:  # the queue's agents get it when the preference ends (the sweep too)
        kick_on_commit(queue_ids=[queue.pk], countdown=settings.CEA_PREFERRED_AGENT_SECONDS)
    return item


def last_agent(*, conversation, queue: Queue, now: datetime) -> AgentProfile | None:
    """The agent a new contact is offered first: the one who handled the previous conversation of
    its thread (external id ``<thread key>:<n>``, ``adapters.ingest.open_thread``: the same sender
    through the same source, the same app session, device …), begun within ``CEA_LAST_AGENT_HOURS``,
    if they may take the queue's work (of its team, when it has one). ``None`` for a first
    conversation, or with ``CEA_PREFERRED_AGENT_SECONDS`` 0. One read by the unique external id."""
    thread_key, _, number = conversation.external_id.rpartition(":")
    numbered = number.isascii() and number.isdigit()  # "²" is a digit to str.isdigit, not to int()
    if settings.CEA_PREFERRED_AGENT_SECONDS <= 0 or not thread_key or not numbered or int(number) < 2:
        return None
    agent_user_id = (
        Conversation.objects.filter(
            channel=conversation.channel,
            external_id=f"{thread_key}:{int(number) - 1}",
            agent__isnull=False,
            created_at__gte=now - timedelta(hours=settings.CEA_LAST_AGENT_HOURS),
        )
        .values_list("agent_id", flat=True)
        .first()
    )
    if agent_user_id is None:
        return None
    agents = AgentProfile.objects.filter(user_id=agent_user_id, user__is_active=True)
    if queue.team_id is not None:
        agents = agents.filter(user__teams=queue.team_id)
    return agents.first()


@transaction.atomic
def work_reprioritise(*, conversation) -> WorkItem | None:
    """Compute again the priority of the conversation's waiting item from its context now (a priority
    boost or a live sentiment written since it was enqueued); returns the item, or ``None`` if none waits.

    Its ageing is kept (the rank moves by the change of priority only), so it does not lose its place
    in time. Locks the item's row.
    """
    item = (
        WorkItem.objects.select_for_update(of=("self",))
        .select_related("queue")
        .filter(conversation=conversation, status=WorkStatus.WAITING)
        .first()
    )
    if item is None:
        return None
    priority, reasons = priority_of(
        base=item.queue.base_priority,
        customer=conversation.customer,
        verification_level=conversation.verification_level,
        context=_context_values(conversation),
    )
    if (priority, reasons) == (item.priority, item.priority_reasons):
        return item
    item.rank = item.rank + (priority - item.priority)
    item.priority, item.priority_reasons = priority, reasons
    item.save(update_fields=["priority", "priority_reasons", "rank"])
    kick_on_commit(queue_ids=[item.queue_id])
    return item


# --- Decisions --------------------------------------------------------------------------------


@dataclass
class Decision:
    """What one routing attempt did: offered (``offer``), moved to an overflow queue, or nothing."""

    offer: Offer | None = None
    overflowed_to: int | None = None


# A decision is three statements with fixed SQL (docs/performance.md, "Routing"): lock the best
# waiting item, lock the best free agent, then write the offer, the item and the agent's load in
# one statement. The ORM built and compiled each query anew on every decision, which cost more
# than the queries themselves.

_ITEM = row_mapper(WorkItem, "w")
_ITEM_WIDTH = len(_ITEM.attnames)
# The item with what its offer shows the agent (conversation and customer), skipping rows
# another worker holds. __HOPELESS__ is where a dispatch leaves out what no free agent can take.
_NEXT_WAITING_SQL = f"""
SELECT {_ITEM.columns}, c.channel, c.subject, c.verification_level, c.contact_value,
       cu.id, cu.given_name, cu.family_name
FROM engagement_workitem w
JOIN engagement_conversation c ON c.id = w.conversation_id
LEFT JOIN records_customer cu ON cu.id = c.customer_id
WHERE w.queue_id = %s AND w.status = 'waiting' AND NOT (w.id = ANY(%s))__HOPELESS__
ORDER BY w.rank DESC, w.id
LIMIT 1
FOR UPDATE OF w SKIP LOCKED
"""  # noqa: S608 - model columns and fixed fragments; values are parameters
_DECLINED_SQL = """
NOT EXISTS (
    SELECT 1 FROM engagement_offer o
    WHERE o.work_item_id = %(item)s AND o.agent_id = a.id AND o.status IN ('rejected', 'timed_out')
)"""
_OFFER_SQL = """
WITH offer AS (
    INSERT INTO engagement_offer (work_item_id, agent_id, status, offered_at, expires_at, ended_at, reason, step)
    VALUES (%(item)s, %(agent)s, 'pending', %(now)s, %(expires)s, NULL, '', %(step)s)
    RETURNING id
), item AS (
    UPDATE engagement_workitem SET status = 'offered', agent_id = %(agent)s, offered_at = %(now)s
    WHERE id = %(item)s
), agent AS (
    UPDATE engagement_agentprofile SET load_units = load_units + %(units)s, idle_since = %(now)s
    WHERE id = %(agent)s
)
SELECT id FROM offer
"""


@dataclass(frozen=True)
class OfferView:
    """What an offer shows the agent besides the item: read with the item, so no extra queries."""

    conversation_id: int
    channel: str
    subject: str
    verification_level: str
    customer_label: str
    queue_label: str

    @classmethod
    def of(cls, item: WorkItem) -> OfferView:
        """From an item fetched with ``select_related("conversation__customer", "queue")``."""
        conversation, customer = item.conversation, item.conversation.customer
        return cls(
            conversation_id=conversation.pk,
            channel=conversation.channel,
            subject=conversation.subject,
            verification_level=conversation.verification_level,
            customer_label=str(customer) if customer else (conversation.contact_value or "Visitor"),
            queue_label=item.queue.label or item.queue.name,
        )


def _pick_agent(*, item: WorkItem, queue: Queue, step: Step) -> tuple[int, int] | None:
    """``(agent id, user id)`` of the best agent who may be offered ``item`` now, locked (SKIP LOCKED)."""
    params: dict = {"units": item.units, "channel": item.channel, "item": item.pk}
    joins, where, order = "", "", "a.idle_since, a.id"
    if item.target_agent_id is not None:
        # A transfer to a named agent goes to them only, whatever the queue's rules say.
        where = " AND a.id = %(target)s"
        params["target"] = item.target_agent_id
    else:
        if queue.team_id is not None:
            joins += " JOIN accounts_user_teams ut ON ut.user_id = a.user_id AND ut.team_id = %(team)s"
            params["team"] = queue.team_id
        if step.skill_id is not None:
            joins += (
                " JOIN engagement_agentskill s ON s.agent_id = a.id"
                " AND s.skill_id = %(skill)s AND s.proficiency >= %(proficiency)s"
            )
            params.update(skill=step.skill_id, proficiency=step.min_proficiency)
            if queue.selection == AgentSelection.BEST_PROFICIENCY:
                order = "s.proficiency DESC, a.idle_since, a.id"
    sql = f"""
SELECT a.id, a.user_id
FROM engagement_agentprofile a JOIN accounts_user u ON u.id = a.user_id{joins}
WHERE a.presence = 'available' AND u.is_active AND a.load_units <= a.capacity_units - %(units)s
  AND (a.channels = '{{}}' OR a.channels @> ARRAY[%(channel)s]::varchar(20)[]){where}
  AND {_DECLINED_SQL}
ORDER BY {order}
LIMIT 1
FOR UPDATE OF a SKIP LOCKED"""  # noqa: S608 - fixed fragments; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def _offer(
    *, item: WorkItem, agent_id: int, user_id: int, queue: Queue, step_index: int, now: datetime, view: OfferView
) -> Offer:
    """Reserve ``item`` for the agent; both rows are locked by the caller. One statement writes all three."""
    expires_at = now + timedelta(seconds=queue.offer_timeout_seconds)
    with connection.cursor() as cursor:
        cursor.execute(
            _OFFER_SQL,
            {
                "item": item.pk,
                "agent": agent_id,
                "now": now,
                "expires": expires_at,
                "step": step_index,
                "units": item.units,
            },
        )
        offer_id = cursor.fetchone()[0]
    item.status, item.agent_id, item.offered_at = WorkStatus.OFFERED, agent_id, now
    offer = Offer.from_db(
        connection.alias,
        ["id", "work_item_id", "agent_id", "status", "offered_at", "expires_at", "ended_at", "reason", "step"],
        [offer_id, item.pk, agent_id, OfferStatus.PENDING, now, expires_at, None, "", step_index],
    )
    offer.work_item = item
    payload = offer_payload(
        offer_id=offer_id,
        item=item,
        conversation_id=view.conversation_id,
        channel=view.channel,
        queue_label=view.queue_label,
        customer_label=view.customer_label,
        subject=view.subject,
        verification_level=view.verification_level,
        offered_at=now,
        expires_at=expires_at,
    )
    push_to_agent(user_id, {"type": "offer.new", "offer": payload})
    return offer


def work_queue_change(*, item: WorkItem, queue: Queue, now: datetime, reason: str) -> None:
    """Move waiting work (locked by the caller) to ``queue``: its rules start afresh, its ageing goes on.

    The move is recorded as a flow-out of the queue it leaves (``QueueFlowOut``, ``reason`` one of
    ``FlowOutReason``): the contact left it unanswered.
    """
    QueueFlowOut.objects.create(
        work_item=item,
        conversation_id=item.conversation_id,
        from_queue_id=item.queue_id,
        to_queue=queue,
        entered_queue_at=item.entered_queue_at,
        flowed_out_at=now,
        reason=reason,
    )
    item.queue = queue
    item.entered_queue_at = now
    item.rank = rank_of(priority=item.priority, ageing_per_minute=queue.ageing_per_minute, enqueued_at=item.enqueued_at)
    item.save(update_fields=["queue", "entered_queue_at", "rank"])
    kick_on_commit(queue_ids=[queue.pk])


def _overflow(*, item: WorkItem, target_id: int, now: datetime) -> Decision:
    target = Queue.objects.get(pk=target_id)
    work_queue_change(item=item, queue=target, now=now, reason=FlowOutReason.OVERFLOW)
    return Decision(overflowed_to=target.pk)


def _target_can_take(item: WorkItem) -> bool:
    """Whether the agent an item was transferred to by name could ever be offered it as things are.

    Away, offline, deactivated, without the item's channel or with too small a capacity: the item
    would wait for them for ever, so it falls back to its queue's rules instead.
    """
    return (
        AgentProfile.objects.filter(pk=item.target_agent_id, user__is_active=True, capacity_units__gte=item.units)
        .exclude(presence__in=(Presence.AWAY, Presence.OFFLINE))
        .filter(Q(channels=[]) | Q(channels__contains=[item.channel]))
        .exists()
    )


def route_locked_item(
    *, item: WorkItem, queue: Queue, steps: list[Step], now: datetime, view: OfferView | None = None
) -> Decision:
    """One decision for an item the caller has locked: offer it, overflow it, or leave it waiting.

    A preferred agent's time (``target_until``) over, or a target who could not take it, the item
    falls back to its queue's rules."""
    if item.target_agent_id is not None and (
        (item.target_until is not None and now >= item.target_until) or not _target_can_take(item)
    ):
        item.target_agent = None
        item.target_until = None
        item.save(update_fields=["target_agent", "target_until"])
    age = (now - item.entered_queue_at).total_seconds()
    # A transfer to a named agent skips the queue's rules: it is for them.
    index, step = step_at(steps, age) if item.target_agent_id is None else (0, ANY_AGENT)
    if step.overflows:
        return _overflow(item=item, target_id=step.overflow_to_id, now=now)
    agent = _pick_agent(item=item, queue=queue, step=step)
    if agent is None:
        return Decision()
    agent_id, user_id = agent
    view = view or OfferView.of(WorkItem.objects.select_related("conversation__customer", "queue").get(pk=item.pk))
    return Decision(
        offer=_offer(item=item, agent_id=agent_id, user_id=user_id, queue=queue, step_index=index, now=now, view=view)
    )


def _lock_next_waiting(
    queue: Queue, passed_over: list[int], hopeless: tuple[str, list]
) -> tuple[WorkItem, OfferView] | None:
    hopeless_sql, hopeless_params = hopeless
    with connection.cursor() as cursor:
        cursor.execute(
            _NEXT_WAITING_SQL.replace("__HOPELESS__", hopeless_sql), [queue.pk, passed_over, *hopeless_params]
        )
        row = cursor.fetchone()
    return None if row is None else _item_and_view(row, queue)


def _item_and_view(row, queue: Queue) -> tuple[WorkItem, OfferView]:
    """A row of ``_NEXT_WAITING_SQL``: the item, and what its offer shows the agent."""
    item = _ITEM.instance(row[:_ITEM_WIDTH])
    channel, subject, level, contact, customer_id, given, family = row[_ITEM_WIDTH:]
    name = " ".join(part for part in (given, family) if part)
    customer_label = (name or f"Customer {customer_id}") if customer_id is not None else (contact or "Visitor")
    view = OfferView(
        conversation_id=item.conversation_id,
        channel=channel,
        subject=subject,
        verification_level=level,
        customer_label=customer_label,
        queue_label=queue.label or queue.name,
    )
    return item, view


# What an item asks of an agent when it has no transfer target and no agent has declined it: its
# channel, its units and the bullseye step holding. Within one dispatch, once no free agent meets
# such a requirement, no later item with the same one is looked at (agents only fill up as the
# dispatch goes on; an agent freed meanwhile asks for work themself).
Requirement = tuple[str, int, int]


def _step_ages(steps: list[Step], index: int) -> tuple[int, int | None]:
    """The ages ``[start, end)`` at which step ``index`` holds (the last one for ever after its start)."""
    if not steps:
        return 0, None
    end = None if index == len(steps) - 1 else steps[index].until_seconds
    return step_start(steps, index), end


def _hopeless_sql(hopeless: set[Requirement], steps: list[Step], now: datetime) -> tuple[str, list]:
    """SQL leaving out the waiting items whose requirement no free agent met earlier in this dispatch."""
    parts, params = [], []
    for channel, units, index in sorted(hopeless):
        start, end = _step_ages(steps, index)
        part = "w.target_agent_id IS NULL AND w.channel = %s AND w.units = %s AND w.entered_queue_at <= %s"
        params += [channel, units, now - timedelta(seconds=start)]
        if end is not None:
            part += " AND w.entered_queue_at > %s"
            params.append(now - timedelta(seconds=end))
        parts.append(f"({part})")
    return (f" AND NOT ({' OR '.join(parts)})", params) if parts else ("", [])


def _requirement(item: WorkItem, steps: list[Step], now: datetime) -> Requirement | None:
    """``item``'s requirement if it depends on nothing but channel, units and step; ``None`` otherwise."""
    if item.target_agent_id is not None:
        return None
    if Offer.objects.filter(work_item=item, status__in=(OfferStatus.REJECTED, OfferStatus.TIMED_OUT)).exists():
        return None
    index = step_at(steps, (now - item.entered_queue_at).total_seconds())[0]
    return item.channel, item.units, index


def route_next(
    *,
    queue: Queue,
    steps: list[Step] | None = None,
    passed_over: list[int] | None = None,
    hopeless: set[Requirement] | None = None,
) -> Decision | None:
    """Lock the queue's best waiting item not passed over and decide it; ``None`` when none is left.

    ``passed_over`` and ``hopeless`` carry what one dispatch learnt from one decision to the next:
    the items left waiting, and the requirements no free agent met.
    """
    steps = queue_steps(queue) if steps is None else steps
    passed_over = [] if passed_over is None else passed_over
    with transaction.atomic():
        now = timezone.now()
        locked = _lock_next_waiting(queue, passed_over, _hopeless_sql(hopeless or set(), steps, now))
        if locked is None:
            return None
        item, view = locked
        decision = route_locked_item(item=item, queue=queue, steps=steps, now=now, view=view)
        if decision.offer is None and decision.overflowed_to is None:
            passed_over.append(item.pk)
            if hopeless is not None and (requirement := _requirement(item, steps, now)) is not None:
                hopeless.add(requirement)
        return decision


def _any_free_agent(queue: Queue) -> bool:
    agents = AgentProfile.objects.filter(
        presence=Presence.AVAILABLE, user__is_active=True, load_units__lt=F("capacity_units")
    )
    if queue.team_id is not None:
        agents = agents.filter(user__teams=queue.team_id)
    return agents.exists()


def dispatch_queue(queue_id: int, *, max_attempts: int = MAX_ATTEMPTS) -> int:
    """Route the queue's waiting work, best first, until no free agent matches; returns the offers made."""
    queue = Queue.objects.filter(pk=queue_id).first()
    if queue is None:
        return 0
    steps = queue_steps(queue)
    passed_over: list[int] = []
    hopeless: set[Requirement] = set()
    offers = 0
    has_targeted = WorkItem.objects.filter(
        queue_id=queue_id, status=WorkStatus.WAITING, target_agent__isnull=False
    ).exists()
    if not has_targeted and not _any_free_agent(queue):
        return 0
    for _ in range(max_attempts):
        decision = route_next(queue=queue, steps=steps, passed_over=passed_over, hopeless=hopeless)
        if decision is None:
            break
        if decision.offer is not None:
            offers += 1
    return offers


def _matching_ages(steps: list[Step], agent_skills: dict[int, int]) -> list[tuple[int, int | None]]:
    """The item ages (in seconds, ``[start, end)``) at which the queue's rules let this agent in."""
    if not steps:
        return [(0, None)]
    ages = []
    for index, step in enumerate(steps):
        if step.overflows:
            continue
        if step.skill_id is None or agent_skills.get(step.skill_id, 0) >= step.min_proficiency:
            ages.append((step_start(steps, index), step.until_seconds))
    if ages and steps[-1].until_seconds is not None and not steps[-1].overflows:
        # The last step keeps holding after its limit.
        start, _ = ages[-1]
        if ages[-1][1] == steps[-1].until_seconds:
            ages[-1] = (start, None)
    return ages


def _step_index(steps: list[Step], item: WorkItem, now: datetime) -> int:
    return step_at(steps, (now - item.entered_queue_at).total_seconds())[0]


_AGENT = row_mapper(AgentProfile, "a")
_FREE_AGENT_SQL = f"""
SELECT {_AGENT.columns}
FROM engagement_agentprofile a JOIN accounts_user u ON u.id = a.user_id
WHERE a.id = %s AND a.presence = 'available' AND u.is_active
FOR UPDATE OF a SKIP LOCKED
"""  # noqa: S608 - model columns
# The item as it was seen, still waiting where it was: another worker may have overflowed it to a
# queue this agent does not serve, or dropped its transfer target, between the look and the lock.
_SEEN_ITEM_SQL = _NEXT_WAITING_SQL.replace(
    "WHERE w.queue_id = %s AND w.status = 'waiting' AND NOT (w.id = ANY(%s))__HOPELESS__",
    "WHERE w.id = %s AND w.queue_id = %s AND w.status = 'waiting' AND w.entered_queue_at = %s"
    " AND w.target_agent_id IS NOT DISTINCT FROM %s",
)
_QUEUE = row_mapper(Queue, "q")
_QUEUES_SQL = f"""
SELECT {_QUEUE.columns}, s.id, s.position, s.until_seconds, s.skill_id, s.min_proficiency, s.overflow_to_id
FROM engagement_queue q LEFT JOIN engagement_routingstep s ON s.queue_id = q.id
WHERE q.is_active
ORDER BY q.id, s.position, s.id
"""  # noqa: S608 - model columns
_QUEUE_WIDTH = len(_QUEUE.attnames)


# The best item of each kind an agent may get: transferred to them by name, or in one queue at
# the ages the queue's rules let them in; all asked in one statement (UNION ALL).
_BEST_TARGETED_SQL = f"""(
SELECT {_ITEM.columns} FROM engagement_workitem w
WHERE w.target_agent_id = %s AND __COMMON__
ORDER BY w.rank DESC, w.id LIMIT 1)"""  # noqa: S608 - model columns and fixed fragments
_BEST_IN_QUEUE_SQL = f"""(
SELECT {_ITEM.columns} FROM engagement_workitem w
WHERE w.queue_id = %s AND w.target_agent_id IS NULL AND __COMMON__ AND (__AGES__)
ORDER BY w.rank DESC, w.id LIMIT 1)"""  # noqa: S608 - model columns and fixed fragments


def _active_queues() -> list[tuple[Queue, list[Step]]]:
    """Every active queue with its steps, in one statement."""
    queues: dict[int, tuple[Queue, list[Step]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(_QUEUES_SQL)
        rows = cursor.fetchall()
    for row in rows:
        queue_id = row[0]
        if queue_id not in queues:
            queues[queue_id] = (_QUEUE.instance(row[:_QUEUE_WIDTH]), [])
        step_id, position, until, skill_id, proficiency, overflow_to_id = row[_QUEUE_WIDTH:]
        if step_id is not None:
            queues[queue_id][1].append(Step(position, until, skill_id, proficiency, overflow_to_id))
    return list(queues.values())


def route_agent(agent_id: int) -> Offer | None:
    """Offer a free agent the best waiting item they match, across their queues (one decision)."""
    tried: list[int] = []
    for _ in range(3):  # the chosen item may be taken by another worker between look and lock
        with transaction.atomic():
            now = timezone.now()
            with connection.cursor() as cursor:
                cursor.execute(_FREE_AGENT_SQL, [agent_id])
                row = cursor.fetchone()
            agent = _AGENT.instance(row) if row else None
            if agent is None or agent.load_units >= agent.capacity_units:
                return None
            candidate = _best_item_for(agent, now, passed_over=tried)
            if candidate is None:
                return None
            item, queue, steps = candidate
            with connection.cursor() as cursor:
                cursor.execute(_SEEN_ITEM_SQL, [item.pk, item.queue_id, item.entered_queue_at, item.target_agent_id])
                row = cursor.fetchone()
            if row is None:
                tried.append(item.pk)
                continue
            locked, view = _item_and_view(row, queue)
            index = 0 if locked.target_agent_id else _step_index(steps, locked, now)
            return _offer(
                item=locked,
                agent_id=agent.pk,
                user_id=agent.user_id,
                queue=queue,
                step_index=index,
                now=now,
                view=view,
            )
    return None


def _agent_reach(agent: AgentProfile) -> tuple[dict[int, int], set[int]]:
    """The agent's skills (``skill id → proficiency``) and teams."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT skill_id, proficiency FROM engagement_agentskill WHERE agent_id = %s", [agent.pk])
        skills = dict(cursor.fetchall())
        cursor.execute("SELECT team_id FROM accounts_user_teams WHERE user_id = %s", [agent.user_id])
        team_ids = {team_id for (team_id,) in cursor.fetchall()}
    return skills, team_ids


def _waiting_for_sql(agent: AgentProfile, passed_over: Sequence[int]) -> tuple[str, list]:
    """SQL (``__COMMON__``) for the waiting items this agent could take: fits, not declined, a channel of theirs."""
    sql = (
        "w.status = 'waiting' AND w.units <= %s AND NOT (w.id = ANY(%s))"
        " AND NOT EXISTS (SELECT 1 FROM engagement_offer o WHERE o.work_item_id = w.id AND o.agent_id = %s"
        " AND o.status IN ('rejected', 'timed_out'))"
    )
    params: list = [agent.capacity_units - agent.load_units, list(passed_over), agent.pk]
    if agent.channels:
        sql += " AND w.channel = ANY(%s)"
        params.append(list(agent.channels))
    return sql, params


def _ages_sql(ages: list[tuple[int, int | None]], now: datetime) -> tuple[str, list]:
    """SQL (``__AGES__``) for items whose age is in one of ``ages``."""
    parts, params = [], []
    for start, end in ages:
        parts.append("(w.entered_queue_at <= %s" + (")" if end is None else " AND w.entered_queue_at > %s)"))
        params.append(now - timedelta(seconds=start))
        if end is not None:
            params.append(now - timedelta(seconds=end))
    return " OR ".join(parts), params


def _queues_served_by(agent: AgentProfile) -> list[tuple[Queue, list[Step], list[tuple[int, int | None]]]]:
    """Each active queue the agent may take work from, its rules, and the item ages at which they may."""
    skills, team_ids = _agent_reach(agent)
    served = []
    for queue, steps in _active_queues():
        if queue.team_id is not None and queue.team_id not in team_ids:
            continue
        if agent.channels and queue.channel and queue.channel not in agent.channels:
            continue
        ages = _matching_ages(steps, skills)
        if ages:
            served.append((queue, steps, ages))
    return served


def _best_item_for(
    agent: AgentProfile, now: datetime, *, passed_over: Sequence[int] = ()
) -> tuple[WorkItem, Queue, list[Step]] | None:
    """The waiting item this agent should get next, with its queue and rules (not locked).

    A transfer to the agent by name comes first; otherwise, of each queue the agent serves, the
    best item whose current step the agent matches, and of those the highest priority now.
    One statement asks every queue at once.
    """
    common, common_params = _waiting_for_sql(agent, passed_over)
    parts = [_BEST_TARGETED_SQL.replace("__COMMON__", common)]
    params: list = [agent.pk, *common_params]
    eligible: dict[int, tuple[Queue, list[Step]]] = {}
    for queue, steps, ages in _queues_served_by(agent):
        eligible[queue.pk] = (queue, steps)
        age_sql, age_params = _ages_sql(ages, now)
        parts.append(_BEST_IN_QUEUE_SQL.replace("__COMMON__", common).replace("__AGES__", age_sql))
        params += [queue.pk, *common_params, *age_params]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        items = [_ITEM.instance(row) for row in cursor.fetchall()]
    targeted = [item for item in items if item.target_agent_id == agent.pk]
    if targeted:
        item = targeted[0]
        queue = Queue.objects.get(pk=item.queue_id)
        return item, queue, queue_steps(queue)
    best: tuple[float, WorkItem, Queue, list[Step]] | None = None
    for item in items:
        queue, steps = eligible[item.queue_id]
        score = effective_priority(rank=item.rank, ageing_per_minute=queue.ageing_per_minute, now=now)
        if best is None or score > best[0]:
            best = (score, item, queue, steps)
    return None if best is None else best[1:]
