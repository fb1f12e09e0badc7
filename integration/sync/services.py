"""Sync runs: load what a connector says changed into records, page by page, with no lost or doubled work.

How a run stays safe when a worker dies:

- One run per connector at a time: ``sync_run_start`` takes a PostgreSQL *session* advisory lock
  on the connector (``pg_try_advisory_lock``), held by the worker's database connection until the
  run ends. A worker killed mid-run loses its connection, and PostgreSQL releases the lock; a run
  left ``running`` whose lock is free was therefore abandoned, and the next run marks it
  ``failed`` ("superseded") before it starts.
- Each page is loaded in its own transaction together with the connector's new watermark and the
  run's counts: a page is either loaded and remembered, or neither. The next run starts from the
  last watermark committed; a page loaded twice (the one in flight when the worker died, if the
  source cannot resume exactly) changes nothing, because loading is an idempotent upsert.
- Items records refuse go to the dead-letter list (``SyncFailure``) with the reason, in the same
  transaction; the rest of the page still loads. ``sync_failures_replay`` loads them again.

Connector errors (``ConnectorError``) end the run as ``failed`` with the reason; the Celery task
(``tasks.py``) retries those that are not permanent, with exponential backoff and jitter.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from cea.common.errors import ApplicationError, Conflict, NotFound, ValidationFailed
from integration.connectors.base import (
    BaseConnector,
    ConnectorError,
    Page,
    SourceItem,
    connector_for,
    customer_system_of,
)
from integration.connectors.models import Connector
from integration.sync.models import RunStatus, RunTrigger, SyncFailure, SyncRun
from records.holdings.selectors import customer_by_source
from records.holdings.services import (
    CREATED,
    FAILED,
    UNCHANGED,
    UPDATED,
    RowOutcome,
    SourceRow,
    holding_upsert,
    source_customers_load,
    source_rows_prepare,
)

logger = logging.getLogger(__name__)

# Retries of a run that failed for a reason worth retrying: 5 s, 10 s, 20 s … up to 10 minutes.
RETRY_BASE_SECONDS = 5.0
RETRY_MAX_SECONDS = 600.0
RETRY_MAX_ATTEMPTS = 6
# Advisory-lock key space of sync runs (the second key is the connector's id).
_LOCK_SPACE = 0x5E11C  # "sync"
_MAX_ERRORS_KEPT = 50


class SyncBusy(Conflict):
    """Another run of the connector is in progress."""

    code = "sync_busy"


def retry_delay(attempt: int, *, retry_after: float | None = None) -> float:
    """Seconds before retry ``attempt`` (0 for the first): exponential, capped, with jitter.

    "Equal jitter": half the exponential delay, plus a random part up to the other half, so
    workers that failed together do not come back together; never sooner than ``retry_after``
    when the system said when to come back.
    """
    delay = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2**attempt)
    delay = delay / 2 + random.uniform(0, delay / 2)  # jitter, not security
    return max(delay, retry_after or 0.0)


# --- The run lock -------------------------------------------------------------------------------


def _lock_acquire(connector_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_SPACE, connector_id])
        return cursor.fetchone()[0]


def _lock_release(connector_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_SPACE, connector_id])


def sync_run_start(*, connector: Connector, trigger: str = RunTrigger.SCHEDULE, task_id: str = "") -> SyncRun:
    """Start a run of ``connector``: take its lock, supersede abandoned runs, record the new run.

    The lock stays with this database connection until ``sync_run_finish``. Raises ``SyncBusy``
    if another live run holds it, ``ValidationFailed`` for an inactive connector. Call it outside a
    transaction: the lock outlives transactions, and the run row should be visible at once.
    """
    if not connector.is_active and trigger != RunTrigger.REPLAY:
        raise ValidationFailed(f"Connector {connector.name} is switched off.")
    if not _lock_acquire(connector.pk):
        raise SyncBusy(f"Connector {connector.name} is already syncing.")
    try:
        with transaction.atomic():
            now = timezone.now()
            abandoned = SyncRun.objects.filter(connector=connector, status=RunStatus.RUNNING)
            for run in abandoned:
                run.status, run.finished_at = RunStatus.FAILED, now
                run.errors = [*run.errors, "superseded: its worker stopped before the run ended"]
                run.save(update_fields=["status", "finished_at", "errors"])
            connector.refresh_from_db(fields=["watermark", "watermark_at"])
            return SyncRun.objects.create(
                connector=connector,
                trigger=trigger,
                task_id=task_id or "",
                watermark_from=connector.watermark,
                watermark_to=connector.watermark,
            )
    except BaseException:
        _lock_release(connector.pk)
        raise


def sync_run_finish(*, run: SyncRun, error: str = "") -> SyncRun:
    """End ``run`` (failed with ``error``, partial if items failed, else succeeded) and release its lock."""
    try:
        run.refresh_from_db()
        run.finished_at = timezone.now()
        if error:
            run.status = RunStatus.FAILED
            run.errors = [*run.errors, error][-_MAX_ERRORS_KEPT:]
        else:
            run.status = RunStatus.PARTIAL if run.failed else RunStatus.SUCCEEDED
        run.save(update_fields=["status", "finished_at", "errors"])
    finally:
        _lock_release(run.connector_id)
    return run


# --- Loading ------------------------------------------------------------------------------------


@dataclass
class PageCounts:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


def _as_json(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _row_of(item: SourceItem) -> SourceRow:
    fields = dict(item.fields)
    holdings = list(fields.pop("holdings", None) or [])
    external_id = str(fields.get("external_id") or "")
    return SourceRow(external_id=external_id, fields=fields, holdings=holdings)


def _customer_rows(items: Sequence[SourceItem]) -> list[SourceRow]:
    return [_row_of(item) for item in items if item.kind == "customer"]


def _page_prepare(page: Page) -> list[SourceRow]:
    """The page's customer rows, cleaned (no database: runs in the read-ahead thread)."""
    rows = _customer_rows(page.items)
    source_rows_prepare(rows)
    return rows


