"""Routing (issue 4): decision latency and assignments/s at 1,000 agents and 10,000 waiting items;
a chat message from the visitor's websocket to the agent's. Each against a floor of the same run.

    DATABASE_URL=… REDIS_URL=… SECRET_KEY=… .venv/bin/python bench/routing.py [--agents 1000] [--items 10000]
        [--runs 2] [--floor-claims 2000] [--agent-decisions 1500] [--messages 400] [--skip-routing] [--skip-ws]
        [--explain] [--reseed] [--force]

Part 1, the router (``engagement.routing.engine``), on --agents agents (all available; 75 % chat
only, most with capacity 4, some 2 or 3; 15 % voice only; 10 % blended; one to three skills
each at proficiency 1–5; half of them in the sales team) and --items waiting work items (85 %
chat, 15 % voice) in four queues with bullseye steps (skill at a high proficiency first, then
lower, then any agent; the sales queue is its team's only; items have waited 0–10 minutes):

- ``route_next`` decisions, queue after queue (as ``dispatch_queue`` does), until every queue
  has no waiting item left or 20 decisions in a row without an offer (agents full): p50/p99 of
  the decisions that made an offer, of those that did not, and offers/s over the whole run;
- ``route_agent`` (an agent became free): agents in idle order, round after round, until none
  gets an offer or --agent-decisions calls were made;
- the floor: the raw claim ``SELECT id … WHERE queue_id = %s AND status = 'waiting' ORDER BY
  rank DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED`` and the ``UPDATE`` that marks the row offered,
  in their own transaction, with psycopg2 on the same tables (--floor-claims claims a run);
- the same with 2 worker processes at once (route_next loops; raw claims), offers/s over the
  wall time of both, then a check of the database: no item offered twice, no agent over
  capacity, every agent's ``load_units`` equal to the units of the work they hold.

Between runs the data is reset with SQL (offers deleted, items waiting again with the same
ages, agents empty) and ``VACUUM ANALYZE``d. Engine and floor runs alternate which goes first.

Part 2, live chat: a uvicorn process (1 worker) is started; --messages / 8 web chat visitors
connect to ``ws/webchat/`` with a site key, each with an active conversation of one agent, whose
desktop subscribes on ``ws/context/`` (session cookie) to ``conversation_messages`` of each. One
message at a time, round robin over visitors: the time from sending the visitor's frame to the
``conversation.message`` frame on the agent's socket, p50/p99. Floors, same run: a channel-layer
round trip (``group_send`` to a group of one channel, ``receive`` on it) and a raw Redis
PUBLISH → SUBSCRIBE round trip from this process; for reference, a ``ping``/``pong`` frame on the
visitor's socket (the server without database or channel layer).

Writes many rows: refuses a database whose name lacks "bench" unless --force. The data
(users, agents and items prefixed ``rbench``) is made with bulk_create on the first run and
reused. Target (issue 4): p99 under 10 ms per routing decision.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: bench/ is sys.path[0], where bench/records.py would shadow the ``records`` app.
    _root = Path(__file__).resolve().parent.parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _root / "bench"]
    sys.path.insert(0, str(_root))

from bench.common import (
    PYTHON,
    ROOT,
    Server,
    Socket,
    Timings,
    free_port,
    guard_database,
    machine,
    server_commands,
    setup_django,
    verdict,
)

PREFIX = "rbench"
TARGET_P99_MS = 10.0
MAX_MISSES_IN_A_ROW = 20
MESSAGES_PER_VISITOR = 8  # the widget's message budget is a burst of 10 (engagement/webchat/consumers.py)
SUBSCRIPTIONS_PER_SOCKET = 25  # the desktop's frame budget is a burst of 40
VISITOR_ORIGIN = "http://rbench.invalid"
SKILLS = ["billing", "tech", "sales", "spanish", "voice"]
# name, channel, selection, team only, steps as (skill, min proficiency, until seconds), % of its channel's items
QUEUES = [
    ("chat-billing", "chat", "best_proficiency", False, [("billing", 4, 30), ("billing", 2, 120), (None, 1, None)], 40),
    ("chat-tech", "chat", "longest_idle", False, [("tech", 3, 60), ("tech", 1, 300), (None, 1, None)], 35),
    ("chat-sales", "chat", "longest_idle", True, [("sales", 3, 60), (None, 1, None)], 25),
    ("voice-support", "voice", "best_proficiency", False, [("voice", 3, 45), ("voice", 1, None)], 100),
]  # fmt: skip
# Every reset gives an item the same age in its queue (0–599 s) and an agent the same idle time.
ITEM_AGE_SQL = "mod(w.id * 7919, 600) * interval '1 second'"
AGENT_IDLE_SQL = "mod(a.id * 31, 3600) * interval '1 second'"

SEEDED_TABLES = (
    "accounts_user",
    "accounts_user_teams",
    "accounts_team",
    "engagement_skill",
    "engagement_agentskill",
    "engagement_agentprofile",
    "engagement_queue",
    "engagement_routingstep",
    "engagement_conversation",
    "engagement_workitem",
)

EXPLAIN = "EXPLAIN (ANALYZE, BUFFERS) "
WRITES_AND_READS = ("SELECT", "INSERT", "UPDATE")

CLAIM_SQL = (
    "SELECT id FROM engagement_workitem WHERE queue_id = %s AND status = 'waiting'"
    " ORDER BY rank DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED"
)
CLAIM_UPDATE_SQL = "UPDATE engagement_workitem SET status = 'offered', agent_id = %s, offered_at = now() WHERE id = %s"


# --- Data ------------------------------------------------------------------------------------


def bench_ids() -> tuple[list[int], list[int]]:
    """The bench queues' ids (in QUEUES order) and the bench agents' profile ids (idle order)."""
    from engagement.routing.models import AgentProfile, Queue

    by_name = dict(Queue.objects.filter(name__startswith=f"{PREFIX}-").values_list("name", "pk"))
    queue_ids = [by_name[f"{PREFIX}-{name}"] for name, *_ in QUEUES if f"{PREFIX}-{name}" in by_name]
    agent_ids = list(
        AgentProfile.objects.filter(user__username__startswith=f"{PREFIX}-agent-")
        .order_by("idle_since", "pk")
        .values_list("pk", flat=True)
    )
    return queue_ids, agent_ids


def wipe() -> None:
    """Remove the routing data of an earlier run of this bench (not the web chat part)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM engagement_offer o USING engagement_queue q, engagement_workitem w"
            " WHERE o.work_item_id = w.id AND w.queue_id = q.id AND q.name LIKE %s",
            [f"{PREFIX}-%"],
        )
        cursor.execute(
            "DELETE FROM engagement_workitem w USING engagement_queue q WHERE w.queue_id = q.id AND q.name LIKE %s",
            [f"{PREFIX}-%"],
        )
        cursor.execute("DELETE FROM engagement_conversation WHERE external_id LIKE %s", [f"{PREFIX}:%"])
        cursor.execute(
            "DELETE FROM engagement_routingstep s USING engagement_queue q WHERE s.queue_id = q.id AND q.name LIKE %s",
            [f"{PREFIX}-%"],
        )
        cursor.execute("DELETE FROM engagement_queue WHERE name LIKE %s", [f"{PREFIX}-%"])
        users = "SELECT id FROM accounts_user WHERE username LIKE %s"
        agents = f"SELECT id FROM engagement_agentprofile WHERE user_id IN ({users})"
        for table in ("engagement_agentskill", "engagement_presencechange", "engagement_offer"):
            cursor.execute(f"DELETE FROM {table} WHERE agent_id IN ({agents})", [f"{PREFIX}-agent-%"])
        cursor.execute(f"DELETE FROM engagement_agentprofile WHERE user_id IN ({users})", [f"{PREFIX}-agent-%"])
        cursor.execute(
            "DELETE FROM accounts_user_teams WHERE user_id IN (SELECT id FROM accounts_user WHERE username LIKE %s)",
            [f"{PREFIX}-agent-%"],
        )
        cursor.execute("DELETE FROM accounts_user WHERE username LIKE %s", [f"{PREFIX}-agent-%"])


