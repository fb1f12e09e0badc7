"""The live wallboard (issue 12): the cost of one update at 1,000 agents and 100 queues, against a floor of the
same run; and how many pushes a burst of routing changes makes.

    DATABASE_URL=… REDIS_URL=… SECRET_KEY=… .venv/bin/python bench/wallboard.py [--agents 1000] [--queues 100]
        [--teams 10] [--today 20000] [--history 100000] [--iterations 200] [--changes 10000]
        [--sockets 1,10,50] [--pushes 20] [--reseed] [--force]

Data (prefix ``wbench``, made once with bulk_create and reused): --teams teams, --queues queues
spread over them, --agents agents spread over them (40 % available, 10 % busy, 10 % after-contact,
25 % away for one of three reasons, 15 % offline); --today work items enqueued since local
midnight (6 % waiting, 3 % offered, 10 % abandoned, the rest answered, a third of those within the
target) and --history items of the seven days before (what "today" must leave out).

Measured, each p50/p99 over --iterations calls, teams in turn:

- one team's update as the wallboard's socket computes it (``wallboard_snapshot``: the figures of
  the team's queues and the shared ones, its agents by state, serialized and rendered to HTML);
- the same figures alone (``team_board``) and every queue's (``realtime_queues``, the API's read);
- the floor: the same counts in raw SQL through the same connection's cursor, no ORM, no Python
  assembly (waiting and offered per queue, today's and the last 15 minutes' outcomes per queue,
  the team's agents by presence and reason: four statements).

Then one push heard by N sockets of one team (``--sockets``, ``--pushes``): the time until every
socket has its board and the reads made, each socket reading its own (before) against the
sockets sharing the loop's ``TeamBoardReads`` (after, what the consumer does).

Then the push side: --changes calls of ``routing_changed_on_commit`` in a row (as many changes as a
thousand agents make in a busy stretch), counting the ``routing.changed`` messages a listener gets:
the coalescing makes it one at once and at most one a second after, whatever the number of changes.
Floor of the call itself: ``transaction.on_commit`` of a no-op.

Writes many rows: refuses a database whose name lacks "bench" unless --force.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: bench/ is sys.path[0], where bench/records.py would shadow the ``records`` app.
    _root = Path(__file__).resolve().parent.parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _root / "bench"]
    sys.path.insert(0, str(_root))

from bench.common import Timings, guard_database, machine, setup_django

PREFIX = "wbench"
REASONS = [("wbench-break", "Break"), ("wbench-lunch", "Lunch"), ("wbench-training", "Training")]
TARGET_UPDATE_P99_MS = 100.0  # ten teams' boards a second on one core, with room to spare

FLOOR_WAITING_SQL = """
SELECT queue_id, count(*) FILTER (WHERE status = 'waiting'), count(*) FILTER (WHERE status = 'offered'),
       min(enqueued_at)
FROM engagement_workitem WHERE queue_id = ANY(%s) AND status IN ('waiting', 'offered') GROUP BY queue_id
"""
FLOOR_CONTACTS_SQL = """
SELECT w.queue_id, count(*),
       count(*) FILTER (WHERE w.assigned_at IS NOT NULL),
       count(*) FILTER (WHERE w.assigned_at IS NOT NULL AND w.wait_seconds <= q.service_level_seconds),
       count(*) FILTER (WHERE w.status = 'abandoned'),
       count(*) FILTER (WHERE w.status = 'abandoned' AND w.wait_seconds <= q.service_level_seconds),
       count(*) FILTER (WHERE w.status = 'abandoned' AND w.wait_seconds < q.short_abandon_seconds),
       count(*) FILTER (WHERE w.status IN ('waiting', 'offered')
                        AND w.enqueued_at < %s - q.service_level_seconds * interval '1 second'),
       sum(w.wait_seconds) FILTER (WHERE w.assigned_at IS NOT NULL)
