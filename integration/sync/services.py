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
- A holding whose customer is not in records *yet* (its customer system, ``customer_system_of``,
  has not brought them in: nightly jobs run in no fixed order) is not lost and needs no human: its
  failure is kept as *waiting for its customer* (``permanent=False``) and loaded again
  automatically once the customer is there: after each run of the customer system that ends
  (``sync_failures_retry_waiting``) and at the end of the holding's own connector's next runs.
  Each run of the customer system that still does not bring the customer counts one attempt;
  after ``CUSTOMER_WAIT_ATTEMPTS`` the failure becomes an ordinary dead letter (``permanent``)
  for a human to look at. The same item read again while it waits updates its one failure
  (no duplicates), and loading it by any path resolves it (it counts once, where it loaded).

Connector errors (``ConnectorError``) end the run as ``failed`` with the reason; the Celery task
(``tasks.py``) retries those that are not permanent, with exponential backoff and jitter.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from cea.common.errors import ApplicationError, Conflict, NotFound, ValidationFailed
from cea.common.redact import redact_cards, redact_cards_value
from cea.common.tasks import send_on_commit
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
from records.holdings.selectors import customer_by_source, source_ids_known
from records.holdings.services import (
    CREATED,
    FAILED,
    UNCHANGED,
    UPDATED,
    RowOutcome,
    SourceRow,
    holding_upsert,
    source_customers_load,
)

logger = logging.getLogger(__name__)

# Retries of a run that failed for a reason worth retrying (``integration.retry.backoff_seconds``):
# 5 s, 10 s, 20 s … up to 10 minutes, a Retry-After included.
RETRY_BASE_SECONDS = 5.0
RETRY_MAX_SECONDS = 600.0
RETRY_MAX_ATTEMPTS = 6
# Advisory-lock key space of sync runs (the second key is the connector's id).
_LOCK_SPACE = 0x5E11C  # "sync"
_MAX_ERRORS_KEPT = 50
# A holding waiting for its customer is tried this many times in all (its first load included; each
# later run of its customer system that still lacks the customer is one more) before a human is asked.
CUSTOMER_WAIT_ATTEMPTS = 5


class SyncBusy(Conflict):
    """Another run of the connector is in progress."""

    code = "sync_busy"


# --- The run lock -------------------------------------------------------------------------------


def _lock_acquire(connector_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_SPACE, connector_id])
        return bool(cursor.fetchone()[0])


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
            run.errors = [*run.errors, redact_cards(error)][-_MAX_ERRORS_KEPT:]
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


def items_load(*, system: str, items: Sequence[SourceItem], customer_system: str = "") -> list[RowOutcome]:
    """Load canonical items into records; one outcome per item, in order (inside the caller's transaction).

    Customers (with their holdings) go through the batch upsert of records; standalone holdings
    find their customer by ``customer_external_id`` in ``customer_system`` (default: ``system``).
    """
    outcomes: list[RowOutcome | None] = [None] * len(items)
    customers = [(index, item) for index, item in enumerate(items) if item.kind == "customer"]
    if customers:
        loaded = source_customers_load(system=system, rows=[_row_of(item) for _, item in customers])
        for (index, _), outcome in zip(customers, loaded, strict=True):
            outcomes[index] = outcome
    for index, item in enumerate(items):
        if item.kind == "customer":
            continue
        outcomes[index] = _holding_item_load(system, item, customer_system or system)
    return [outcome for outcome in outcomes if outcome is not None]


@dataclass
class CustomerNotYetKnown(RowOutcome):
    """A holding refused only because its customer is not in records yet: worth loading again later."""


def _holding_item_load(system: str, item: SourceItem, customer_system: str) -> RowOutcome:
    fields = item.fields
    if item.kind != "holding":
        return RowOutcome(item.key, FAILED, f"Unknown item kind {item.kind!r}.")
    owner_id = str(fields.get("customer_external_id") or "")
    if not owner_id:
        return RowOutcome(item.key, FAILED, "The holding names no customer (customer_external_id is empty).")
    customer = customer_by_source(system=customer_system, external_id=owner_id)
    if customer is None:
        return CustomerNotYetKnown(item.key, FAILED, f"No customer {owner_id!r} from {customer_system} in records yet.")
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


def _load_page_items(system: str, items: Sequence[SourceItem], customer_system: str = "") -> list[RowOutcome]:
    """The page's items loaded in a savepoint; if the batch as a whole fails, one item at a time."""
    try:
        with transaction.atomic():
            return items_load(system=system, items=items, customer_system=customer_system)
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


