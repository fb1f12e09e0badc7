"""The sync task: retries with exponential backoff and jitter, permanent errors, busy runs, run on demand."""

from __future__ import annotations

import psycopg
import pytest
from celery.exceptions import Retry
from django.db import connection

from integration.connectors.base import ConnectorError
from integration.sync import tasks
from integration.sync.models import RunStatus, SyncRun
from integration.sync.services import RETRY_MAX_ATTEMPTS, RETRY_MAX_SECONDS, sync_request
from integration.sync.tasks import retry_countdown
from tests.integration.flatfile_support import drop_extract, flatfile_connector, loaded_state
from tests.support import eager_celery

pytestmark = pytest.mark.django_db


def _run_as_retry_number(retries: int, *args):
    """Run the task body as Celery would on its ``retries``-th retry, eagerly (retries raise ``Retry``)."""
    tasks.run.push_request(id=f"task-{retries}", retries=retries, is_eager=True, called_directly=False)
    try:
        return tasks.run.run(*args)
    finally:
        tasks.run.pop_request()


@pytest.mark.parametrize(("retries", "low", "high"), [(0, 2.5, 5), (1, 5, 10), (3, 20, 40), (12, 300, 600)])
def test_retry_countdown_is_exponential_capped_and_jittered(retries, low, high):
    delays = {retry_countdown(retries) for _ in range(200)}

    assert all(low <= delay <= high for delay in delays)
    assert len(delays) > 100  # jitter: workers that failed together come back apart


def test_retry_countdown_respects_retry_after():
    assert all(retry_countdown(0, retry_after=120) == 120 for _ in range(50))
    assert all(retry_countdown(10, retry_after=1) >= 300 for _ in range(50))


def test_a_retry_after_beyond_the_cap_is_capped():
    # Given a system that asks to be left alone for a day, when the next try is scheduled,
    # then it is asked again after the cap (10 minutes), not after a day
    assert all(retry_countdown(0, retry_after=86_400) == RETRY_MAX_SECONDS for _ in range(50))


def test_a_retryable_failure_schedules_a_retry_with_backoff(tmp_path):
    # Given a connector whose drop folder is not mounted (worth trying again)
    config = flatfile_connector(tmp_path / "not-mounted")

    # When the task runs for the third time (two retries so far)
    with pytest.raises(Retry) as retry:
        _run_as_retry_number(2, config.pk, "schedule")

    # Then it is retried after 10-20 s, and the failed run says why
    assert 10 <= retry.value.when <= 20
    assert isinstance(retry.value.exc, ConnectorError)
    run = SyncRun.objects.get()
    assert run.status == RunStatus.FAILED and run.errors[0].startswith("retryable:")


def test_retries_stop_after_the_last_attempt(tmp_path):
    config = flatfile_connector(tmp_path / "not-mounted")

    with pytest.raises(ConnectorError, match="drop folder"):
        _run_as_retry_number(RETRY_MAX_ATTEMPTS + 1, config.pk, "schedule")


def test_a_permanent_failure_is_not_retried(tmp_path):
    config = flatfile_connector(tmp_path)
    config.settings = {**config.settings, "layout": [{"name": "X", "start": 1, "length": 2, "type": "COMP-3"}]}
    config.save()

    result = _run_as_retry_number(0, config.pk, "schedule")

    assert result["failed"].startswith("Connector custmast: Field 'X': unknown type 'COMP-3'")
    assert SyncRun.objects.get().errors[0].startswith("permanent:")


def test_the_next_attempt_after_a_retryable_failure_completes_the_work(tmp_path):
    # Given a first attempt that failed while the folder was away
    folder = tmp_path / "drop"
    config = flatfile_connector(folder)
    with pytest.raises(Retry):
        _run_as_retry_number(0, config.pk, "schedule")

    # When the folder is back and the retry runs
    folder.mkdir()
    drop_extract(folder, 30)
    result = _run_as_retry_number(1, config.pk, "schedule")

    # Then the retry loads everything
    assert result["status"] == RunStatus.SUCCEEDED
    assert loaded_state()["customers"] == 30


def test_run_now_sends_the_task_on_commit(tmp_path, django_capture_on_commit_callbacks):
    drop_extract(tmp_path, 12)
    config = flatfile_connector(tmp_path)
    eager = eager_celery()
    next(eager)
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            sync_request(connector=config)
            assert not SyncRun.objects.exists()  # nothing is sent before the commit
    finally:
        next(eager, None)

    assert len(callbacks) == 1
    run = SyncRun.objects.get()
    assert (run.trigger, run.status, run.created) == ("on_demand", RunStatus.SUCCEEDED, 12)


def test_a_task_for_a_connector_gone_or_switched_off_does_nothing(tmp_path):
    config = flatfile_connector(tmp_path)
    config.is_active = False
    config.save()

    assert _run_as_retry_number(0, config.pk, "schedule") == {
        "connector": config.pk,
        "skipped": "Connector custmast is switched off.",
    }
    assert _run_as_retry_number(0, 999_999, "schedule") == {
        "connector": 999_999,
        "skipped": "No connector with id 999999.",
    }
    assert not SyncRun.objects.exists()


def test_a_task_while_another_worker_runs_the_connector_is_skipped(tmp_path):
    # Given another worker's database session holding the connector's run lock
    config = flatfile_connector(tmp_path)
    db = connection.settings_dict
    other = psycopg.connect(
        dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"], password=db["PASSWORD"]
    )
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [0x5E11C, config.pk])

        # When the task runs, then it leaves the work to the live run
        assert _run_as_retry_number(0, config.pk, "schedule") == {"connector": config.pk, "skipped": "busy"}
    finally:
        other.close()
    assert not SyncRun.objects.exists()
