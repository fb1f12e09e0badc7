"""``python -m cea.runtime``: run CEA on one machine.

    python -m cea.runtime run            # embedded servers (unless DATABASE_URL is set), migrate,
                                         # demo data once, then web (ASGI), Celery worker and beat
    python -m cea.runtime exec -- CMD    # run CMD with the embedded servers started and their
                                         # URLs exported (what `make test` uses without DATABASE_URL)
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
from collections.abc import Sequence

from cea.common.env import env_int, env_str
from cea.runtime import embedded

PYTHON = sys.executable


def _stack_mode() -> bool:
    return bool(os.environ.get("DATABASE_URL"))


def _start_embedded() -> bool:
    """Start the embedded servers unless in stack mode; return whether this call started them.

    Child processes find the servers through the state file in the data folder (see settings).
    """
    if _stack_mode():
        return False
    previous = embedded.read_state()
    already_running = (
        previous is not None
        and embedded._redis_alive(previous.redis_url)
        and (embedded.data_dir() / "postgres" / "postmaster.pid").exists()
    )
    urls = embedded.start()
    print(f"CEA embedded servers ({embedded.data_dir()}):", flush=True)
    print(f"  PostgreSQL {urls.database_url}", flush=True)
    print("  Redis      redis://127.0.0.1 (password in .data/redis/password)", flush=True)
    return not already_running


def _exec(command: Sequence[str]) -> int:
    started = _start_embedded()
    try:
        return subprocess.call(list(command))
    finally:
        if started:
            embedded.stop()


class _Supervisor:
    """Starts child processes in their own process groups and stops them together."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.stopping = False

    def spawn(self, name: str, argv: list[str]) -> None:
        process = subprocess.Popen(argv, env=self.env, start_new_session=True)
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

    def wait(self) -> int:
        """Block until a signal arrives or a child dies; return the exit code."""
        while not self.stopping:
            for name, process in self.children:
                if process.poll() is not None:
                    print(f"CEA: {name} exited with code {process.returncode}; stopping the rest.", flush=True)
                    self.stop()
                    return 1
            time.sleep(0.5)
        return 0


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], env=env, check=True, cwd=embedded.PROJECT_DIR)


def _sample_systems(port: int) -> list[str]:
    """The arguments of ``python -m integration.sample_systems serve`` (and, from ``--port-base``
    on, of ``load_demo_connectors``): the legacy systems on loopback ports from
    ``CEA_SAMPLE_SYSTEMS_PORT_BASE`` (default: the web port + 100), their secrets under the data
    folder (inside the connectors' secret folder), the legacy customer database beside CEA's (``<name>_legacy``)."""
    import dj_database_url

    from integration.sample_systems.demo import legacy_database_url

    base = env_int("CEA_SAMPLE_SYSTEMS_PORT_BASE", min(port + 100, 65000), minimum=1, maximum=65533)
    state = embedded.read_state()
    database_url = os.environ.get("DATABASE_URL") or (state.database_url if state else "")
    legacy_url = legacy_database_url(dj_database_url.parse(database_url))
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
    started = _start_embedded()
    env = dict(os.environ)
    supervisor = _Supervisor(env)
    signal.signal(signal.SIGINT, supervisor.stop)
    signal.signal(signal.SIGTERM, supervisor.stop)
    code = 0
    try:
        _manage(env, "migrate", "--no-input", "-v", "0")
        _manage(env, "collectstatic", "--no-input", "-v", "0")
        _manage(env, "load_demo_data")
        _manage(env, "ensure_demo_logins")
        _manage(env, "load_demo_flows")
        _manage(env, "load_demo_routing")
        _manage(env, "ensure_demo_site", "--port", str(port))
        samples = _sample_systems(port)
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
                "--lifespan",
                "off",
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
