"""Retention: each kind of data is kept for its policy's days, then removed by the nightly job.

The job (``retention_apply``, Celery task ``records.privacy.apply_retention`` on the beat schedule)
applies every enabled ``RetentionPolicy``: for each kind it calls the handlers registered for it —
records' own here, engagement's from its ``AppConfig.ready()`` (records cannot import engagement) —
with the cut-off time and the legal holds. A handler works in batches, each its own short
transaction of set-based statements, and returns how many rows it changed; the run is logged
(``RetentionRun``) with the counts per kind and handler.

Everything of a customer on legal hold (held themselves or through one of their cases) and of a held
case is left alone. Rows that carry figures the KPIs count (an interaction) are blanked, not deleted:
the transcript goes, the times, queue, wrap-up and scores stay.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import pghistory.models
import pgtrigger
from celery import shared_task
from django.apps import apps
from django.db import connection, transaction
from django.utils import timezone

from cea.common.tasks import database_retry
from records.audit.models import CustomerAccess
from records.cases.models import Case
from records.customers.models import Customer
from records.interactions.models import Interaction
from records.privacy.models import LegalHold, RetentionKind, RetentionPolicy, RetentionRun, RetentionRunStatus

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
# One run at a time, across workers: a session advisory lock on this key.
_LOCK_KEY = 0x52_45_54_4E  # "RETN"


@dataclass(frozen=True)
class Holds:
    """What retention must not touch: customers on hold (directly or through a case) and held cases."""

    customer_ids: frozenset[int]
    case_ids: frozenset[int]

    @property
    def customers(self) -> list[int]:
        return sorted(self.customer_ids)

    @property
    def cases(self) -> list[int]:
        return sorted(self.case_ids)


class Handler(Protocol):
    """Removes one kind's data older than ``cutoff`` (not of ``holds``), batch by batch; returns the rows changed."""

    def __call__(self, *, cutoff: dt.datetime, holds: Holds, batch_size: int) -> int: ...


_handlers: dict[str, dict[str, Handler]] = {}


def register_retention_handler(kind: str, name: str, handler: Handler) -> None:
    """Add ``handler`` for ``kind`` (a ``RetentionKind``) under ``name``, shown in the run's counts.

    Called at start-up (``AppConfig.ready``); registering the same name again replaces it.
    """
    if kind not in RetentionKind.values:
        raise ValueError(f"Unknown retention kind {kind!r}.")
    _handlers.setdefault(kind, {})[name] = handler


def retention_handlers() -> dict[str, dict[str, Handler]]:
    return {kind: dict(handlers) for kind, handlers in _handlers.items()}


def retention_holds() -> Holds:
    active = LegalHold.objects.filter(released_at__isnull=True)
    direct = set(active.filter(customer_id__isnull=False).values_list("customer_id", flat=True))
    cases = set(active.filter(case_id__isnull=False).values_list("case_id", flat=True))
    through_cases = set(
        Case.objects.filter(pk__in=cases, customer_id__isnull=False).values_list("customer_id", flat=True)
    )
    return Holds(customer_ids=frozenset(direct | through_cases), case_ids=frozenset(cases))


def in_batches(batch: Callable[[], int], *, batch_size: int) -> int:
    """Run ``batch`` (one short transaction each) until it changes fewer than ``batch_size`` rows."""
    total = 0
    while True:
        with transaction.atomic():
            done = batch()
        total += done
        if done < batch_size:
            return total


# --- The run --------------------------------------------------------------------------------


def retention_apply(*, now: dt.datetime | None = None, batch_size: int = BATCH_SIZE) -> RetentionRun | None:
    """Apply every enabled policy once; ``None`` when another run holds the lock.

    The run is logged; a handler's error marks it failed (with what was done until then) and is raised.
    """
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_LOCK_KEY])
        (locked,) = cursor.fetchone()
    if not locked:
        return None
    try:
        return _run(now=now, batch_size=batch_size)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])