def seed(*, agents: int, items: int) -> None:
    """Agents, skills, queues with bullseye steps and waiting items, with bulk_create (a few seconds)."""
    from django.db import transaction
    from django.utils import timezone

    from cea.accounts.models import Team, User
    from engagement.conversations.models import Conversation, ConversationStatus
    from engagement.routing.models import (
        AgentProfile,
        AgentSkill,
        ChannelLoad,
        Presence,
        Queue,
        RoutingStep,
        Skill,
        WorkItem,
        WorkStatus,
    )

    rng = random.Random(4)
    now = timezone.now()
    with transaction.atomic():
        wipe()
        skills = {}
        for name in SKILLS:
            skills[name], _ = Skill.objects.get_or_create(name=f"{PREFIX}-{name}")
        team, _ = Team.objects.get_or_create(name=f"{PREFIX}-sales")
        queues = []
        for name, channel, selection, team_only, steps, _share in QUEUES:
            queue = Queue.objects.create(
                name=f"{PREFIX}-{name}",
                label=name,
                channel=channel,
                selection=selection,
                team=team if team_only else None,
                offer_timeout_seconds=3600,  # nobody answers here: no offer may time out mid-run
            )
            RoutingStep.objects.bulk_create(
                RoutingStep(
                    queue=queue,
                    position=position,
                    skill=skills[skill] if skill else None,
                    min_proficiency=proficiency,
                    until_seconds=until,
                )
                for position, (skill, proficiency, until) in enumerate(steps)
            )
            queues.append(queue)

        users = User.objects.bulk_create(
            User(username=f"{PREFIX}-agent-{number:05d}", password="!bench-no-login", role="agent")
            for number in range(agents)
        )
        User.teams.through.objects.bulk_create(
            User.teams.through(user_id=user.pk, team_id=team.pk) for user in users if rng.random() < 0.5
        )
        profiles, wanted_skills = [], []
        for number, user in enumerate(users):
            kind = number % 20
            if kind < 3:  # voice only: one call fills them
                channels, capacity, names = ["voice"], 4, ["voice", rng.choice(["billing", "tech", "spanish"])]
            elif kind < 5:  # blended: a call or four chats
                channels, capacity, names = [], 4, ["voice", rng.choice(["billing", "tech", "sales"])]
            else:  # chat
                channels = ["chat"]
                capacity = 4 if rng.random() < 0.85 else rng.choice([2, 3])
                names = rng.sample(["billing", "tech", "sales", "spanish"], rng.randint(1, 3))
            profiles.append(
                AgentProfile(
                    user=user,
                    channels=channels,
                    capacity_units=capacity,
                    presence=Presence.AVAILABLE,
                    presence_since=now,
                    idle_since=now,
                    connections=1,
                    last_seen_at=now,
                )
            )
            wanted_skills.append(names)
        profiles = AgentProfile.objects.bulk_create(profiles)
        AgentSkill.objects.bulk_create(
            AgentSkill(agent=profile, skill=skills[name], proficiency=rng.randint(1, 5))
            for profile, names in zip(profiles, wanted_skills, strict=True)
            for name in names
        )

        units = dict(ChannelLoad.objects.values_list("channel", "units"))
        chat_queues = [(queue, spec[5]) for queue, spec in zip(queues, QUEUES, strict=True) if spec[1] == "chat"]
        voice_queue = queues[-1]
        plan = []
        for number in range(items):
            if number % 100 < 15:
                queue = voice_queue
            else:
                queue = rng.choices([q for q, _ in chat_queues], weights=[w for _, w in chat_queues])[0]
            plan.append((queue, rng.choice([0, 0, 0, 5, 10, 25, 40])))
        conversations = Conversation.objects.bulk_create(
            Conversation(
                channel=queue.channel,
                external_id=f"{PREFIX}:{number}",
                status=ConversationStatus.QUEUED,
                queue=queue.name,
                team=queue.team,
                subject=f"bench {number}",
                escalated_at=now,
            )
            for number, (queue, _priority) in enumerate(plan)
        )
        WorkItem.objects.bulk_create(
            WorkItem(
                conversation=conversation,
                queue=queue,
                channel=queue.channel,
                units=units.get(queue.channel, 1),
                status=WorkStatus.WAITING,
                priority=priority,
                enqueued_at=now,
                entered_queue_at=now,
            )
            for conversation, (queue, priority) in zip(conversations, plan, strict=True)
        )