FROM engagement_workitem w JOIN engagement_queue q ON q.id = w.queue_id
WHERE w.queue_id = ANY(%s) AND w.enqueued_at >= %s AND w.enqueued_at <= %s AND w.transferred_from_id IS NULL
GROUP BY w.queue_id
"""
FLOOR_AGENTS_SQL = """
SELECT ut.team_id, a.presence, r.code, r.label, count(DISTINCT a.id)
FROM engagement_agentprofile a JOIN accounts_user u ON u.id = a.user_id
JOIN accounts_user_teams ut ON ut.user_id = u.id LEFT JOIN engagement_reasoncode r ON r.id = a.reason_id
WHERE u.is_active AND ut.team_id = ANY(%s) GROUP BY ut.team_id, a.presence, r.code, r.label
"""


# --- Data ------------------------------------------------------------------------------------


def seeded(teams: int) -> list[int]:
    from cea.accounts.models import Team

    return list(Team.objects.filter(name__startswith=f"{PREFIX}-").order_by("pk").values_list("pk", flat=True))


def wipe() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM engagement_workitem w USING engagement_queue q WHERE q.id = w.queue_id AND q.name LIKE %s",
            [f"{PREFIX}-%"],
        )
        cursor.execute("DELETE FROM engagement_conversation WHERE visitor LIKE %s", [f"{PREFIX}-%"])
        cursor.execute(
            "DELETE FROM engagement_agentprofile a USING accounts_user u WHERE u.id = a.user_id AND u.username LIKE %s",
            [f"{PREFIX}-%"],
        )
        cursor.execute("DELETE FROM engagement_queue WHERE name LIKE %s", [f"{PREFIX}-%"])
        cursor.execute(
            "DELETE FROM accounts_user_teams ut USING accounts_user u WHERE u.id = ut.user_id AND u.username LIKE %s",
            [f"{PREFIX}-%"],
        )
        cursor.execute("DELETE FROM accounts_user WHERE username LIKE %s", [f"{PREFIX}-%"])
        cursor.execute("DELETE FROM accounts_team WHERE name LIKE %s", [f"{PREFIX}-%"])


def seed(*, teams: int, queues: int, agents: int, today: int, history: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from cea.accounts.models import Team
    from engagement.conversations.models import Conversation
    from engagement.routing.models import AgentProfile, Presence, Queue, ReasonCode, WorkItem, WorkStatus
    from insights.realtime.selectors import today_start

    rng = random.Random(12)
    now = timezone.now()
    midnight = today_start(now=now)
    started = time.perf_counter()
    with transaction.atomic():
        team_rows = Team.objects.bulk_create([Team(name=f"{PREFIX}-team-{n:02d}") for n in range(teams)])
        queue_rows = Queue.objects.bulk_create(
            [
                Queue(name=f"{PREFIX}-queue-{n:03d}", label=f"Queue {n}", team=team_rows[n % teams], channel="chat")
                for n in range(queues)
            ]
        )
        reasons = [ReasonCode.objects.get_or_create(code=code, defaults={"label": label})[0] for code, label in REASONS]
        User = get_user_model()
        users = User.objects.bulk_create(
            [User(username=f"{PREFIX}-agent-{n:04d}", role="agent", password="!") for n in range(agents)]
        )
        User.teams.through.objects.bulk_create(
            [User.teams.through(user_id=user.pk, team_id=team_rows[n % teams].pk) for n, user in enumerate(users)]
        )
        presences = (
            [Presence.AVAILABLE] * 40 + [Presence.BUSY] * 10 + [Presence.AFTER_CONTACT] * 10
            + [Presence.AWAY] * 25 + [Presence.OFFLINE] * 15
        )  # fmt: skip
        profiles = []
        for n, user in enumerate(users):
            presence = presences[n % 100]
            profiles.append(
                AgentProfile(user=user, presence=presence, reason=reasons[n % 3] if presence == Presence.AWAY else None)
            )
        profiles = AgentProfile.objects.bulk_create(profiles)
        conversations = Conversation.objects.bulk_create(
            [Conversation(channel="chat", visitor=f"{PREFIX}-{n}") for n in range(today + history)], batch_size=5000
        )
        items = []
        for n, conversation in enumerate(conversations):
            queue = queue_rows[n % queues]
            if n < today:
                enqueued = midnight + (now - midnight) * rng.random()
                roll = rng.random()
                status = (
                    WorkStatus.WAITING if roll < 0.06 else WorkStatus.OFFERED if roll < 0.09
                    else WorkStatus.ABANDONED if roll < 0.19 else WorkStatus.DONE
                )  # fmt: skip
            else:
                enqueued = midnight - timedelta(days=7) * rng.random()
                status = WorkStatus.DONE if rng.random() > 0.1 else WorkStatus.ABANDONED
            wait = rng.expovariate(1 / 40)
            answered = status == WorkStatus.DONE
            items.append(
                WorkItem(
                    conversation=conversation,
                    queue=queue,
                    channel="chat",
                    status=status,
                    enqueued_at=enqueued,
                    entered_queue_at=enqueued,
                    agent=profiles[n % agents] if status in (WorkStatus.OFFERED, WorkStatus.DONE) else None,
                    assigned_at=enqueued + timedelta(seconds=wait) if answered else None,
                    ended_at=enqueued + timedelta(seconds=wait) if status == WorkStatus.ABANDONED else None,
                    wait_seconds=wait if status in (WorkStatus.DONE, WorkStatus.ABANDONED) else None,
                )
            )
        WorkItem.objects.bulk_create(items, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE engagement_workitem; ANALYZE engagement_agentprofile; ANALYZE accounts_user_teams")
    print(f"seeded {teams} teams, {queues} queues, {agents} agents, {today + history} work items "
          f"in {time.perf_counter() - started:.1f} s")  # fmt: skip


# --- Measures --------------------------------------------------------------------------------


def timed(call, arguments: list, iterations: int) -> Timings:
    timings = Timings()
    samples = []
    for n in range(iterations):
        started = time.perf_counter_ns()
        call(arguments[n % len(arguments)])
        samples.append(time.perf_counter_ns() - started)
    timings.extend(samples)
    return timings


def floor_for(team_id: int) -> None:
    """The board's counts in raw SQL: four statements, rows fetched, nothing assembled."""
    from django.db import connection
    from django.utils import timezone

    from insights.realtime.selectors import RECENT, today_start

    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM engagement_queue WHERE is_active AND (team_id = %s OR team_id IS NULL)", [team_id]
        )
        ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(FLOOR_WAITING_SQL, [ids])
        cursor.fetchall()
        for since in (today_start(now=now), now - RECENT):
            cursor.execute(FLOOR_CONTACTS_SQL, [now, ids, since, now])
            cursor.fetchall()
        cursor.execute(FLOOR_AGENTS_SQL, [[team_id]])
        cursor.fetchall()