def items_load(
    *,
    system: str,
    items: Sequence[SourceItem],
    customer_system: str = "",
    rows: Sequence[SourceRow] | None = None,
) -> list[RowOutcome]:
    """Load canonical items into records; one outcome per item, in order (inside the caller's transaction).

    Customers (with their holdings) go through the batch upsert of records; standalone holdings
    find their customer by ``customer_external_id`` in ``customer_system`` (default: ``system``).
    ``rows`` are the customer items as source rows, if already made (and cleaned) by the caller.
    """
    outcomes: list[RowOutcome | None] = [None] * len(items)
    customers = [(index, item) for index, item in enumerate(items) if item.kind == "customer"]
    if customers:
        loaded = source_customers_load(system=system, rows=rows if rows is not None else _customer_rows(items))
        for (index, _), outcome in zip(customers, loaded, strict=True):
            outcomes[index] = outcome
    for index, item in enumerate(items):
        if item.kind == "customer":
            continue
        outcomes[index] = _holding_item_load(system, item, customer_system or system)
    return [outcome for outcome in outcomes if outcome is not None]


def _holding_item_load(system: str, item: SourceItem, customer_system: str) -> RowOutcome:
    fields = item.fields
    if item.kind != "holding":
        return RowOutcome(item.key, FAILED, f"Unknown item kind {item.kind!r}.")
    owner_id = str(fields.get("customer_external_id") or "")
    customer = customer_by_source(system=customer_system, external_id=owner_id) if owner_id else None
    if customer is None:
        return RowOutcome(item.key, FAILED, f"No customer {owner_id!r} from {customer_system} in records yet.")
    try:
        with transaction.atomic():
            _, outcome = holding_upsert(
                system=system,
                customer=customer,
                kind=str(fields.get("kind") or ""),
                external_id=str(fields.get("external_id") or ""),
                fields=fields,
            )
    except ApplicationError as error:
        return RowOutcome(item.key, FAILED, error.message + " " + json.dumps(error.fields))
    return RowOutcome(item.key, outcome, customer_id=customer.pk)


def _load_page_items(
    system: str, items: Sequence[SourceItem], customer_system: str = "", rows: Sequence[SourceRow] | None = None
) -> list[RowOutcome]:
    """The page's items loaded in a savepoint; if the batch as a whole fails, one item at a time."""
    try:
        with transaction.atomic():
            return items_load(system=system, items=items, customer_system=customer_system, rows=rows)
    except DatabaseError:
        logger.exception("A page of %s failed as a batch; loading its items one by one", system)
    outcomes = []
    for item in items:
        try:
            with transaction.atomic():
                outcomes.extend(items_load(system=system, items=[item], customer_system=customer_system))
        except (DatabaseError, ApplicationError) as error:
            outcomes.append(RowOutcome(item.key, FAILED, f"{type(error).__name__}: {error}"))
    return outcomes


