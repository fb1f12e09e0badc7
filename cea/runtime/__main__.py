"""``python -m cea.runtime``: run CEA on one machine.

    python -m cea.runtime run            # embedded servers (unless DATABASE_URL is set), migrate,
                                         # demo data once, the KPI rollups, the demo's insights
                                         # once, then web (ASGI), Celery worker and beat
    python -m cea.runtime exec -- CMD    # run CMD with the embedded servers started and what
                                         # reaches them exported: DATABASE_URL, REDIS_URL,
                                         # SECRET_KEY, CEA_EMBEDDED=1 (what `make test` uses
                                         # without DATABASE_URL)
    python -m cea.runtime stop           # stop the embedded servers of this data folder

Ctrl-C (SIGINT) or SIGTERM stops every process this command started, in order.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence

from cea.common.env import env_int, env_str
from cea.runtime import embedded

PYTHON = sys.executable


def _stack_mode() -> bool:
    return bool(os.environ.get("DATABASE_URL"))


def _start_embedded() -> tuple[bool, dict[str, str]]:
    """Start the embedded servers unless in stack mode.

    Returns whether this call started them, and the environment for child processes: this
    process's own, plus (embedded) what reaches the servers (``embedded.environment``).
    """
    if _stack_mode():
        return False, dict(os.environ)
    previous = embedded.read_state()
    already_running = (
        previous is not None
        and embedded.redis_alive(previous.redis_url)
        and (embedded.data_dir() / "postgres" / "postmaster.pid").exists()
    )
    urls = embedded.start()
    print(f"CEA embedded servers ({embedded.data_dir()}):", flush=True)
    print(f"  PostgreSQL {urls.database_url}", flush=True)
    print("  Redis      redis://127.0.0.1 (password in .data/redis/password)", flush=True)
    return not already_running, {**os.environ, **embedded.environment(urls)}


def _exec(command: Sequence[str]) -> int:
    started, env = _start_embedded()
    try:
        return subprocess.call(list(command), env=env)
    finally:
        if started:
            embedded.stop()


class _Supervisor:
    """Starts child processes in their own process groups, restarts one that dies, and stops them together.

    A child that exits while the platform runs (a Celery worker killed, or one that gave up when
    Redis restarted under it) is started again, as a process manager would; one that keeps dying
    (more than ``RESTART_LIMIT`` times within ``RESTART_WINDOW`` seconds) stops everything, so a
    broken set-up is told rather than looped on.
    """

    RESTART_LIMIT = 5
    RESTART_WINDOW = 60.0

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.commands: dict[str, list[str]] = {}
        self.restarts: dict[str, list[float]] = {}
        self.stopping = False

    def spawn(self, name: str, argv: list[str]) -> None:
        process = subprocess.Popen(argv, env=self.env, start_new_session=True)
        self.commands[name] = argv
        self.children = [(other, child) for other, child in self.children if other != name]
        self.children.append((name, process))

    def stop(self, *_: object) -> None:
        if self.stopping:
            return
        self.stopping = True
        print("\nCEA: stopping…", flush=True)
        for _name, process in reversed(self.children):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for name, process in reversed(self.children):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"CEA: {name} did not stop in time; killing it.", flush=True)
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def wait(self, *, poll_seconds: float = 0.5) -> int:
        """Block until a signal arrives or a child keeps dying; restart a child that died. The exit code."""
        while not self.stopping:
            for name, process in list(self.children):
                if process.poll() is None:
                    continue
                now = time.monotonic()
                recent = [at for at in self.restarts.get(name, []) if now - at < self.RESTART_WINDOW]
                if len(recent) >= self.RESTART_LIMIT:
                    print(
                        f"CEA: {name} exited with code {process.returncode}, its {len(recent) + 1}th exit within"
                        f" {self.RESTART_WINDOW:.0f} s; stopping the rest.",
                        flush=True,
                    )
                    self.stop()
                    return 1
                print(f"CEA: {name} exited with code {process.returncode}; starting it again.", flush=True)
                self.restarts[name] = [*recent, now]
                self.spawn(name, self.commands[name])
            time.sleep(poll_seconds)
        return 0


def _wait_until_healthy(supervisor: _Supervisor, host: str, port: int, timeout: float = 300) -> bool:
    """Poll ``/health/`` until it answers 200 (web, PostgreSQL, Redis and a worker all answer).

    False if a child died or Ctrl-C came first; after ``timeout`` it says what is still
    failing and keeps waiting, so a slow machine is told rather than left guessing.
    """
    probe_host = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host  # noqa: S104 - a probe, not a bind
    url = f"http://{probe_host}:{port}/health/"
    deadline = time.monotonic() + timeout
    while not supervisor.stopping:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass  # not serving yet (refused), or 503 while the worker starts
        for name, process in supervisor.children:
            if process.poll() is not None:
                print(f"CEA: {name} exited with code {process.returncode} while starting.", flush=True)
                return False
        if time.monotonic() > deadline:
            print(f"CEA: still waiting for {url} to answer 200 (sign in as the demo admin to see why).", flush=True)
            deadline = time.monotonic() + timeout
        time.sleep(1)
    return False


# The set-up before the servers start, in order; each a management command, its time printed.
SETUP_STEPS: tuple[tuple[str, ...], ...] = (
    ("migrate", "--no-input", "-v", "0"),
    ("collectstatic", "--no-input", "-v", "0"),
    ("load_demo_data",),
    ("ensure_demo_logins",),
    ("load_demo_flows",),
    ("load_demo_routing",),
    # Workforce management: the roster, forecasts, requirements and schedules (engagement/wfm/demo.py).
    ("load_demo_wfm",),
    # The KPIs' rollups: the whole history the first time, then what changed (beat keeps them current).
    ("insights_rebuild", "--changed"),
    # Personas, journey stages, scores and the demo strategies, once (insights/demo/services.py).
    ("load_demo_insights",),
)


def _manage(env: dict[str, str], *args: str) -> None:
    """Run one set-up step (a management command) and say how long it took."""
    began = time.monotonic()
    subprocess.run([PYTHON, "manage.py", *args], env=env, check=True, cwd=embedded.PROJECT_DIR)
    print(f"CEA: {args[0]} took {time.monotonic() - began:.1f} s", flush=True)


def _sample_systems(port: int, env: dict[str, str]) -> list[str]:
    """The arguments of ``python -m integration.sample_systems serve`` (and, from ``--port-base``
    on, of ``load_demo_connectors``): the legacy systems on loopback ports from
    ``CEA_SAMPLE_SYSTEMS_PORT_BASE`` (default: the web port + 100), their secrets under the data
    folder (inside the connectors' secret folder), the legacy customer database beside CEA's (``<name>_legacy``)."""
    import dj_database_url

    from integration.sample_systems.demo import legacy_database_url

    base = env_int("CEA_SAMPLE_SYSTEMS_PORT_BASE", min(port + 100, 65000), minimum=1, maximum=65533)
    legacy_url = legacy_database_url(dj_database_url.parse(env["DATABASE_URL"]))
    secrets_dir = embedded.connector_secret_dir() / "sample-systems"
    return [
        "--host",
        "127.0.0.1",
        "--port-base",
        str(base),
        "--secrets-dir",
        str(secrets_dir),
        "--legacy-db-url",
        legacy_url,
    ]


def _run(host: str, port: int, web_workers: int) -> int:
    started, env = _start_embedded()
    supervisor = _Supervisor(env)
    signal.signal(signal.SIGINT, supervisor.stop)
    signal.signal(signal.SIGTERM, supervisor.stop)
    code = 0
    try:
        for step in SETUP_STEPS:
            _manage(env, *step)
        _manage(env, "ensure_demo_site", "--port", str(port))
        samples = _sample_systems(port, env)
        _manage(env, "load_demo_connectors", *samples, "--sync")
        if supervisor.stopping:
            return 0
        supervisor.spawn("sample-systems", [PYTHON, "-m", "integration.sample_systems", "serve", *samples])
        supervisor.spawn(
            "web",
            [
                PYTHON,
                "-m",
                "uvicorn",
                "cea.asgi:application",
                "--host",
                host,
                "--port",
                str(port),
                "--workers",
                str(web_workers),
                "--no-access-log",
                # The client's address is read one way, by cea.common.client_ip
                # (CEA_TRUSTED_PROXY_COUNT): uvicorn must not rewrite it from X-Forwarded-For.
                "--no-proxy-headers",
                "--lifespan",
                "off",
                # The largest websocket message (uvicorn's default is 16 MiB); the consumers check it too.
                "--ws-max-size",
                str(env_int("CEA_WS_MAX_BYTES", 64 * 1024, minimum=1024)),
            ],
        )
        supervisor.spawn(
            "worker",
            [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "cea",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "2",
                "--hostname",
                "worker@%h",
            ],
        )
        supervisor.spawn(
            "beat",
            [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "cea",
                "beat",
                "--loglevel",
                "INFO",
                "--scheduler",
                "django_celery_beat.schedulers:DatabaseScheduler",
                "--pidfile",
                "",
            ],
        )
        if env_str("CEA_SMTP_RECIPIENTS", "").strip():
            # Email in over SMTP (docs/channels.md), only when told whom to accept mail for: opt-in,
            # so that a port already taken never stops `make run` for everyone else.
            smtp_port = str(env_int("CEA_SMTP_PORT", 2525, minimum=1, maximum=65535))
            supervisor.spawn(
                "smtp",
                [PYTHON, str(embedded.PROJECT_DIR / "manage.py"), "smtp_server", "--host", host, "--port", smtp_port],
            )
        print("CEA: starting web, worker and beat; waiting until /health/ says every part answers…", flush=True)
        if not _wait_until_healthy(supervisor, host, port):
            return 0 if supervisor.stopping else 1
        print(f"CEA is running on http://{host}:{port}/  (Ctrl-C stops everything)", flush=True)
        print(f"  web chat demo: http://{host}:{port}/demo/shop/", flush=True)
        print(f"  sample legacy systems on 127.0.0.1:{samples[3]} (billing) and the next port (orders)", flush=True)
        code = supervisor.wait()
    except subprocess.CalledProcessError as exc:
        print(f"CEA: set-up step failed: {exc}", file=sys.stderr, flush=True)
        code = exc.returncode or 1
    finally:
        supervisor.stop()
        if started:
            embedded.stop()
            print("CEA: embedded PostgreSQL and Redis stopped.", flush=True)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cea.runtime", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="serve web, worker and beat with demo data")
    run.add_argument("--host", default=env_str("CEA_HOST", "127.0.0.1"))
    run.add_argument("--port", type=int, default=env_int("PORT", 8000, minimum=1, maximum=65535))
    run.add_argument("--web-workers", type=int, default=env_int("WEB_CONCURRENCY", 1, minimum=1))
    run_exec = commands.add_parser("exec", help="run a command against the embedded servers")
    run_exec.add_argument("cmd", nargs=argparse.REMAINDER)
    commands.add_parser("stop", help="stop the embedded servers")
    args = parser.parse_args(argv)

    os.chdir(embedded.PROJECT_DIR)
    if args.command == "run":
        return _run(args.host, args.port, args.web_workers)
    if args.command == "exec":
        cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
        if not cmd:
            parser.error("exec needs a command after --")
        return _exec(cmd)
    embedded.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
