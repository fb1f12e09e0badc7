"""Benchmark of the weekly schedule solver: 200 agents, 5 planning queues, a week, a 60-second limit.

    .venv/bin/python bench/wfm_schedule.py [--agents 200] [--queues 5] [--limit 60] [--workers 2]

No database: the solver is pure (engagement/wfm/scheduling/solver.py). The requirement is synthetic
and deterministic: per queue, a daily shape (a morning peak and a smaller afternoon one, 08:00–20:00
local, Saturday lighter, Sunday little) scaled so that the week needs about what the agents can
give. Agents: three in four full time (35–40 h, 5 days), one in four part time (16–24 h); each works
one to three of the queues; a few have a day of holiday. Templates: early, day and late 8-hour shifts
(two breaks and a lunch) and a 4-hour part-time shift. The floor is the greedy schedule of the same
problem in the same run (the solver's hint): coverage and unmet agent-hours of both, and the solve time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

if __package__ in (None, ""):
    _root = Path(__file__).resolve().parent.parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _root / "bench"]
    sys.path.insert(0, str(_root))

from bench.common import machine
from engagement.wfm.scheduling import solver as schedule_solver

WEEK = dt.date(2026, 3, 2)  # a Monday
ZONE = "Europe/London"
DAY_WEIGHT = (1.15, 1.05, 1.0, 1.0, 0.95, 0.55, 0.3)


def _shape(hour: float) -> float:
    """Contacts' daily shape, 0–1: open 08:00–20:00, a peak at 10:30 and a smaller one at 14:30."""
    if hour < 8 or hour >= 20:
        return 0.0
    return 0.35 + 0.65 * math.exp(-(((hour - 10.5) / 1.6) ** 2)) + 0.45 * math.exp(-(((hour - 14.5) / 1.8) ** 2))


def problem(*, agents: int = 200, queues: int = 5, limit: float = 60, workers: int = 2) -> schedule_solver.Problem:
    """The benchmark's deterministic problem."""
    rng = random.Random(15)
    zone = ZoneInfo(ZONE)
    roster = []
    for number in range(agents):
        part_time = number % 4 == 3
        contract = schedule_solver.Contract(
            min_minutes=(16 if part_time else 35) * 60,
            max_minutes=(24 if part_time else 40) * 60,
            max_days=5,
            earliest_start=dt.time(7),
            latest_end=dt.time(22),
        )
        skills = frozenset(rng.sample(range(1, queues + 1), rng.choice((1, 2, 2, 3))))
        time_off = ()
        if number % 10 == 0:
            day = WEEK + dt.timedelta(days=rng.randrange(5))
            start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
            time_off = ((start, start + dt.timedelta(days=1)),)
        roster.append(schedule_solver.Agent(number + 1, contract, skills, time_off, f"agent {number + 1}"))
    breaks = (
        schedule_solver.Break("break", 15, 120, 30),
        schedule_solver.Break("lunch", 30, 240, 60),
        schedule_solver.Break("break", 15, 390, 30),
    )
    templates = (
        schedule_solver.Template(1, 480, dt.time(7), dt.time(9), 30, breaks, "early"),
        schedule_solver.Template(2, 480, dt.time(9, 30), dt.time(11), 30, breaks, "day"),
        schedule_solver.Template(3, 480, dt.time(11, 30), dt.time(14), 30, breaks, "late"),
        schedule_solver.Template(4, 240, dt.time(8), dt.time(16), 60, (schedule_solver.Break("break", 15, 120, 30),)),
    )
    # Scale so the week's requirement is about 85 % of what the agents can be on contacts.
    capacity = sum(agent.contract.max_minutes for agent in roster) * 0.85 * 0.85 / 15
    weights = {}
    for queue in range(1, queues + 1):
        for day in range(7):
            for quarter in range(96):
                moment = dt.datetime.combine(WEEK + dt.timedelta(days=day), dt.time(), tzinfo=zone)
                moment += dt.timedelta(minutes=15 * quarter)
                weight = _shape(quarter / 4) * DAY_WEIGHT[day] * (1.0 + 0.3 * (queue % 3))
                if weight:
                    weights[(queue, moment.astimezone(dt.UTC))] = weight
    factor = capacity / sum(weights.values())
    required: dict[int, dict[dt.datetime, float]] = {queue: {} for queue in range(1, queues + 1)}
    for (queue, moment), weight in weights.items():
        required[queue][moment] = round(weight * factor, 1)
    planning = tuple(schedule_solver.Queue(queue, 15, required[queue], f"queue {queue}") for queue in required)
    return schedule_solver.Problem(WEEK, ZONE, tuple(roster), templates, planning, limit, workers)


def _line(name: str, solution: schedule_solver.Solution) -> str:
    return (
        f"{name:8} status {solution.status:9} {solution.solve_seconds:7.2f} s  shifts {len(solution.shifts):5}"
        f"  coverage {solution.coverage_percent:6.2f} %  unmet {solution.under_agent_minutes / 60:8.1f} agent-h"
        f"  over {solution.over_agent_minutes / 60:8.1f} agent-h"
    )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--queues", type=int, default=5)
    parser.add_argument("--limit", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    given = problem(agents=args.agents, queues=args.queues, limit=args.limit, workers=args.workers)
    floor = schedule_solver.solve(given, use_cp_sat=False)
    solved = schedule_solver.solve(given)
    print(f"# {machine()}")
    print(f"# {args.agents} agents, {args.queues} queues, a week, limit {args.limit:g} s, {args.workers} workers")
    print(_line("greedy", floor))
    print(_line("cp-sat", solved))
    within = solved.solve_seconds <= args.limit + 5
    print(
        f"cp-sat within the limit: {'yes' if within else 'NO'}; unmet vs greedy: "
        f"{solved.under_agent_minutes / max(floor.under_agent_minutes, 1e-9):.2f}×"
    )
    return {
        "greedy": {"coverage_percent": floor.coverage_percent, "unmet_hours": floor.under_agent_minutes / 60},
        "cp_sat": {
            "status": solved.status,
            "seconds": solved.solve_seconds,
            "coverage_percent": solved.coverage_percent,
            "unmet_hours": solved.under_agent_minutes / 60,
            "over_hours": solved.over_agent_minutes / 60,
        },
    }


if __name__ == "__main__":
    main()
