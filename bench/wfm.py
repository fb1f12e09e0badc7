"""Workforce management's figures, each against a floor measured in the same run:

    DATABASE_URL=… REDIS_URL=… SECRET_KEY=… .venv/bin/python bench/wfm.py [--only erlang|schedule|forecast]

- erlang (``bench/wfm_erlang.py``): Erlang C and Erlang A for 96 intervals × 20 queues, ours against
  pyworkforce's ErlangC on the same inputs (its time, and how many answers agree).
- schedule (``bench/wfm_schedule.py``): the weekly schedule of 200 agents on 5 queues within a 60-second
  limit, with its coverage, against a greedy schedule of the same inputs.
- forecast (``bench/wfm_forecast.py``): the fit of a year of 15-minute history, against the seasonal-naive
  floor.
Each part runs in its own process (each sets Django up as it needs) and prints its own lines; the
figures go into docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PARTS = {"erlang": "wfm_erlang.py", "forecast": "wfm_forecast.py", "schedule": "wfm_schedule.py"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=sorted(PARTS), action="append")
    args = parser.parse_args()
    print(f"load average: {' '.join(f'{value:.2f}' for value in os.getloadavg())}")
    failed = []
    for name in args.only or list(PARTS):
        print(f"\n== {name} ({PARTS[name]})", flush=True)
        if subprocess.run([sys.executable, str(HERE / PARTS[name])], check=False).returncode:
            failed.append(name)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