def prepare(*, agents: int, items: int, reseed: bool) -> tuple[list[int], list[int]]:
    from engagement.routing.models import WorkItem

    queue_ids, agent_ids = bench_ids()
    have = WorkItem.objects.filter(queue_id__in=queue_ids).count() if len(queue_ids) == len(QUEUES) else -1
    if reseed or len(agent_ids) != agents or have != items:
        started = time.perf_counter()
        seed(agents=agents, items=items)
        queue_ids, _ = bench_ids()
        reset(queue_ids)
        queue_ids, agent_ids = bench_ids()
        print(f"seeded {agents:,} agents and {items:,} waiting items in {time.perf_counter() - started:.1f} s")
    else:
        print(f"reusing {len(agent_ids):,} agents and {have:,} items (--reseed to make them again)")
    analyze_tables()
    return queue_ids, agent_ids


def analyze_tables() -> None:
    """Statistics for the tables just loaded, as autovacuum would gather (without them the planner
    takes accounts_user for ~30 rows and joins agents to users by a nested loop over all of them)."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in SEEDED_TABLES:
            cursor.execute(f"ANALYZE {table}")


def raw_connection():
    """psycopg with Django's connection parameters, autocommit (each statement, or an explicit BEGIN)."""
    import psycopg
    from django.db import connection

    params = connection.get_connection_params()
    params["cursor_factory"] = psycopg.ClientCursor  # client-side binding, as Django's
    raw = psycopg.connect(**params)
    raw.autocommit = True
    return raw


def reset(queue_ids: list[int]) -> float:
    """Every bench item waiting again (same ages, fresh rank), offers gone, agents empty; vacuumed. Seconds."""
    started = time.perf_counter()
    raw = raw_connection()
    try:
        with raw.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(
                "DELETE FROM engagement_offer o USING engagement_workitem w"
                " WHERE o.work_item_id = w.id AND w.queue_id = ANY(%s)",
                [queue_ids],
            )
            cursor.execute(
                f"UPDATE engagement_workitem w SET status = 'waiting', agent_id = NULL, offered_at = NULL,"
                f" target_agent_id = NULL, entered_queue_at = now() - {ITEM_AGE_SQL},"
                f" enqueued_at = now() - {ITEM_AGE_SQL},"
                f" rank = w.priority - q.ageing_per_minute * extract(epoch FROM now() - {ITEM_AGE_SQL}) / 60.0"
                " FROM engagement_queue q WHERE q.id = w.queue_id AND w.queue_id = ANY(%s)",
                [queue_ids],
            )
            cursor.execute(
                f"UPDATE engagement_agentprofile a SET load_units = 0, presence = 'available',"
                f" reason_id = NULL, idle_since = now() - {AGENT_IDLE_SQL}"
                " FROM accounts_user u WHERE u.id = a.user_id AND u.username LIKE %s",
                [f"{PREFIX}-agent-%"],
            )
            cursor.execute("COMMIT")
            for table in ("engagement_workitem", "engagement_offer", "engagement_agentprofile"):
                cursor.execute(f"VACUUM ANALYZE {table}")
    finally:
        raw.close()
    return time.perf_counter() - started


# --- Part 1: decisions -----------------------------------------------------------------------


def engine_run(queue_ids: list[int], *, offset: int = 0, limit: int | None = None) -> dict:
    """``route_next`` queue after queue until the queues are empty or no agent takes their work."""
    from engagement.routing import engine
    from engagement.routing.models import Queue

    queues = {queue.pk: queue for queue in Queue.objects.filter(pk__in=queue_ids)}
    state = [(queues[pk], engine.queue_steps(queues[pk]), []) for pk in queue_ids]
    state = state[offset % len(state) :] + state[: offset % len(state)]
    active = list(range(len(state)))
    in_a_row = [0] * len(state)
    offered, missed = [], []
    started = time.perf_counter()
    while active and (limit is None or len(offered) < limit):
        for index in list(active):
            queue, steps, passed_over = state[index]
            before = time.perf_counter_ns()
            decision = engine.route_next(queue=queue, steps=steps, passed_over=passed_over)
            took = time.perf_counter_ns() - before
            if decision is None:
                active.remove(index)
            elif decision.offer is not None or decision.overflowed_to is not None:
                offered.append(took)
                in_a_row[index] = 0
            else:
                missed.append(took)
                in_a_row[index] += 1
                if in_a_row[index] >= MAX_MISSES_IN_A_ROW:
                    active.remove(index)
    ended = time.time()
    return {"offered": offered, "missed": missed, "seconds": time.perf_counter() - started, "ended": ended}


