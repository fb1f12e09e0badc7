"""What the benchmarks share: Django set-up, the database guard, percentiles, ASGI servers and the load client.

Figures are per call (ms) or per second, always printed next to a floor measured in the same
run, because the machine is shared and absolute numbers move between runs.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def setup_django() -> None:
    """Import Django with the project's settings (DATABASE_URL, REDIS_URL, SECRET_KEY from the environment)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cea.settings")
    import django

    django.setup()


def guard_database(*, force: bool) -> str:
    """The database name; refuse one whose name lacks "bench" (the benches write many rows) unless forced."""
    from django.db import connection

    name = connection.settings_dict["NAME"]
    if "bench" not in name and not force:
        sys.exit(
            f"Refusing to write benchmark data into the database {name!r}: its name does not contain 'bench'.\n"
            "Create one (psql -c 'create database cea_bench'), migrate it, point DATABASE_URL at it, "
            "or pass --force."
        )
    return name


# --- Figures ---------------------------------------------------------------------------------


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Timings:
    """Per-call durations in nanoseconds."""

    samples: list[int] = field(default_factory=list)

    def extend(self, values: Sequence[int]) -> None:
        self.samples.extend(values)

    @property
    def p50_ms(self) -> float:
        return percentile(sorted(self.samples), 0.50) / 1e6

    @property
    def p99_ms(self) -> float:
        return percentile(sorted(self.samples), 0.99) / 1e6

    @property
    def mean_ms(self) -> float:
        return sum(self.samples) / len(self.samples) / 1e6 if self.samples else math.nan


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def machine() -> str:
    cores = os.cpu_count()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return f"{cores} cores, load average {load} (shared machine: expect noise)"


# --- ASGI servers ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


BARE_ASGI = "bare ASGI app (uvicorn, 1 worker)"
# How a Django server under test runs: in stack mode without CEA_DEBUG, plain HTTP is redirected to
# HTTPS, so the benches play the TLS proxy of production (CEA_BEHIND_TLS_PROXY and PROXY_HEADERS on
# every request) and every security middleware still runs. The throttles still count every request
# in Redis; the default rate is raised so that the bench's one token is never refused.
SERVER_ENV = {"CEA_BEHIND_TLS_PROXY": "1", "CEA_THROTTLE_DEFAULT": "100000000/min"}
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


def bare_asgi_command(port: int, python: str = PYTHON) -> list[str]:
    """The floor: ``bench/bare_asgi.py`` under the same uvicorn options as the Django servers, one worker."""
    return [*_uvicorn(python, "bench.bare_asgi:app", port), "--workers", "1"]


def _uvicorn(python: str, app: str, port: int) -> list[str]:
    return [
        python,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--lifespan",
        "off",
        "--log-level",
        "warning",
    ]


def server_commands(port: int, python: str = PYTHON) -> dict[str, list[str]]:
    """How each ASGI server is started. Access logs are off everywhere, so no server pays for them."""
    app = "cea.asgi:application"
    uvicorn = _uvicorn(python, app, port)
    return {
        "uvicorn (1 worker)": [*uvicorn, "--workers", "1"],
        "uvicorn (2 workers)": [*uvicorn, "--workers", "2"],
        # The Procfile's command, with the same worker class and count.
        "gunicorn + uvicorn workers (2)": [
            python, "-m", "gunicorn", app, "-k", "uvicorn.workers.UvicornWorker",
            "--bind", f"127.0.0.1:{port}", "--workers", "2", "--log-level", "warning",
        ],
        "daphne (1 process)": [python, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "-v", "0", app],
    }  # fmt: skip