def _run(*, now: dt.datetime, batch_size: int) -> RetentionRun:
    holds = retention_holds()
    run = RetentionRun.objects.create(
        started_at=now, held_customers=len(holds.customer_ids), held_cases=len(holds.case_ids)
    )
    try:
        for policy in RetentionPolicy.objects.filter(enabled=True).order_by("kind"):
            cutoff = now - dt.timedelta(days=policy.keep_days)
            for name, handler in retention_handlers().get(policy.kind, {}).items():
                run.counts.setdefault(policy.kind, {})[name] = handler(
                    cutoff=cutoff, holds=holds, batch_size=batch_size
                )
    except Exception as exc:
        run.status, run.error = RetentionRunStatus.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "counts", "finished_at"])
        raise
    run.status, run.finished_at = RetentionRunStatus.SUCCEEDED, timezone.now()
    run.save(update_fields=["status", "counts", "finished_at"])
    logger.info("retention run %s: %s", run.pk, run.counts)
    return run


@shared_task(name="records.privacy.apply_retention", **database_retry(backoff_max=3600))
def apply_retention() -> int | None:
    """The nightly retention job; safe to run twice (what is gone is not found again)."""
    run = retention_apply()
    return run.pk if run else None


# --- Records' own handlers ------------------------------------------------------------------


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _blank_interactions(*, where: str, params: dict, set_sql: str, event_set_sql: str, batch_size: int) -> int:
    """Update a batch of interactions without writing audit copies of what is removed, and remove it
    from the audit trail's earlier copies too. ``where`` selects, ``set_sql`` changes (same columns in both tables)."""
    event_model = Interaction.pgh_event_models["update"]  # type: ignore[attr-defined]  # added by pghistory
    table, events = _quote(Interaction._meta.db_table), _quote(event_model._meta.db_table)
    ((_, trigger),) = pgtrigger.registered("records.Interaction:update_update")
    with connection.cursor() as cursor:
        # The update trigger would copy the row as it was, transcript included, into the audit
        # trail; it is switched off for this transaction only (see records.audit.bulk).
        trigger_id = trigger.get_pgid(Interaction)  # type: ignore[arg-type]  # pgtrigger takes the class too
        cursor.execute("SELECT set_config('pgtrigger.ignore', %s, true)", ["{" + trigger_id + "}"])
        cursor.execute(
            f"UPDATE {table} SET {set_sql} WHERE id IN ("  # noqa: S608 - names from the models
            f" SELECT id FROM {table} WHERE {where} ORDER BY id LIMIT %(batch)s FOR UPDATE SKIP LOCKED"
            ") RETURNING id",
            {**params, "batch": batch_size},
        )
        ids = [row[0] for row in cursor.fetchall()]
        if ids:
            cursor.execute(
                f"UPDATE {events} SET {event_set_sql} WHERE pgh_obj_id = ANY(%(ids)s)",  # noqa: S608
                {**params, "ids": ids},
            )
        cursor.execute("SELECT set_config('pgtrigger.ignore', '', true)")
    return len(ids)


_NOT_HELD = (
    " AND (customer_id IS NULL OR customer_id <> ALL(%(held_customers)s))"
    " AND (case_id IS NULL OR case_id <> ALL(%(held_cases)s))"
)


def interaction_transcripts_blank(*, cutoff: dt.datetime, holds: Holds, batch_size: int) -> int:
    """Blank the transcripts of interactions that ended before ``cutoff`` (the interaction stays)."""
    params = {"cutoff": cutoff, "held_customers": holds.customers, "held_cases": holds.cases}
    where = "ended_at < %(cutoff)s AND transcript <> '[]'::jsonb" + _NOT_HELD
    blank = "transcript = '[]'::jsonb"
    return in_batches(
        lambda: _blank_interactions(
            where=where, params=params, set_sql=blank, event_set_sql=blank, batch_size=batch_size
        ),
        batch_size=batch_size,
    )