def agent_run(agent_ids: list[int], *, limit: int) -> dict:
    """``route_agent`` for each agent in idle order, round after round, until no offer or ``limit`` calls."""
    from engagement.routing import engine

    offered, missed = [], []
    pending = list(agent_ids)
    started = time.perf_counter()
    while pending and len(offered) + len(missed) < limit:
        still = []
        for agent_id in pending:
            if len(offered) + len(missed) >= limit:
                break
            before = time.perf_counter_ns()
            offer = engine.route_agent(agent_id)
            took = time.perf_counter_ns() - before
            if offer is None:
                missed.append(took)
            else:
                offered.append(took)
                still.append(agent_id)
        pending = still
    return {"offered": offered, "missed": missed, "seconds": time.perf_counter() - started}


def floor_run(queue_ids: list[int], agent_ids: list[int], *, count: int, offset: int = 0) -> dict:
    """The raw claim and its UPDATE, each claim its own transaction, queue after queue."""
    raw = raw_connection()
    raw.autocommit = False
    claimed, empty = [], []
    started = time.perf_counter()
    try:
        with raw.cursor() as cursor:
            for number in range(offset, offset + count):
                queue_id = queue_ids[number % len(queue_ids)]
                agent_id = agent_ids[number % len(agent_ids)]
                before = time.perf_counter_ns()
                cursor.execute(CLAIM_SQL, [queue_id])
                row = cursor.fetchone()
                if row is not None:
                    cursor.execute(CLAIM_UPDATE_SQL, [agent_id, row[0]])
                raw.commit()
                (claimed if row is not None else empty).append(time.perf_counter_ns() - before)
    finally:
        raw.close()
    return {"offered": claimed, "missed": empty, "seconds": time.perf_counter() - started, "ended": time.time()}


def parallel(kind: str, queue_ids: list[int], agent_ids: list[int], *, workers: int, count: int) -> dict:
    """``workers`` processes at once (each a fresh interpreter with its own connection); their sums."""
    start_at = time.time() + 6.0  # after every worker has imported Django and connected
    command = [PYTHON, str(Path(__file__).resolve()), "--worker", kind, "--start-at", repr(start_at)]
    command += ["--queue-ids", ",".join(map(str, queue_ids)), "--count", str(count)]
    processes = [
        subprocess.Popen(
            [*command, "--offset", str(number)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "CEA_BENCH_AGENT_IDS": ",".join(map(str, agent_ids))},
        )
        for number in range(workers)
    ]
    results = []
    for process in processes:
        out, err = process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"worker failed ({process.returncode}):\n{err[-4000:]}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    late = [result["late"] for result in results if result["late"] > 0.05]
    if late:
        print(f"  (!! workers started {', '.join(f'{s:.2f}' for s in late)} s late: throughput understated)")
    return {
        "offered": [ns for result in results for ns in result["offered"]],
        "missed": [ns for result in results for ns in result["missed"]],
        "seconds": max(result["ended"] for result in results) - start_at,
        "per_worker": [len(result["offered"]) for result in results],
    }


def worker_main(args: argparse.Namespace) -> None:
    """One of the parallel processes: prints its result as JSON."""
    from django.db import connection

    queue_ids = [int(value) for value in args.queue_ids.split(",")]
    agent_ids = [int(value) for value in os.environ["CEA_BENCH_AGENT_IDS"].split(",")]
    from engagement.routing import engine  # noqa: F401  (imported before the start, like the models)

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    late = time.time() - args.start_at
    if late < 0:
        time.sleep(-late)
    if args.worker == "engine":
        result = engine_run(queue_ids, offset=args.offset)
    else:
        # Both workers claim from the same queues at once (offset: a different queue first).
        result = floor_run(queue_ids, agent_ids, count=args.count, offset=args.offset)
    print(json.dumps({**result, "late": max(0.0, late)}))