def _failure_payload(item: SourceItem | None, key: str, text: str = "") -> dict[str, Any]:
    if item is None:
        return {"key": key, "text": text}
    return _as_json({"kind": item.kind, "key": item.key, "fields": item.fields, "raw": item.raw})


def _commit_without_waiting_for_disk() -> None:
    """The transaction's commit does not wait for its WAL to reach the disk (``synchronous_commit``
    off for this transaction only). A crash may lose the last fraction of a second of commits;
    the database stays consistent, and a lost page loses its watermark with it, so the next run
    loads that page again. It saves the wait for each page's WAL flush, tens of ms a page."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")


def page_load(
    *, run: SyncRun, connector: BaseConnector, page: Page, rows: Sequence[SourceRow] | None = None
) -> PageCounts:
    """Load one page and keep its watermark, all in one transaction; the run's counts move with it."""
    counts = PageCounts(read=len(page.items) + len(page.bad))
    config = connector.config
    with transaction.atomic():
        _commit_without_waiting_for_disk()
        # rows: the page's customer items as source rows, cleaned ahead (_pages_read_ahead).
        outcomes = _load_page_items(config.system, page.items, customer_system_of(config), rows)
        failures = []
        now = timezone.now()
        for item, outcome in zip(page.items, outcomes, strict=True):
            counts.add(outcome.outcome)
            if outcome.outcome == FAILED:
                failures.append((item.key, _failure_payload(item, item.key), outcome.reason))
        bad_text = getattr(connector, "bad_line_text", lambda key: "")
        for key, reason in page.bad:
            counts.failed += 1
            failures.append((key, _failure_payload(None, key, bad_text(key)), reason))
        SyncFailure.objects.bulk_create(
            SyncFailure(connector=config, run=run, record_key=key[:200], payload=payload, reason=reason, created_at=now)
            for key, payload, reason in failures
        )
        page_loaded = getattr(connector, "page_loaded", None)
        if page_loaded is not None:
            page_loaded(page, loaded=counts.read - counts.failed, failed=counts.failed)
        Connector.objects.filter(pk=config.pk).update(watermark=page.watermark[:200], watermark_at=now)
        SyncRun.objects.filter(pk=run.pk).update(
            watermark_to=page.watermark[:200],
            read=F("read") + counts.read,
            created=F("created") + counts.created,
            updated=F("updated") + counts.updated,
            unchanged=F("unchanged") + counts.unchanged,
            failed=F("failed") + counts.failed,
        )
    return counts