# A call's recording and transcript links as the voice adapter writes them in a message's text.
RECORDING_LINK = re.compile(r"(Recording|Transcript): https?://[^\s\"\\]+")
RECORDING_LINK_REMOVED = r"\1: [removed]"
_LINK_SQL = r"'(Recording|Transcript): https?://[^\s\"\\]+'"


def interaction_recording_links_remove(*, cutoff: dt.datetime, holds: Holds, batch_size: int) -> int:
    """Cut the recording and transcript links out of voice interactions that ended before ``cutoff``."""
    params = {"cutoff": cutoff, "held_customers": holds.customers, "held_cases": holds.cases}
    where = f"channel = 'voice' AND ended_at < %(cutoff)s AND transcript::text ~ {_LINK_SQL}" + _NOT_HELD
    cut = f"transcript = regexp_replace(transcript::text, {_LINK_SQL}, '\\1: [removed]', 'g')::jsonb"
    return in_batches(
        lambda: _blank_interactions(where=where, params=params, set_sql=cut, event_set_sql=cut, batch_size=batch_size),
        batch_size=batch_size,
    )


def _held_condition(event_model) -> str:
    """SQL that keeps an audit event of a held customer or case out of the deletion."""
    columns = {field.column for field in event_model._meta.concrete_fields}
    tracked = event_model.pgh_tracked_model
    keep = []
    if tracked is Customer:
        keep.append("pgh_obj_id <> ALL(%(held_customers)s)")
    if tracked is Case:
        keep.append("pgh_obj_id <> ALL(%(held_cases)s)")
    if "customer_id" in columns:
        keep.append("(customer_id IS NULL OR customer_id <> ALL(%(held_customers)s))")
    if "case_id" in columns:
        keep.append("(case_id IS NULL OR case_id <> ALL(%(held_cases)s))")
    return "".join(f" AND {condition}" for condition in keep)


def audit_events_delete(*, cutoff: dt.datetime, holds: Holds, batch_size: int) -> int:
    """Delete the audit trail's events older than ``cutoff``, in every app's event tables."""
    params: dict[str, Any] = {
        "cutoff": cutoff,
        "held_customers": holds.customers,
        "held_cases": holds.cases,
        "batch": batch_size,
    }
    total = 0
    for model in apps.get_models():
        if not issubclass(model, pghistory.models.Event) or model._meta.proxy:
            continue
        table = _quote(model._meta.db_table)
        sql = (
            f"DELETE FROM {table} WHERE pgh_id IN ("  # noqa: S608 - names from the models
            f" SELECT pgh_id FROM {table} WHERE pgh_created_at < %(cutoff)s{_held_condition(model)}"
            " ORDER BY pgh_id LIMIT %(batch)s)"
        )

        def batch(sql=sql) -> int:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.rowcount

        total += in_batches(batch, batch_size=batch_size)
    return total


def access_log_delete(*, cutoff: dt.datetime, holds: Holds, batch_size: int) -> int:
    """Delete reads older than ``cutoff`` from the customer access log (held customers' are kept)."""
    table = _quote(CustomerAccess._meta.db_table)
    sql = (
        f"DELETE FROM {table} WHERE id IN ("  # noqa: S608 - the name comes from the model
        f" SELECT id FROM {table} WHERE at < %(cutoff)s AND customer_id <> ALL(%(held_customers)s)"
        " ORDER BY id LIMIT %(batch)s)"
    )
    params: dict[str, Any] = {"cutoff": cutoff, "held_customers": holds.customers, "batch": batch_size}

    def batch() -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount

    return in_batches(batch, batch_size=batch_size)


register_retention_handler(RetentionKind.TRANSCRIPTS, "records.interactions", interaction_transcripts_blank)
register_retention_handler(RetentionKind.RECORDING_LINKS, "records.interactions", interaction_recording_links_remove)
register_retention_handler(RetentionKind.AUDIT, "audit trail", audit_events_delete)
register_retention_handler(RetentionKind.ACCESS_LOG, "records.access_log", access_log_delete)