def integrity(queue_ids: list[int], agent_ids: list[int]) -> dict:
    """After a run: items offered twice, offers that disagree with their item, agents over capacity."""
    raw = raw_connection()
    try:
        with raw.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM (SELECT o.work_item_id FROM engagement_offer o"
                " JOIN engagement_workitem w ON w.id = o.work_item_id"
                " WHERE w.queue_id = ANY(%s) AND o.status = 'pending' GROUP BY 1 HAVING count(*) > 1) twice",
                [queue_ids],
            )
            offered_twice = cursor.fetchone()[0]
            cursor.execute(
                "SELECT count(*) FILTER (WHERE w.status = 'offered'),"
                " count(*) FILTER (WHERE w.status = 'offered' AND NOT EXISTS (SELECT 1 FROM engagement_offer o"
                "   WHERE o.work_item_id = w.id AND o.status = 'pending' AND o.agent_id = w.agent_id)),"
                " (SELECT count(*) FROM engagement_offer o JOIN engagement_workitem x ON x.id = o.work_item_id"
                "   WHERE x.queue_id = ANY(%s) AND o.status = 'pending')"
                " FROM engagement_workitem w WHERE w.queue_id = ANY(%s)",
                [queue_ids, queue_ids],
            )
            items_offered, disagreeing, pending_offers = cursor.fetchone()
            cursor.execute(
                "WITH held AS (SELECT a.id, a.capacity_units, a.load_units,"
                "   coalesce(sum(w.units) FILTER (WHERE w.status IN ('offered', 'assigned', 'wrap_up')), 0) AS units"
                "   FROM engagement_agentprofile a LEFT JOIN engagement_workitem w ON w.agent_id = a.id"
                "   WHERE a.id = ANY(%s) GROUP BY a.id)"
                " SELECT count(*) FILTER (WHERE units > capacity_units),"
                " count(*) FILTER (WHERE load_units > capacity_units),"
                " count(*) FILTER (WHERE load_units <> units), coalesce(sum(units), 0), sum(capacity_units),"
                " count(*) FILTER (WHERE units >= capacity_units) FROM held",
                [agent_ids],
            )
            over_by_work, over_by_counter, counter_wrong, units_held, units_capacity, full = cursor.fetchone()
            cursor.execute(
                "SELECT count(*) FROM engagement_workitem w JOIN engagement_agentprofile a ON a.id = w.agent_id"
                " WHERE w.queue_id = ANY(%s) AND w.status = 'offered'"
                " AND cardinality(a.channels) > 0 AND NOT (w.channel = ANY(a.channels))",
                [queue_ids],
            )
            wrong_channel = cursor.fetchone()[0]
    finally:
        raw.close()
    return {
        "items_offered": items_offered,
        "pending_offers": pending_offers,
        "items_offered_twice": offered_twice,
        "offers_disagreeing_with_item": disagreeing,
        "agents_over_capacity_by_work": over_by_work,
        "agents_over_capacity_by_counter": over_by_counter,
        "agents_counter_wrong": counter_wrong,
        "agents_wrong_channel": wrong_channel,
        "units_held": units_held,
        "units_capacity": units_capacity,
        "agents_full": full,
    }


def print_integrity(label: str, check: dict) -> bool:
    problems = (
        check["items_offered_twice"]
        + check["offers_disagreeing_with_item"]
        + check["agents_over_capacity_by_work"]
        + check["agents_over_capacity_by_counter"]
        + check["agents_counter_wrong"]
        + check["agents_wrong_channel"]
        + abs(check["items_offered"] - check["pending_offers"])
    )
    print(
        f"  check after {label}: {check['items_offered']:,} items offered, {check['pending_offers']:,} pending offers;"
        f" items offered twice {check['items_offered_twice']}, offers disagreeing with their item"
        f" {check['offers_disagreeing_with_item']}, agents over capacity {check['agents_over_capacity_by_work']}"
        f" (by their counter {check['agents_over_capacity_by_counter']}), counters wrong"
        f" {check['agents_counter_wrong']}, wrong channel {check['agents_wrong_channel']};"
        f" {check['units_held']:,} of {check['units_capacity']:,} capacity units held,"
        f" {check['agents_full']} agents full"
        f" → {'OK' if problems == 0 else '!! PROBLEM'}"
    )
    return problems == 0


def timings(samples: list[int]) -> Timings:
    found = Timings()
    found.extend(samples)
    return found


def ratio(value: float, floor: float) -> str:
    return f"{value / floor:5.1f}x" if floor and not math.isnan(floor) and not math.isnan(value) else "   - "


def explain(queue_ids: list[int], agent_ids: list[int]) -> None:
    """EXPLAIN ANALYZE of the statements one route_next and one route_agent send (rolled back)."""
    from django.db import connection, transaction

    from engagement.routing import engine
    from engagement.routing.models import Queue

    captured: list[tuple[str, tuple]] = []

    def wrapper(execute, sql, params, many, context):
        captured.append((sql, params))
        return execute(sql, params, many, context)

    queue = Queue.objects.get(pk=queue_ids[0])
    for label, call in (
        ("route_next", lambda: engine.route_next(queue=queue)),
        ("route_agent", lambda: engine.route_agent(agent_ids[0])),
    ):
        # Capture the call's statements (rolled back), then replay them in order under EXPLAIN
        # ANALYZE, which executes them, in one transaction rolled back too.
        captured.clear()
        with transaction.atomic():
            with connection.execute_wrapper(wrapper):
                call()
            transaction.set_rollback(True)
        statements = [(sql, params) for sql, params in captured if sql.split()[0].upper() in WRITES_AND_READS]
        print(f"\n=== {label}: {len(statements)} statements ===")
        with transaction.atomic(), connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(EXPLAIN + sql, params)
                plan = "\n".join(f"    {line}" for (line,) in cursor.fetchall())
                statement = cursor.cursor.query.decode(errors="replace")[len(EXPLAIN) :]
                print(f"-- {statement}\n{plan}")
            transaction.set_rollback(True)
    reset(queue_ids)


