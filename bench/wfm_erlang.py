"""Staffing requirements for 96 intervals × 20 queues: ours against pyworkforce's ErlangC on the same
inputs in the same run (time ratio and agreement), and Erlang A's time beside it.

    .venv/bin/python bench/wfm_erlang.py [--queues 20] [--intervals 96] [--repeat 3]

No database. The inputs are deterministic: each queue has an AHT (90–600 s), a target (70–95% within
10–60 s), a maximum occupancy (85% or 100%) and a day of 15-minute volumes with a morning and an
afternoon peak, scaled so that the busiest queues reach about 600 erlangs. For every (queue,
interval) both compute the required agents; agreement is counted on the agents and on the service
level (within 1e-9). The time is the best of ``--repeat`` runs of the whole grid. Erlang A
(``patience`` 180 s) is timed on the same grid; it has no pyworkforce counterpart (it is checked
against the exact birth–death chain in tests/engagement/wfm/test_erlang.py).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine

INTERVAL_MINUTES = 15


@dataclass(frozen=True)
class QueueCase:
    aht_seconds: float
    target: float
    target_seconds: float
    max_occupancy: float
    volumes: list[float]


def day_shape(interval: int, intervals: int) -> float:
    """A contact centre's day: nothing at night, a morning peak near 10:30, a lower one near 15:00."""
    hour = interval * 24 / intervals
    morning = math.exp(-(((hour - 10.5) / 1.6) ** 2))
    afternoon = 0.75 * math.exp(-(((hour - 15.0) / 2.0) ** 2))
    return max(0.0, morning + afternoon - 0.02)


def cases(queues: int, intervals: int) -> list[QueueCase]:
    built = []
    for index in range(queues):
        aht = 90 + (index * 37) % 511
        peak_erlangs = 600 * ((index % 10) + 1) / 10 if index % 2 == 0 else 5 + 12 * (index % 7)
        peak_volume = peak_erlangs * INTERVAL_MINUTES * 60 / aht
        volumes = [round(peak_volume * day_shape(i, intervals), 1) for i in range(intervals)]
        built.append(
            QueueCase(
                aht_seconds=aht,
                target=(70, 80, 90, 95)[index % 4] / 100,
                target_seconds=(10, 20, 30, 60)[(index // 4) % 4],
                max_occupancy=0.85 if index % 3 else 1.0,
                volumes=volumes,
            )
        )
    return built


def ours(grid: list[QueueCase], model: str = "erlang_c") -> list[tuple[int, float | None]]:
    from engagement.wfm.staffing.erlang import StaffingInput, required_agents

    answers = []
    for case in grid:
        for volume in case.volumes:
            result = required_agents(
                StaffingInput(
                    volume=volume,
                    aht_seconds=case.aht_seconds,
                    interval_seconds=INTERVAL_MINUTES * 60,
                    model=model,
                    service_level_target=case.target,
                    service_level_seconds=case.target_seconds,
                    patience_seconds=180.0,
                    max_occupancy=case.max_occupancy,
                )
            )
            answers.append((result.agents, result.service_level))
    return answers


def pyworkforce(grid: list[QueueCase]) -> list[tuple[int, float | None]]:
    from pyworkforce.queuing import ErlangC

    answers: list[tuple[int, float | None]] = []
    for case in grid:
        for volume in case.volumes:
            if volume <= 0:  # pyworkforce refuses no contacts; no contacts need no agents
                answers.append((0, None))
                continue
            erlang = ErlangC(
                transactions=volume,
                aht=case.aht_seconds / 60,
                asa=case.target_seconds / 60,
                interval=INTERVAL_MINUTES,
            )
            found = erlang.required_positions(service_level=case.target, max_occupancy=case.max_occupancy)
            answers.append((found["raw_positions"], found["service_level"]))
    return answers


def _best_of(repeat: int, work):
    best, answers = math.inf, None
    for _ in range(repeat):
        began = time.perf_counter()
        answers = work()
        best = min(best, time.perf_counter() - began)
    return best, answers


def _same(left: tuple[int, float | None], right: tuple[int, float | None]) -> bool:
    if left[0] != right[0]:
        return False
    if left[1] is None or right[1] is None:
        return left[1] is None and right[1] is None
    return abs(left[1] - right[1]) <= 1e-9


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Measure and print; return the figures (seconds, counts) for bench/wfm.py's summary."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queues", type=int, default=20)
    parser.add_argument("--intervals", type=int, default=96)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args(argv)
    grid = cases(options.queues, options.intervals)
    total = options.queues * options.intervals
    peak = max(volume * case.aht_seconds / (INTERVAL_MINUTES * 60) for case in grid for volume in case.volumes)
    print(f"{machine()}; {options.queues} queues × {options.intervals} intervals = {total} requirements")
    print(f"peak traffic {peak:.0f} erlangs; best of {options.repeat}")
    reference_seconds, reference = _best_of(options.repeat, lambda: pyworkforce(grid))
    our_seconds, answers = _best_of(options.repeat, lambda: ours(grid))
    a_seconds, a_answers = _best_of(options.repeat, lambda: ours(grid, "erlang_a"))
    assert reference is not None and answers is not None and a_answers is not None
    agreeing = sum(_same(mine, theirs) for mine, theirs in zip(answers, reference, strict=True))
    a_fewer = sum(a[0] <= c[0] for a, c in zip(a_answers, answers, strict=True))
    print(f"pyworkforce ErlangC:  {reference_seconds * 1000:8.1f} ms")
    print(f"ours, Erlang C:       {our_seconds * 1000:8.1f} ms  ({reference_seconds / our_seconds:.1f}x faster)")
    print(
        f"ours, Erlang A:       {a_seconds * 1000:8.1f} ms  (vs pyworkforce's C: {reference_seconds / a_seconds:.1f}x)"
    )
    print(f"same agents and service level as pyworkforce: {agreeing}/{total}")
    print(f"Erlang A (patience 180 s) needs no more agents than Erlang C: {a_fewer}/{total}")
    figures = {
        "requirements": float(total),
        "peak_erlangs": peak,
        "pyworkforce_seconds": reference_seconds,
        "erlang_c_seconds": our_seconds,
        "erlang_a_seconds": a_seconds,
        "ratio": reference_seconds / our_seconds,
        "agreeing": float(agreeing),
    }
    if agreeing != total:
        print("DIFFERENT answers from pyworkforce")
    return figures


if __name__ == "__main__":
    main()
