"""Real CEA processes for a test (not collected as tests): web processes under uvicorn and Celery
workers, started as ``make run`` and the Procfile start them, each in its own process group, its
output in a log file, and always stopped (SIGTERM, then SIGKILL) when the test ends.

    with Processes() as processes:
        web = processes.web("a", child_environment(...))
        worker = processes.worker("1", env, queue="...")
        processes.wait_until_live(web)
        processes.wait_until_ready(worker)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START_SECONDS = 60  # a loaded machine starts Django slowly; a deadline for a hang, never a measurement


def free_port() -> int:
    """A TCP port of 127.0.0.1 nothing listens on (free when asked; the caller binds it soon after)."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    log_path: Path
    port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a redirect is the answer under test, not followed


_opener = urllib.request.build_opener(_NoRedirects)


def http_get(url: str, *, timeout: float = 5) -> tuple[int, bytes, Message]:
    """Status, body and headers (looked up in any case) of a GET, redirects not followed (an HTTP
    error status is an answer, not an exception)."""
    try:
        with _opener.open(url, timeout=timeout) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers


class Processes:
    """The child processes of one test; leaving the ``with`` block stops every one of them."""

    def __init__(self) -> None:
        self.children: list[Child] = []
        self.folder = Path(tempfile.mkdtemp(prefix="cea-test-processes-"))

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def logs(self) -> str:
        """Every child's log, the last lines of each, for a failing assertion's message."""
        return "\n".join(f"--- {child.name} ---\n{child.log()[-3000:]}" for child in self.children)

    def spawn(self, name: str, argv: list[str], env: dict[str, str], *, port: int | None = None) -> Child:
        log_path = self.folder / f"{name}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        child = Child(name, process, log_path, port)
        self.children.append(child)
        return child

    def web(self, name: str, env: dict[str, str]) -> Child:
        """``cea.asgi:application`` under uvicorn, one process on a port of its own, with the flags of
        ``make run`` (cea/runtime/__main__.py) and the Procfile's web line."""
        port = free_port()
        argv = [
            sys.executable, "-m", "uvicorn", "cea.asgi:application", "--host", "127.0.0.1", "--port", str(port),
            "--workers", "1", "--no-access-log", "--no-proxy-headers", "--lifespan", "off", "--ws-max-size", "65536",
        ]  # fmt: skip
        return self.spawn(f"web-{name}", argv, env, port=port)

    def worker(self, name: str, env: dict[str, str], *, queue: str) -> Child:
        """``celery -A cea worker`` as ``make run`` starts it, logging each task at INFO, named ``<name>@…``."""
        argv = [
            sys.executable, "-m", "celery", "-A", "cea", "worker", "--loglevel", "INFO", "--concurrency", "1",
            "--hostname", f"{name}@%h", "-Q", queue, "--without-mingle", "--without-gossip",
        ]  # fmt: skip
        return self.spawn(f"worker-{name}", argv, env)

    def wait_for(
        self, condition: Callable[[], bool], *, what: str, child: Child, seconds: float = START_SECONDS
    ) -> None:
        """Poll ``condition`` until it holds; fail with the child's log if it dies or the deadline passes."""
        deadline = time.monotonic() + seconds
        while not condition():
            if not child.alive():
                raise AssertionError(
                    f"{child.name} exited ({child.process.returncode}) before {what}:\n{child.log()[-4000:]}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not within {seconds} s; {child.name}'s log:\n{child.log()[-4000:]}")
            time.sleep(0.1)

    def wait_until_live(self, web: Child) -> None:
        """Until the web process answers its liveness probe (it is serving)."""

        def answers() -> bool:
            try:
                return http_get(f"{web.url}/health/live/", timeout=2)[0] == 200
            except OSError:
                return False  # not listening yet

        self.wait_for(answers, what=f"{web.url}/health/live/ answering 200", child=web)

    def wait_until_ready(self, worker: Child) -> None:
        """Until the Celery worker says it is ready (consuming its queue)."""
        self.wait_for(lambda: " ready." in worker.log(), what=f"{worker.name} ready", child=worker)

    def stop(self, *, seconds: float = 15) -> None:
        """SIGTERM to every child's process group, SIGKILL to those still running after ``seconds``."""
        for child in self.children:
            if child.alive():
                os.killpg(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + seconds
        for child in self.children:
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait()
            # A prefork worker's pool processes share its group: none may outlive it.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.process.pid, signal.SIGKILL)