def routing_part(args: argparse.Namespace) -> dict:
    queue_ids, agent_ids = prepare(agents=args.agents, items=args.items, reseed=args.reseed)
    reset(queue_ids)
    if args.explain:
        explain(queue_ids, agent_ids)
    # Warm-up: compile the queries, fill the caches; then start from the same state.
    engine_run(queue_ids, limit=50)
    floor_run(queue_ids, agent_ids, count=50)
    reset(queue_ids)

    results: dict[str, dict] = {}

    def add(name: str, outcome: dict) -> None:
        total = results.setdefault(name, {"offered": [], "missed": [], "seconds": 0.0, "runs": []})
        total["offered"] += outcome["offered"]
        total["missed"] += outcome["missed"]
        total["seconds"] += outcome["seconds"]
        total["runs"].append(len(outcome["offered"]) / outcome["seconds"] if outcome["seconds"] else 0.0)

    all_ok = True
    for number in range(args.runs):
        order = ("engine", "floor") if number % 2 == 0 else ("floor", "engine")
        for kind in order:
            if kind == "engine":
                outcome = engine_run(queue_ids)
                print(
                    f"run {number + 1}: route_next, 1 process: {len(outcome['offered']):,} offers,"
                    f" {len(outcome['missed']):,} without, {outcome['seconds']:.1f} s"
                )
                all_ok &= print_integrity("route_next", integrity(queue_ids, agent_ids))
                add("route_next", outcome)
            else:
                outcome = floor_run(queue_ids, agent_ids, count=args.floor_claims)
                print(f"run {number + 1}: raw claim, 1 process: {len(outcome['offered']):,} claims")
                add("floor", outcome)
            reset(queue_ids)
        outcome = agent_run(agent_ids, limit=args.agent_decisions)
        print(
            f"run {number + 1}: route_agent: {len(outcome['offered']):,} offers,"
            f" {len(outcome['missed']):,} without, {outcome['seconds']:.1f} s"
        )
        all_ok &= print_integrity("route_agent", integrity(queue_ids, agent_ids))
        add("route_agent", outcome)
        reset(queue_ids)

    per_worker = max(1, args.floor_claims // args.workers)
    for number in range(args.runs):
        order = ("engine", "floor") if number % 2 == 0 else ("floor", "engine")
        for kind in order:
            outcome = parallel(kind, queue_ids, agent_ids, workers=args.workers, count=per_worker)
            name = f"route_next x{args.workers}" if kind == "engine" else f"floor x{args.workers}"
            print(
                f"run {number + 1}: {name}: {len(outcome['offered']):,} offers"
                f" ({' + '.join(map(str, outcome['per_worker']))}), {outcome['seconds']:.1f} s"
            )
            if kind == "engine":
                all_ok &= print_integrity(f"{args.workers} workers", integrity(queue_ids, agent_ids))
            add(name, outcome)
            reset(queue_ids)
    results["ok"] = all_ok
    return results


def print_routing(results: dict, args: argparse.Namespace) -> None:
    floor = timings(results["floor"]["offered"])
    print()
    print(
        f"Routing decisions, {args.agents:,} agents, {args.items:,} waiting items, {len(QUEUES)} queues;"
        f" ms per decision; floor: raw claim (SELECT … FOR UPDATE SKIP LOCKED LIMIT 1 + UPDATE, own transaction)"
    )
    print(
        f"{'measure':<34} {'n':>6} {'p50':>7} {'p99':>7} {'floor p50':>9} {'floor p99':>9}"
        f" {'p50 ratio':>9} {'p99 ratio':>9}  p99 < {TARGET_P99_MS:g} ms"
    )
    for name, label in (
        ("route_next", "route_next, made an offer"),
        ("route_next", "route_next, no agent (passed over)"),
        ("route_agent", "route_agent, made an offer"),
        ("route_agent", "route_agent, nothing for the agent"),
        ("floor", "raw claim (floor)"),
    ):
        samples = results[name]["missed" if ("no agent" in label or "nothing" in label) else "offered"]
        if not samples:
            continue
        measured = timings(samples)
        target = verdict(measured.p99_ms < TARGET_P99_MS) if "made an offer" in label else ""
        print(
            f"{label:<34} {len(samples):>6} {measured.p50_ms:>7.2f} {measured.p99_ms:>7.2f}"
            f" {floor.p50_ms:>9.2f} {floor.p99_ms:>9.2f} {ratio(measured.p50_ms, floor.p50_ms):>9}"
            f" {ratio(measured.p99_ms, floor.p99_ms):>9}  {target}"
        )
    print()
    print(f"{'assignments/s':<34} {'per run':>24} {'overall':>8} {'vs floor':>9}")
    for name, floor_name in (
        ("route_next", "floor"),
        ("route_agent", "floor"),
        ("floor", "floor"),
        (f"route_next x{args.workers}", f"floor x{args.workers}"),
        (f"floor x{args.workers}", f"floor x{args.workers}"),
    ):
        result = results.get(name)
        if not result:
            continue
        overall = len(result["offered"]) / result["seconds"] if result["seconds"] else 0.0
        base = results[floor_name]
        base_rate = len(base["offered"]) / base["seconds"] if base["seconds"] else 0.0
        runs = ", ".join(f"{rate:.0f}" for rate in result["runs"])
        print(f"{name:<34} {runs:>24} {overall:>8.0f} {overall / base_rate if base_rate else 0:>8.2f}x")
    print(f"integrity checks: {'all OK' if results['ok'] else '!! A PROBLEM (see above)'}")


# --- Part 2: a chat message from the visitor's socket to the agent's -------------------------


def prepare_chat(visitors: int):
    """A site key, an agent signed in, and one active conversation of that agent per new visitor."""
    import logging

    from django.conf import settings
    from django.test import Client

    logging.getLogger("axes").setLevel(logging.WARNING)  # its "successful login" lines, for force_login

    from cea.accounts.models import User
    from engagement.conversations.models import Conversation, ConversationStatus
    from engagement.webchat.models import SiteKey
    from engagement.webchat.services import visitor_token_issue

    site, _ = SiteKey.objects.get_or_create(
        name=f"{PREFIX}-site", defaults={"key": f"site_{PREFIX}_chat", "allowed_origins": [VISITOR_ORIGIN]}
    )
    agent, _ = User.objects.get_or_create(username=f"{PREFIX}-desk", defaults={"role": "agent"})
    client = Client()
    client.force_login(agent)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    chats = []
    for _ in range(visitors):
        visitor, token = visitor_token_issue(site=site)
        conversation = Conversation.objects.create(
            channel="chat",
            external_id=f"webchat:{visitor}:1",
            visitor=visitor,
            status=ConversationStatus.ACTIVE,
            agent=agent,
            subject=f"{PREFIX} chat",
        )
        chats.append((token, conversation.pk))
    return site.key, session, chats


def visitor_key(frame: dict) -> str | None:
    kind = frame.get("type")
    if kind == "ack":
        return f"ack:{frame.get('client_id')}"
    if kind in ("pong", "welcome"):
        return kind
    if kind == "error" and frame.get("client_id"):
        return f"ack:{frame['client_id']}"
    return None


def agent_key(frame: dict) -> str | None:
    kind = frame.get("type")
    if kind == "conversation.message":
        return f"body:{frame['message']['body']}"
    if kind == "subscribed":
        return f"subscribed:{frame.get('id')}"
    if kind == "error":
        return f"subscribed:{frame.get('id')}"
    return None


async def chat_part(
    port: int, *, messages: int, rounds: int, site_key: str, session: str, chats, body_of=None, shown_as=None
) -> dict:
    """``body_of(number)``: the text of message ``number`` (default: a plain unique line);
    ``shown_as(body)``: the bodies the agent's socket may show for it (default: the same); how
    many arrived changed is counted in ``changed``."""
    from urllib.parse import quote

    import redis.asyncio as aioredis
    from channels.layers import get_channel_layer
    from django.conf import settings
    from websockets.asyncio.client import connect

    base = f"ws://127.0.0.1:{port}"
    visitors: list[Socket] = []
    for token, _conversation in chats:
        uri = f"{base}/ws/webchat/?site_key={site_key}&visitor={quote(token)}&page=http%3A%2F%2Frbench.invalid%2F"
        socket = Socket(await connect(uri, origin=VISITOR_ORIGIN), visitor_key)
        welcome = socket.expect("welcome")
        _, frame = await asyncio.wait_for(welcome, 10)
        if frame.get("conversation") is None:
            raise RuntimeError(f"the visitor's conversation was not resumed: {frame}")
        visitors.append(socket)
    agents: list[Socket] = []
    cookie = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"}
    for start in range(0, len(chats), SUBSCRIPTIONS_PER_SOCKET):
        socket = Socket(
            await connect(f"{base}/ws/context/", origin=f"http://127.0.0.1:{port}", additional_headers=cookie),
            agent_key,
        )
        for _token, conversation in chats[start : start + SUBSCRIPTIONS_PER_SOCKET]:
            done = socket.expect(f"subscribed:{conversation}")
            await socket.send({"action": "subscribe", "scope": "conversation_messages", "id": conversation})
            _, frame = await asyncio.wait_for(done, 10)
            if frame.get("type") != "subscribed":
                raise RuntimeError(f"the agent could not subscribe: {frame}")
        agents.append(socket)
    agent_of = [agents[number // SUBSCRIPTIONS_PER_SOCKET] for number in range(len(chats))]

    layer = get_channel_layer()
    channel = await layer.new_channel()
    group = f"{PREFIX}.floor.{os.getpid()}"
    await layer.group_add(group, channel)
    redis = aioredis.Redis.from_url(settings.REDIS_URL)
    pubsub = redis.pubsub()
    topic = f"{PREFIX}:floor:{os.getpid()}"
    await pubsub.subscribe(topic)
    await pubsub.get_message(timeout=1.0)  # the subscribe confirmation

    found = {name: [] for name in ("delivery", "ack", "layer", "pubsub", "ping", "changed")}
    sent = [0]

    async def layer_trip() -> int:
        before = time.perf_counter_ns()
        await layer.group_send(group, {"type": "bench.ping"})
        await layer.receive(channel)
        return time.perf_counter_ns() - before

    async def pubsub_trip() -> int:
        before = time.perf_counter_ns()
        await redis.publish(topic, b"ping")
        while await pubsub.get_message(ignore_subscribe_messages=True, timeout=5.0) is None:
            pass
        return time.perf_counter_ns() - before

    async def message_trip() -> None:
        number = sent[0]
        sent[0] += 1
        chat = number % len(visitors)
        body = body_of(number) if body_of else f"{PREFIX} message {os.getpid()}-{number}"
        client_id = f"m{number}"
        delivered = agent_of[chat].expect(*(f"body:{shown}" for shown in (shown_as(body) if shown_as else [body])))
        acked = visitors[chat].expect(f"ack:{client_id}")
        before = time.perf_counter_ns()
        await visitors[chat].send({"type": "message", "client_id": client_id, "body": body})
        (arrived, frame), (ack_at, ack) = await asyncio.wait_for(asyncio.gather(delivered, acked), 15)
        if ack.get("type") != "ack":
            raise RuntimeError(f"the message was refused: {ack}")
        found["changed"].append(int(frame["message"]["body"] != body))
        found["delivery"].append(arrived - before)
        found["ack"].append(ack_at - before)

    async def ping_trip() -> None:
        socket = visitors[len(found["ping"]) % len(visitors)]
        pong = socket.expect("pong")
        before = time.perf_counter_ns()
        await socket.send({"type": "ping"})
        arrived, _ = await asyncio.wait_for(pong, 10)
        found["ping"].append(arrived - before)

    # Warm-up: one message per visitor is too many for the budget; a few, and floors.
    for _ in range(20):
        await layer_trip()
        await pubsub_trip()
    per_round = max(1, messages // rounds)
    pings = min(per_round, len(visitors) * MESSAGES_PER_VISITOR // rounds)
    for number in range(rounds):
        blocks = ["floors", "messages", "pings"]
        for block in blocks if number % 2 == 0 else reversed(blocks):
            if block == "floors":
                for _ in range(per_round):
                    found["layer"].append(await layer_trip())
                    found["pubsub"].append(await pubsub_trip())
            elif block == "messages":
                for _ in range(per_round):
                    await message_trip()
            else:
                for _ in range(pings):
                    await ping_trip()
    errors = [error for socket in visitors + agents for error in socket.errors]
    for socket in visitors + agents:
        await socket.close()
    await layer.group_discard(group, channel)
    await pubsub.unsubscribe(topic)
    await pubsub.aclose()
    await redis.aclose()
    found["errors"] = errors
    return found


# As make run serves it (embedded mode: plain HTTP on loopback; stack mode would redirect the
# readiness check to HTTPS), with every visitor from 127.0.0.1 let in (the per-address limit is 20).
WS_SERVER_ENV = {"CEA_EMBEDDED": "1", "CEA_WEBCHAT_CONNECTIONS_PER_IP": "100000"}


def ws_part(args: argparse.Namespace) -> dict:
    from django.db import connection

    from bench.records import FLOOR_PATH, api_token
    from cea.accounts.services import api_token_revoke

    visitors = max(1, math.ceil(args.messages / MESSAGES_PER_VISITOR))
    site_key, session, chats = prepare_chat(visitors)
    token, plaintext = api_token()  # only to see that the server answers
    connection.close()
    port = free_port()
    command = server_commands(port)["uvicorn (1 worker)"]
    headers = {"Authorization": f"Bearer {plaintext}"}
    try:
        with Server("uvicorn (1 worker)", command, port, FLOOR_PATH, headers, env=WS_SERVER_ENV) as server:
            try:
                return asyncio.run(
                    chat_part(port, messages=args.messages, rounds=2, site_key=site_key, session=session, chats=chats)
                )
            except Exception:
                print(server.output(), file=sys.stderr)
                raise
    finally:
        api_token_revoke(token=token)


def print_ws(found: dict) -> None:
    floor = timings(found["layer"])
    print()
    print(
        "Chat message, visitor's ws/webchat/ → agent's ws/context/ (uvicorn, 1 worker); ms;"
        " floor: channel-layer round trip from this process"
    )
    print(f"{'measure':<46} {'n':>5} {'p50':>7} {'p99':>7} {'p50 ratio':>9} {'p99 ratio':>9}")
    for key, label in (
        ("delivery", "message on the agent's socket"),
        ("ack", "ack on the visitor's socket (stored)"),
        ("ping", "ping → pong on the visitor's socket"),
        ("layer", "channel-layer group_send → receive (floor)"),
        ("pubsub", "raw Redis PUBLISH → SUBSCRIBE"),
    ):
        measured = timings(found[key])
        print(
            f"{label:<46} {len(found[key]):>5} {measured.p50_ms:>7.2f} {measured.p99_ms:>7.2f}"
            f" {ratio(measured.p50_ms, floor.p50_ms):>9} {ratio(measured.p99_ms, floor.p99_ms):>9}"
        )
    if found["errors"]:
        print(f"  !! {len(found['errors'])} error frames, e.g. {found['errors'][0]}")


# --- Main ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--items", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=2, help="runs of each routing measure")
    parser.add_argument("--floor-claims", type=int, default=2000, help="raw claims a run (split over the workers)")
    parser.add_argument("--agent-decisions", type=int, default=1500, help="route_agent calls a run at most")
    parser.add_argument("--workers", type=int, default=2, help="processes routing at once")
    parser.add_argument("--messages", type=int, default=400, help="chat messages timed")
    parser.add_argument("--skip-routing", action="store_true")
    parser.add_argument("--skip-ws", action="store_true")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of a decision's statements")
    parser.add_argument("--reseed", action="store_true", help="make the agents and items again")
    parser.add_argument("--force", action="store_true", help="allow a database whose name lacks 'bench'")
    parser.add_argument("--worker", choices=["engine", "floor"], help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--queue-ids", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--offset", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    setup_django()
    database = guard_database(force=args.force)
    if args.worker:
        worker_main(args)
        return

    from bench.records import commit

    print(f"CEA routing — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit()}, database {database}")
    print(f"Machine: {machine()}; Python {sys.version.split()[0]}")
    summary = {}
    if not args.skip_routing:
        results = routing_part(args)
        print_routing(results, args)
        made = timings(results["route_next"]["offered"])
        summary.update(
            route_next_p50_ms=made.p50_ms,
            route_next_p99_ms=made.p99_ms,
            floor_p50_ms=timings(results["floor"]["offered"]).p50_ms,
        )
    if not args.skip_ws:
        found = ws_part(args)
        print_ws(found)
        summary.update(
            delivery_p50_ms=timings(found["delivery"]).p50_ms, delivery_p99_ms=timings(found["delivery"]).p99_ms
        )
    print(f"Machine after: {machine()}")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