def measure_updates(team_ids: list[int], iterations: int) -> None:
    from cea.accounts.models import Team
    from insights.realtime.selectors import realtime_queues, team_board
    from insights.wallboard.consumers import fingerprint, wallboard_snapshot

    teams = list(Team.objects.filter(pk__in=team_ids))
    # Warm up every path once (template loading, statement plans).
    floor_for(team_ids[0])
    fingerprint(wallboard_snapshot(team_id=team_ids[0])["board"])
    rounds = {}
    for name, call, arguments in (
        ("floor: raw SQL of the same counts", floor_for, team_ids),
        ("team_board (figures)", lambda team: team_board(team=team), teams),
        ("wallboard_snapshot (one update)", lambda team_id: fingerprint(wallboard_snapshot(team_id=team_id)["board"]),
         team_ids),
        ("realtime_queues, every queue (API)", lambda _: realtime_queues(team_ids=None), [None]),
    ):  # fmt: skip
        rounds[name] = timed(call, arguments, iterations)
    floor = rounds["floor: raw SQL of the same counts"]
    print(f"\n{'what':42} {'p50 ms':>8} {'p99 ms':>8} {'x floor p50':>12} {'x floor p99':>12}")
    for name, timings in rounds.items():
        print(
            f"{name:42} {timings.p50_ms:8.2f} {timings.p99_ms:8.2f} "
            f"{timings.p50_ms / floor.p50_ms:12.2f} {timings.p99_ms / floor.p99_ms:12.2f}"
        )
    update = rounds["wallboard_snapshot (one update)"]
    ok = update.p99_ms < TARGET_UPDATE_P99_MS
    print(f"one team's update p99 {update.p99_ms:.1f} ms, target under {TARGET_UPDATE_P99_MS:.0f} ms: "
          f"{'PASS' if ok else 'MISS'}")  # fmt: skip