class Server:
    """An ASGI server in its own process group, started and stopped by this bench only."""

    def __init__(
        self,
        name: str,
        command: list[str],
        port: int,
        ready_path: str,
        ready_headers: dict[str, str],
        env: dict[str, str] | None = None,
    ):
        self.name, self.command, self.port = name, command, port
        self.env = {**os.environ, **(env or {})}
        self.ready_url = f"http://127.0.0.1:{port}{ready_path}"
        self.ready_headers = ready_headers
        self.log = tempfile.NamedTemporaryFile(prefix="cea-bench-server-", suffix=".log", delete=False)  # noqa: SIM115
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.output()}")
            try:
                # A loopback http:// URL built above, never user input.
                request = urllib.request.Request(self.ready_url, headers=self.ready_headers)  # noqa: S310
                with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.25)
        self.__exit__(None, None, None)
        raise RuntimeError(f"{self.name} did not answer {self.ready_url} within 90s:\n{self.output()}")

    def __exit__(self, *exc_info) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # Our own child and the workers it forked (its process group), by id.
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        # A server's workers may outlive the parent by a moment; wait until the port is free.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-4000:]


@dataclass
class LoadResult:
    """Requests made against one endpoint, possibly over several rounds."""

    requests: int = 0
    seconds: float = 0.0
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    latencies: Timings = field(default_factory=Timings)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def add(self, round_result: dict) -> None:
        self.requests += round_result["requests"]
        self.seconds += round_result["seconds"]
        self.errors += round_result["error_count"]
        for code, count in round_result["statuses"].items():
            self.statuses[code] = self.statuses.get(code, 0) + count
        self.latencies.extend([us * 1000 for us in round_result["latencies_us"]])

    def problems(self) -> str:
        bad = {code: count for code, count in self.statuses.items() if code != "200"}
        if not bad and not self.errors:
            return ""
        return f" (!! statuses {bad}, connection errors {self.errors})"


def load(
    *,
    port: int,
    paths: list[str],
    headers: dict[str, str],
    concurrency: int,
    requests: int,
    warmup: int,
) -> dict:
    """Run the load client in a separate process against 127.0.0.1:port and return its JSON result."""
    command = [
        PYTHON, "-m", "bench.loadgen", "--port", str(port), "--paths", json.dumps(paths),
        "--concurrency", str(concurrency), "--requests", str(requests), "--warmup", str(warmup),
    ]  # fmt: skip
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if finished.returncode != 0:
        raise RuntimeError(f"load client failed:\n{finished.stderr[-4000:]}")
    return json.loads(finished.stdout)


class Socket:
    """A websocket client whose frames a task reads and hands to waiting futures by key.

    ``key_of(frame)`` names the future a frame answers (or ``None``); ``on_frame(socket, frame)``, when
    given, sees every frame first (a desk accepting its offers). A dropped connection fails every
    waiting future with its error.
    """

    def __init__(
        self,
        connection,
        key_of: Callable[[dict], str | None],
        on_frame: Callable[[Socket, dict], Awaitable[None]] | None = None,
    ):
        self.connection = connection
        self.key_of = key_of
        self.on_frame = on_frame
        self.waiting: dict[str, asyncio.Future] = {}
        self.errors: list[dict] = []
        self.reader = asyncio.get_running_loop().create_task(self.read())

    async def read(self) -> None:
        try:
            async for raw in self.connection:
                arrived = time.perf_counter_ns()
                frame = json.loads(raw)
                if frame.get("type") == "error":
                    self.errors.append(frame)
                if self.on_frame is not None:
                    await self.on_frame(self, frame)
                key = self.key_of(frame)
                future = self.waiting.pop(key, None) if key is not None else None
                if future is not None and not future.done():
                    future.set_result((arrived, frame))
        except Exception as error:  # the connection dropped: every waiter learns it
            for future in self.waiting.values():
                if not future.done():
                    future.set_exception(error)

    def expect(self, key: str, *others: str) -> asyncio.Future:
        """A future for the first frame answering ``key`` (or any of ``others``): (arrival ns, frame)."""
        future = asyncio.get_running_loop().create_future()
        for each in (key, *others):
            self.waiting[each] = future
        return future

    async def send(self, frame: dict) -> None:
        await self.connection.send(json.dumps(frame))

    async def close(self) -> None:
        self.reader.cancel()
        await self.connection.close()