def _failure_payload(connector: BaseConnector, item: SourceItem | None, key: str, text: str = "") -> dict[str, Any]:
    """What the dead-letter list keeps to replay the item: its card data masked (``cea.common.redact``;
    the connector masks its own raw form, a line field by field), the rest as the back-end sent it
    (a replay loads it into the profile)."""
    if item is None:
        return {"key": key, "text": connector.dead_letter_line(text)}
    payload: dict[str, Any] = _as_json(
        {
            "kind": item.kind,
            "key": item.key,
            "fields": redact_cards_value(item.fields),
            "raw": connector.dead_letter_raw(item.raw),
        }
    )
    return payload


def _commit_without_waiting_for_disk() -> None:
    """The transaction's commit does not wait for its WAL to reach the disk (``synchronous_commit``
    off for this transaction only). A crash may lose the last fraction of a second of commits;
    the database stays consistent, and a lost page loses its watermark with it, so the next run
    loads that page again. It saves the wait for each page's WAL flush, tens of ms a page."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")


def page_load(*, run: SyncRun, connector: BaseConnector, page: Page) -> PageCounts:
    """Load one page and keep its watermark, all in one transaction; the run's counts move with it.

    An item that already waits for its customer (an open failure of this connector with its key)
    updates that failure instead of adding one: resolved by this run if it loads now, the new
    reason if not. Locks those failures (``select_for_update``) for the page's transaction.
    """
    if getattr(page, "whole_file", False):
        # A large file read from its start: loaded whole (the first-load path, which imports this module).
        from integration.sync.firstload import whole_file_load

        return whole_file_load(run=run, connector=connector, page=page)  # type: ignore[arg-type]
    counts = PageCounts(read=len(page.items) + len(page.bad))
    config = connector.config
    with transaction.atomic():
        _commit_without_waiting_for_disk()
        outcomes = _load_page_items(config.system, page.items, customer_system_of(config))
        failures = []
        now = timezone.now()
        waiting = _waiting_failures_of(config, [item.key[:200] for item in page.items if item.kind == "holding"])
        for item, outcome in zip(page.items, outcomes, strict=True):
            counts.add(outcome.outcome)
            earlier = waiting.get(item.key[:200]) if item.kind == "holding" else None
            if earlier is not None:
                _waiting_failure_read_again(connector, earlier, item, outcome, run=run, now=now)
            elif outcome.outcome == FAILED:
                waits = isinstance(outcome, CustomerNotYetKnown)
                failures.append((item.key, _failure_payload(connector, item, item.key), outcome.reason, not waits))
        bad_text = getattr(connector, "bad_line_text", lambda key: "")
        for key, reason in page.bad:
            counts.failed += 1
            failures.append((key, _failure_payload(connector, None, key, bad_text(key)), reason, True))
        sync_failures_record(config=config, run=run, failures=failures, now=now)
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


def _waiting_failures_of(config: Connector, keys: list[str]) -> dict[str, SyncFailure]:
    """The open failures of ``config`` waiting for their customer, by key, locked for the transaction."""
    if not keys:
        return {}
    waiting = SyncFailure.objects.select_for_update().filter(
        connector=config, record_key__in=keys, resolved_at=None, permanent=False
    )
    return {failure.record_key: failure for failure in waiting.order_by("pk")}


def _waiting_failure_read_again(
    connector: BaseConnector,
    failure: SyncFailure,
    item: SourceItem,
    outcome: RowOutcome,
    *,
    run: SyncRun,
    now: datetime,
) -> None:
    """A normal run read again an item that waits for its customer: it loaded, waits on, or fails otherwise."""
    if outcome.outcome != FAILED:
        failure.resolved_at, failure.resolved_by_run = now, run
        failure.save(update_fields=["resolved_at", "resolved_by_run"])
        return
    failure.payload, failure.reason = _failure_payload(connector, item, item.key), redact_cards(outcome.reason)
    failure.permanent = not isinstance(outcome, CustomerNotYetKnown)
    failure.save(update_fields=["payload", "reason", "permanent"])


def sync_run_execute(*, run: SyncRun, connector: BaseConnector | None = None) -> SyncRun:
    """Load every page the connector gives since the watermark, finish the run, then retry what waited for it.

    Once the run has ended well, holdings that were waiting for a customer this run may have
    brought (or, for its own connector, that another run brought since) are loaded again
    (``sync_failures_retry_waiting``); a failure there is logged, never the run's.

    Raises the ``ConnectorError`` that stopped it, after recording it on the run (``failed``).
    """
    try:
        connector = connector or connector_for(run.connector)
        if hasattr(connector, "run_id"):
            connector.run_id = run.pk
        for page in connector.fetch_since(run.watermark_from):
            page_load(run=run, connector=connector, page=page)
    except ConnectorError as error:
        sync_run_finish(run=run, error=f"{'permanent' if error.permanent else 'retryable'}: {error.message}")
        raise
    except BaseException as error:
        sync_run_finish(run=run, error=f"{type(error).__name__}: {error}")
        raise
    finished = sync_run_finish(run=run)
    _retry_waiting_after(finished)
    return finished


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
    send_on_commit(run_task, connector.pk, trigger)


# --- Dead letters ---------------------------------------------------------------------------------


def sync_failures_replay(*, ids: Iterable[int]) -> list[SyncRun]:
    """Load the dead-lettered items ``ids`` again, in one replay run per connector.

    An item that loads is marked resolved (by that run); one that fails again stays open with
    the new reason and one more attempt. A line that could not be read is read again with the
    connector's current layout (an admin may have fixed it). A replay that loaded something may
    have brought customers that holdings wait for: those are loaded too, in replay runs of their
    own connectors (``sync_failures_retry_waiting``). Returns every replay run, those first.
    Raises ``SyncBusy`` if a connector of ``ids`` is running.
    """
    runs = _failures_replay(_open_failures_by_connector(SyncFailure.objects.filter(pk__in=list(ids))))
    for run in list(runs):
        if run.status != RunStatus.FAILED and run.read > run.failed:
            runs += sync_failures_retry_waiting(after_run=run)
    return runs


def sync_failures_retry_waiting(*, after_run: SyncRun) -> list[SyncRun]:
    """After ``after_run`` ended well, load again the holdings waiting for a customer it may have brought.

    "Ended well": succeeded, or partial (most of it loaded). Which holdings: the open failures
    waiting for their customer (``permanent=False``) of every connector whose customer system
    (``customer_system_of``) is the run's system, and of the run's own connector.

    Those whose customer is in records now are replayed, one replay run per connector (a
    connector running just then is skipped: its own run retries them when it ends). For the
    others, a run of their customer system (not a replay) that started after they failed counts
    one attempt; at ``CUSTOMER_WAIT_ATTEMPTS`` they become dead letters for a human (permanent,
    with the reason). Idempotent: a failure is loaded once, then resolved. Returns the replay runs.
    Call it outside a transaction (replay runs take their connector's run lock).
    """
    if after_run.status not in (RunStatus.SUCCEEDED, RunStatus.PARTIAL):
        return []
    source = Connector.objects.get(pk=after_run.connector_id)
    runs: list[SyncRun] = []
    for config in Connector.objects.order_by("pk"):
        customer_system = customer_system_of(config)
        keyed_by_source = customer_system == source.system
        if not keyed_by_source and config.pk != source.pk:
            continue
        waiting = list(
            SyncFailure.objects.filter(connector=config, resolved_at=None, permanent=False)
            .order_by("pk")
            .values_list("pk", "payload__fields__customer_external_id", "created_at")
        )
        known = source_ids_known(system=customer_system, external_ids=[str(owner) for _, owner, _ in waiting if owner])
        ready = [pk for pk, owner, _ in waiting if owner and str(owner) in known]
        if keyed_by_source and after_run.trigger != RunTrigger.REPLAY:
            still_waiting = [
                pk for pk, owner, created_at in waiting if str(owner) not in known and created_at < after_run.started_at
            ]
            _waiting_attempts_count(ids=still_waiting, customer_system=customer_system)
        if ready:
            runs += _failures_replay({config.pk: ready}, skip_busy=True)
    return runs


def _retry_waiting_after(run: SyncRun) -> None:
    try:
        sync_failures_retry_waiting(after_run=run)
    except Exception:
        # The run itself is done and recorded; what waits is tried again after the next one.
        logger.exception("Holdings waiting for customers could not be retried after run %s", run.pk)


def _owner_of(failure: SyncFailure) -> str:
    fields = (failure.payload or {}).get("fields") or {}
    return str(fields.get("customer_external_id") or "")


def _gave_up_reason(failure: SyncFailure, customer_system: str, attempts: int) -> str:
    return (
        f"No customer {_owner_of(failure)!r} from {customer_system} in records after {attempts} attempts "
        f"(its first load and each run of {customer_system} since): no longer retried automatically; "
        "replay it once the customer is in records."
    )


def _waiting_attempts_count(*, ids: list[int], customer_system: str) -> None:
    """One more attempt for each failure ``ids`` still waiting; those at the limit become dead letters.

    Failures locked by a run loading them just now are left alone (``skip_locked``).
    """
    if not ids:
        return
    with transaction.atomic():
        lockable = SyncFailure.objects.select_for_update(skip_locked=True).filter(
            pk__in=ids, resolved_at=None, permanent=False
        )
        waiting = dict(lockable.values_list("pk", "attempts"))
        waits_on = [pk for pk, attempts in waiting.items() if attempts + 1 < CUSTOMER_WAIT_ATTEMPTS]
        SyncFailure.objects.filter(pk__in=waits_on).update(attempts=F("attempts") + 1)
        for failure in SyncFailure.objects.filter(pk__in=set(waiting) - set(waits_on)):
            failure.attempts += 1
            failure.permanent = True
            failure.reason = _gave_up_reason(failure, customer_system, failure.attempts)
            failure.save(update_fields=["attempts", "permanent", "reason"])


def _open_failures_by_connector(failures: QuerySet[SyncFailure]) -> dict[int, list[int]]:
    by_connector: dict[int, list[int]] = {}
    for failure_id, connector_id in failures.filter(resolved_at=None).order_by("pk").values_list("pk", "connector"):
        by_connector.setdefault(connector_id, []).append(failure_id)
    return by_connector


def _failures_replay(by_connector: dict[int, list[int]], *, skip_busy: bool = False) -> list[SyncRun]:
    """One replay run per connector for its failures (ids); ``skip_busy``: a running connector is left out."""
    runs = []
    for connector_id, failure_ids in by_connector.items():
        config = Connector.objects.get(pk=connector_id)
        try:
            run = sync_run_start(connector=config, trigger=RunTrigger.REPLAY)
        except SyncBusy:
            if not skip_busy:
                raise
            logger.info("Connector %s is running; its run retries the items waiting for customers", config.name)
            continue
        try:
            connector = connector_for(config)
            for failure_id in failure_ids:
                _replay_one(run, connector, failure_id)
        except ConnectorError as error:
            runs.append(sync_run_finish(run=run, error=error.message))
            continue
        except BaseException as error:
            sync_run_finish(run=run, error=f"{type(error).__name__}: {error}")
            raise
        runs.append(sync_run_finish(run=run))
    return runs


def _replay_one(run: SyncRun, connector: BaseConnector, failure_id: int) -> None:
    """Load failure ``failure_id`` again inside ``run``; locks it, and does nothing if it was resolved meanwhile."""
    config = connector.config
    counts = PageCounts(read=1)
    with transaction.atomic():
        failure = SyncFailure.objects.select_for_update().filter(pk=failure_id, resolved_at=None).first()
        if failure is None:
            return
        payload = failure.payload or {}
        reason, waits = "", False
        try:
            if "fields" in payload:
                item = SourceItem(
                    kind=payload.get("kind") or "customer", key=failure.record_key, fields=payload["fields"]
                )
            elif hasattr(connector, "reparse"):
                item = connector.reparse({**payload, "key": failure.record_key})
            else:
                raise ConnectorError("Nothing to load again: the failure holds no item.", permanent=True)
            (outcome,) = _load_page_items(config.system, [item], customer_system_of(config))
            counts.add(outcome.outcome)
            reason, waits = outcome.reason, isinstance(outcome, CustomerNotYetKnown)
        except ConnectorError as error:
            counts.failed, reason = 1, error.message
        failure.attempts += 1
        if counts.failed:
            failure.reason, failure.permanent = redact_cards(reason), not waits
            if waits and failure.attempts >= CUSTOMER_WAIT_ATTEMPTS:
                failure.reason = _gave_up_reason(failure, customer_system_of(config), failure.attempts)
                failure.permanent = True
            failure.save(update_fields=["reason", "permanent", "attempts"])
        else:
            failure.resolved_at, failure.resolved_by_run = timezone.now(), run
            failure.save(update_fields=["resolved_at", "resolved_by_run", "attempts"])
        SyncRun.objects.filter(pk=run.pk).update(
            read=F("read") + 1,
            created=F("created") + counts.created,
            updated=F("updated") + counts.updated,
            unchanged=F("unchanged") + counts.unchanged,
            failed=F("failed") + counts.failed,
        )


__all__ = [
    "CREATED",
    "CUSTOMER_WAIT_ATTEMPTS",
    "FAILED",
    "UNCHANGED",
    "UPDATED",
    "SyncBusy",
    "connector_sync",
    "page_load",
    "sync_failures_replay",
    "sync_failures_retry_waiting",
    "sync_request",
    "sync_run_execute",
    "sync_run_finish",
    "sync_run_start",
]


def sync_failures_record(
    *,
    config: Connector,
    run: SyncRun,
    failures: Iterable[tuple[str, dict[str, Any], str, bool]],
    now: datetime,
) -> None:
    """The run's dead letters, one row each: ``(record key, payload, reason, permanent)``; the reason's
    card numbers masked."""
    SyncFailure.objects.bulk_create(
        SyncFailure(
            connector=config,
            run=run,
            record_key=key[:200],
            payload=payload,
            reason=redact_cards(reason),
            permanent=permanent,
            created_at=now,
        )
        for key, payload, reason, permanent in failures
    )
