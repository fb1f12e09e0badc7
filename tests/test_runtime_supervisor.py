"""make run's supervisor (cea/runtime): a child that dies is started again; one that keeps dying stops all."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

from cea.runtime.__main__ import _Supervisor

# A child that records each start in a folder, then stays up (SIGTERM ends it).
STAYS_UP = "import os, sys, time; open(os.path.join(sys.argv[1], str(os.getpid())), 'w').close(); time.sleep(600)"


def test_a_child_killed_while_running_is_started_again(tmp_path):
    # Given a supervised child that is up
    supervisor = _Supervisor(dict(os.environ))
    supervisor.spawn("worker", [sys.executable, "-c", STAYS_UP, str(tmp_path)])
    waiting = threading.Thread(target=supervisor.wait, kwargs={"poll_seconds": 0.05}, daemon=True)
    waiting.start()
    try:
        first = supervisor.children[0][1]
        _until(lambda: len(list(tmp_path.iterdir())) == 1)
        # When it is killed, as SIGKILL of a Celery worker
        os.killpg(first.pid, signal.SIGKILL)
        # Then it is started again, and the platform keeps running
        _until(lambda: len(list(tmp_path.iterdir())) == 2)
        (name, second) = supervisor.children[0]
        assert name == "worker" and second.pid != first.pid and second.poll() is None
        assert not supervisor.stopping
    finally:
        supervisor.stop()
        waiting.join(10)
    assert supervisor.children[0][1].poll() is not None  # and stopping stops the new one


def test_a_child_that_keeps_dying_stops_everything(tmp_path):
    # Given a child that exits at once every time, beside one that stays up
    supervisor = _Supervisor(dict(os.environ))
    supervisor.spawn("web", [sys.executable, "-c", STAYS_UP, str(tmp_path)])
    supervisor.spawn("beat", [sys.executable, "-c", "raise SystemExit(3)"])
    # When the supervisor watches them / Then after its restarts it gives up with 1 and stops the rest
    assert supervisor.wait(poll_seconds=0.05) == 1
    assert len(supervisor.restarts["beat"]) == _Supervisor.RESTART_LIMIT
    assert all(process.poll() is not None for _, process in supervisor.children)


def _until(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the wait"
        time.sleep(0.05)
