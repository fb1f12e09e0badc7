"""Sentiment scoring of a customer message, inline in ``message_add``: its cost against one raw SQL round trip.

    DATABASE_URL=… REDIS_URL=… SECRET_KEY=… .venv/bin/python bench/sentiment.py [--calls 5000]

- score: ``insights.sentiment.analyzer.score_text`` (the language check and VADER's compound score) of
  typical customer chat messages, one call each, vs the floor: a raw ``SELECT 1`` on the same database
  connection (the least any message insert costs). It reads nothing and writes nothing.
Each is printed as p50/p99 per call in ms with its ratio to the floor (docs/performance.md, docs/sentiment.md).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Timings, setup_django

MESSAGES = (
    "Hi, I need some help please.",
    "It still isn't working and I've been waiting for ages!",
    "This is the third time I am calling and nobody fixed my broken router, absolutely terrible service!",
    "Great, that solved it, thank you so much!",
    "Je suis très mécontent de votre service",
)


def measure(call, calls: int, warmup: int = 100) -> Timings:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(calls):
        started = time.perf_counter_ns()
        call()
        samples.append(time.perf_counter_ns() - started)
    timings = Timings()
    timings.extend(samples)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args()
    setup_django()

    from django.db import connection

    from insights.sentiment.analyzer import analyzer, score_text

    analyzer()  # the lexicon, once per process
    turn = iter(range(10**9))
    scored = measure(lambda: score_text(MESSAGES[next(turn) % len(MESSAGES)]), args.calls)
    with connection.cursor() as cursor:
        floor = measure(lambda: cursor.execute("SELECT 1"), args.calls)
    print(
        f"{'score_text (VADER, English check)':<38} p50 {scored.p50_ms:7.3f} ms  p99 {scored.p99_ms:7.3f} ms   "
        f"{'raw SELECT 1':<14} p50 {floor.p50_ms:7.3f} ms  p99 {floor.p99_ms:7.3f} ms   "
        f"ratio p50 {scored.p50_ms / floor.p50_ms:5.2f}x  p99 {scored.p99_ms / floor.p99_ms:5.2f}x"
    )


if __name__ == "__main__":
    main()