def _pages_read_ahead(pages: Iterator[Page]) -> Iterator[tuple[Page, list[SourceRow]]]:
    """``(page, its customer rows cleaned)``; while the caller loads a page, the next one is
    read and its rows are cleaned in a thread.

    Cleaning (names, emails, phone numbers, amounts) is pure Python and a large part of a big
    load's time in this process, while the database takes about as much again: overlapping them
    keeps both busy. The next page is read before this one is committed, except after a page
    that says it must be committed first (a file's last page: the connector moves the file on).
    An error reading ahead is raised after the page in hand has been loaded.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-read-ahead") as pool:
        page = next(pages, None)
        cleaning = pool.submit(_page_prepare, page) if page is not None else None
        while page is not None:
            rows = cleaning.result()
            ahead, error = None, None
            if not page.commit_before_next:
                try:
                    ahead = next(pages, None)
                except Exception as raised:  # raised again once this page is loaded
                    error = raised
                if ahead is not None:
                    cleaning = pool.submit(_page_prepare, ahead)
            yield page, rows
            if error is not None:
                raise error
            if page.commit_before_next:
                ahead = next(pages, None)
                if ahead is not None:
                    cleaning = pool.submit(_page_prepare, ahead)
            page = ahead


def sync_run_execute(*, run: SyncRun, connector: BaseConnector | None = None) -> SyncRun:
    """Load every page the connector gives since the watermark, then finish the run.

    Raises the ``ConnectorError`` that stopped it, after recording it on the run (``failed``).
    """
    try:
        connector = connector or connector_for(run.connector)
        if hasattr(connector, "run_id"):
            connector.run_id = run.pk
        for page, rows in _pages_read_ahead(connector.fetch_since(run.watermark_from)):
            page_load(run=run, connector=connector, page=page, rows=rows)
    except ConnectorError as error:
        sync_run_finish(run=run, error=f"{'permanent' if error.permanent else 'retryable'}: {error.message}")
        raise
    except BaseException as error:
        sync_run_finish(run=run, error=f"{type(error).__name__}: {error}")
        raise
    return sync_run_finish(run=run)


def connector_sync(*, connector_id: int, trigger: str = RunTrigger.SCHEDULE, task_id: str = "") -> SyncRun:
    """Start and execute a run of connector ``connector_id`` (what the Celery task calls)."""
    connector = Connector.objects.filter(pk=connector_id).first()
    if connector is None:
        raise NotFound(f"No connector with id {connector_id}.")
    run = sync_run_start(connector=connector, trigger=trigger, task_id=task_id)
    return sync_run_execute(run=run)


def sync_request(*, connector: Connector, trigger: str = RunTrigger.ON_DEMAND) -> None:
    """Ask a worker to sync ``connector`` once the current transaction commits ("run now")."""
    from integration.sync.tasks import run as run_task  # the task module imports this one

    if not connector.is_active:
        raise ValidationFailed(f"Connector {connector.name} is switched off.")
    run_task.delay_on_commit(connector.pk, trigger)


# --- Dead letters ---------------------------------------------------------------------------------


def sync_failures_replay(*, ids: Iterable[int]) -> list[SyncRun]:
    """Load the dead-lettered items ``ids`` again, in one replay run per connector.

    An item that loads is marked resolved (by that run); one that fails again stays open with
    the new reason and one more attempt. A line that could not be read is read again with the
    connector's current layout (an admin may have fixed it). Returns the replay runs.
    """
    by_connector: dict[int, list[SyncFailure]] = {}
    for failure in SyncFailure.objects.filter(pk__in=list(ids), resolved_at=None).order_by("pk"):
        by_connector.setdefault(failure.connector_id, []).append(failure)
    runs = []
    for connector_id, failures in by_connector.items():
        config = Connector.objects.get(pk=connector_id)
        run = sync_run_start(connector=config, trigger=RunTrigger.REPLAY)
        try:
            connector = connector_for(config)
            for failure in failures:
                _replay_one(run, connector, failure)
        except ConnectorError as error:
            runs.append(sync_run_finish(run=run, error=error.message))
            continue
        except BaseException as error:
            sync_run_finish(run=run, error=f"{type(error).__name__}: {error}")
            raise
        runs.append(sync_run_finish(run=run))
    return runs


def _replay_one(run: SyncRun, connector: BaseConnector, failure: SyncFailure) -> None:
    payload = failure.payload or {}
    counts = PageCounts(read=1)
    with transaction.atomic():
        reason = ""
        try:
            if "fields" in payload:
                item = SourceItem(
                    kind=payload.get("kind") or "customer", key=failure.record_key, fields=payload["fields"]
                )
            elif hasattr(connector, "reparse"):
                item = connector.reparse({**payload, "key": failure.record_key})
            else:
                raise ConnectorError("Nothing to load again: the failure holds no item.", permanent=True)
            (outcome,) = _load_page_items(connector.config.system, [item])
            counts.add(outcome.outcome)
            reason = outcome.reason
        except ConnectorError as error:
            counts.failed, reason = 1, error.message
        now = timezone.now()
        if counts.failed:
            SyncFailure.objects.filter(pk=failure.pk).update(reason=reason, attempts=F("attempts") + 1)
        else:
            SyncFailure.objects.filter(pk=failure.pk).update(
                resolved_at=now, resolved_by_run=run, attempts=F("attempts") + 1
            )
        SyncRun.objects.filter(pk=run.pk).update(
            read=F("read") + 1,
            created=F("created") + counts.created,
            updated=F("updated") + counts.updated,
            unchanged=F("unchanged") + counts.unchanged,
            failed=F("failed") + counts.failed,
        )


__all__ = [
    "CREATED",
    "FAILED",
    "UNCHANGED",
    "UPDATED",
    "SyncBusy",
    "connector_sync",
    "page_load",
    "retry_delay",
    "sync_failures_replay",
    "sync_request",
    "sync_run_execute",
    "sync_run_finish",
    "sync_run_start",
]