def measure_fanout(team_ids: list[int], sockets: list[int], rounds: int) -> None:
    """One push heard by N sockets of one team, on one event loop as in a server process: the time until
    every socket has its board, and the reads made. Before: each socket reads its own board (the
    wallboard consumer's path until this change: ``database_sync_to_async(wallboard_read)`` per
    socket, serialized on Django's one sync thread). After: the sockets ask the loop's
    ``TeamBoardReads`` with the push's id, as the consumer now does. No websocket transport: the
    reads are what differs."""
    from asgiref.sync import async_to_sync
    from channels.db import database_sync_to_async

    from insights.wallboard.consumers import wallboard_read
    from insights.wallboard.reads import TeamBoardReads

    read = database_sync_to_async(wallboard_read)

    async def before(team_id: int, n: int) -> int:
        await asyncio.gather(*(read(team_id) for _ in range(n)))
        return n

    async def after(reads: TeamBoardReads, team_id: int, n: int, push: str) -> int:
        started = reads.reads_started

        async def socket() -> None:
            await reads.board(team_id=team_id, push=push, since=reads.stamp())

        await asyncio.gather(*(socket() for _ in range(n)))
        return reads.reads_started - started

    async def run(n: int) -> tuple[Timings, Timings, int, int]:
        reads = TeamBoardReads(read)
        old, new, old_reads, new_reads = Timings(), Timings(), 0, 0
        old_samples, new_samples = [], []
        for round_ in range(rounds):
            team_id = team_ids[round_ % len(team_ids)]
            started = time.perf_counter_ns()
            old_reads += await before(team_id, n)
            old_samples.append(time.perf_counter_ns() - started)
            started = time.perf_counter_ns()
            new_reads += await after(reads, team_id, n, push=f"push-{round_}")
            new_samples.append(time.perf_counter_ns() - started)
        old.extend(old_samples)
        new.extend(new_samples)
        return old, new, old_reads, new_reads

    async_to_sync(run)(1)  # warm up
    print(
        f"\none push heard by N sockets of one team ({rounds} pushes, teams in turn): until every socket has its board"
    )
    print(f"{'sockets':>8} {'before p50':>11} {'p99 ms':>8} {'reads/push':>11} {'after p50':>10} {'p99 ms':>8} "
          f"{'reads/push':>11} {'x p50':>6}")  # fmt: skip
    for n in sockets:
        old, new, old_reads, new_reads = async_to_sync(run)(n)
        print(f"{n:8} {old.p50_ms:11.2f} {old.p99_ms:8.2f} {old_reads / rounds:11.1f} {new.p50_ms:10.2f} "
              f"{new.p99_ms:8.2f} {new_reads / rounds:11.1f} {old.p50_ms / new.p50_ms:6.1f}")  # fmt: skip


def measure_pushes(changes: int) -> None:
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer
    from django.db import transaction

    from engagement.routing.live import ROUTING_CHANGED_GROUP, routing_changed_on_commit

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(ROUTING_CHANGED_GROUP, channel)
    started = time.perf_counter_ns()
    for _ in range(changes):
        with transaction.atomic():
            transaction.on_commit(lambda: None)
    floor_ns = (time.perf_counter_ns() - started) / changes
    started = time.perf_counter_ns()
    for _ in range(changes):
        with transaction.atomic():
            routing_changed_on_commit()
    call_ns = (time.perf_counter_ns() - started) / changes
    burst_seconds = call_ns * changes / 1e9

    async def count(window: float) -> int:
        received = 0
        deadline = time.monotonic() + window
        while (left := deadline - time.monotonic()) > 0:
            try:
                await asyncio.wait_for(layer.receive(channel), left)
            except TimeoutError:
                break
            received += 1
        return received

    pushes = async_to_sync(count)(2.5)
    async_to_sync(layer.group_discard)(ROUTING_CHANGED_GROUP, channel)
    print(f"\n{changes} routing changes committed in {burst_seconds:.2f} s -> {pushes} routing.changed pushes "
          f"(at most one at once, then one a second)")  # fmt: skip
    print(f"routing_changed_on_commit: {call_ns / 1000:.1f} µs a commit; floor (on_commit of a no-op, same "
          f"transaction) {floor_ns / 1000:.1f} µs; ratio {call_ns / floor_ns:.2f}x")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--queues", type=int, default=100)
    parser.add_argument("--teams", type=int, default=10)
    parser.add_argument("--today", type=int, default=20000)
    parser.add_argument("--history", type=int, default=100000)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--changes", type=int, default=10000)
    parser.add_argument("--sockets", default="1,10,50", help="sockets of one team hearing a push, comma-separated")
    parser.add_argument("--pushes", type=int, default=20, help="pushes per socket count (the fan-out measure)")
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--force", action="store_true", help="write into a database whose name lacks 'bench'")
    options = parser.parse_args()
    setup_django()
    name = guard_database(force=options.force)
    print(f"bench/wallboard.py on database {name}; {machine()}")
    if options.reseed:
        wipe()
    team_ids = seeded(options.teams)
    if not team_ids:
        seed(
            teams=options.teams,
            queues=options.queues,
            agents=options.agents,
            today=options.today,
            history=options.history,
        )
        team_ids = seeded(options.teams)
    measure_updates(team_ids, options.iterations)
    measure_fanout(team_ids, [int(n) for n in options.sockets.split(",")], options.pushes)
    measure_pushes(options.changes)
    print(f"\nat the end: {machine()}")


if __name__ == "__main__":
    main()
