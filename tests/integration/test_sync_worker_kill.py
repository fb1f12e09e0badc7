"""A real Celery worker killed in the middle of a sync: the next run completes with no loss and no duplicate."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from django.db.models import Count

from integration.sync import tasks
from integration.sync.models import ProcessedFile, RunStatus, SyncFailure, SyncRun
from integration.sync.services import SyncBusy, connector_sync
from records.customers.models import Customer
from records.holdings.models import Holding, SourceRecord
from records.identities.models import Identity
from tests.integration.flatfile_support import drop_extract, flatfile_connector, loaded_state
from tests.support import child_environment

ROOT = Path(__file__).resolve().parents[2]
CUSTOMERS = 30_000
PAGE_SIZE = 250


def _start_worker(queue: str, log) -> subprocess.Popen:
    """``celery -A cea worker`` on the test database, consuming only ``queue``, in its own process group."""
    env = child_environment(CEA_CELERY_QUEUE=queue)
    command = [
        sys.executable, "-m", "celery", "-A", "cea", "worker", "--pool=solo", "--concurrency=1",
        "-Q", queue, "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "warning",
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _wait_for(condition, *, seconds: float, what: str, worker: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        if worker.poll() is not None:
            break
        time.sleep(0.05)
    log.flush()
    raise AssertionError(f"Timed out waiting for {what}; worker log:\n{Path(log.name).read_text()[-3000:]}")


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_sync_leaves_a_state_the_next_run_completes(tmp_path):
    # Given a big extract (with bad lines) and a real worker syncing it page by page
    extract = drop_extract(tmp_path, CUSTOMERS, bad_every=997)
    config = flatfile_connector(tmp_path, page_size=PAGE_SIZE)
    queue = f"cea-test-sync-{uuid.uuid4().hex[:8]}"
    log = tempfile.NamedTemporaryFile(prefix="cea-test-worker-", suffix=".log", delete=False)  # noqa: SIM115
    worker = _start_worker(queue, log)
    try:
        tasks.run.apply_async(args=[config.pk, "on_demand"], queue=queue)

        # When the run has committed some pages, the worker is killed without warning
        def some_pages_committed() -> bool:
            run = SyncRun.objects.filter(connector=config).first()
            return run is not None and run.read >= 4 * PAGE_SIZE

        _wait_for(some_pages_committed, seconds=120, what="the first pages", worker=worker, log=log)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
        log.close()
        Path(log.name).unlink(missing_ok=True)

    killed = SyncRun.objects.get(connector=config)
    assert killed.status == RunStatus.RUNNING
    assert 0 < killed.read < CUSTOMERS
    assert ProcessedFile.objects.get().completed_at is None

    # Then the next run (once PostgreSQL has noticed the dead session) supersedes it and finishes the file
    deadline = time.monotonic() + 30
    while True:
        try:
            run = connector_sync(connector_id=config.pk, trigger="on_demand")
            break
        except SyncBusy:
            assert time.monotonic() < deadline, "the dead worker's lock was never released"
            time.sleep(0.1)
    killed.refresh_from_db()
    assert killed.status == RunStatus.FAILED
    assert run.status == RunStatus.PARTIAL

    # And every line is loaded exactly once: nothing lost, nothing doubled
    bad = {number for number, _ in extract.bad_lines}
    good = CUSTOMERS - len(bad)
    assert killed.read + run.read == CUSTOMERS
    assert killed.created + run.created == good
    assert loaded_state() == {"customers": good, "all_customers": good, "source_records": good, "holdings": good}
    assert SourceRecord.objects.values("external_id").annotate(n=Count("id")).filter(n__gt=1).count() == 0
    assert Holding.objects.values("external_id").annotate(n=Count("id")).filter(n__gt=1).count() == 0
    assert Identity.objects.filter(kind="account").count() == good
    assert Customer.objects.filter(journey_events__kind="customer.created").count() == good
    assert sorted(SyncFailure.objects.values_list("record_key", flat=True)) == sorted(
        f"{extract.path.name}:{number}" for number in bad
    )
    processed = ProcessedFile.objects.get()
    assert (processed.lines, processed.loaded, processed.bad_lines) == (CUSTOMERS + 2, good, len(bad))
    assert processed.completed_at is not None
