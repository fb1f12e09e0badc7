"""The first load of a large fixed-width extract: cleaned on every core, staged by ``COPY``, merged set-wise.

The flat-file connector hands over a whole file (a ``FilePage`` with ``whole_file``) when it is
read from its first line and is at least ``CEA_SYNC_FIRST_LOAD_MIN_BYTES`` (``first_load_suits``).
``whole_file_load`` then:

1. cuts the file into byte ranges at line ends (about ``RANGE_BYTES`` each, with the number of
   each range's first line) and gives them to worker processes (``CEA_SYNC_FIRST_LOAD_WORKERS``, one
   per core by default; spawned, so no database connection or lock is shared). Each worker reads its
   lines exactly as the page-by-page path does (the connector's parser, mappings and skip rules), and
   cleans each line with records' rules (``records.holdings.firstload.source_row_stage_line``). A
   line that cannot be read or that records refuse comes back with its line number, reason and the
   dead-letter payload the page path would keep.
2. in this process, in one transaction, takes the ranges back in order and decides each line
   as the earlier lines left things (see ``records.holdings.firstload``: a repeated customer
   number, account number, email or holding is left for later, a repeated phone is not attached),
   ``COPY``s the rest into an unlogged staging table, and merges it into records set-wise with the
   audit rows. Lines the merge leaves (updates, links to customers records knew already) and the
   repeats then load through the ordinary batch path (``source_customers_load``), a page at a time.
3. in the same transaction, records the bad lines as dead letters, the file's counts
   (``ProcessedFile``), the connector's watermark (the file's last line) and the run's counts.

The file loads whole or not at all: a run that dies leaves nothing of it, and the next run
starts it again (from its first line, by this path). Loading it again changes nothing: its
customers are known with the same checksums (``unchanged``). Where the worker processes cannot
be started (a daemonic Celery prefork child, for one), the ranges are cleaned in this process.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cea.common.errors import ApplicationError
from integration.connectors.base import SourceItem
from integration.connectors.flatfile.connector import FilePage, FlatFileConnector
from integration.connectors.flatfile.layout import FieldError
from integration.connectors.models import Connector
from integration.sync import firstload_worker
from integration.sync.models import SyncRun
from integration.sync.services import (
    PageCounts,
    _commit_without_waiting_for_disk,
    _failure_payload,
    _load_page_items,
    _row_of,
    sync_failures_record,
)
from records.holdings.firstload import FirstLoad, StagedRow, known_checksums, source_row_stage_line
from records.holdings.services import _reason

logger = logging.getLogger(__name__)

RANGE_BYTES = 1 << 21  # about 10,000 lines of 200 characters a range
AHEAD = 3  # ranges read ahead per worker
MERGE_ROWS = 100_000  # lines staged, then merged, at a time


@dataclass(frozen=True)
class _Range:
    config: dict[str, Any]  # the connector's fields (a worker builds its own connector from them)
    path: str
    start: int
    end: int
    first_line: int
    now: datetime
    slots: int


@dataclass
class _RangeResult:
    staged: list[tuple[int, StagedRow]] = field(default_factory=list)
    # (line, key, reason, payload, external id, checksum): external id and checksum when records refused it
    failed: list[tuple[int, str, str, dict[str, Any], str, str]] = field(default_factory=list)
    last_line: int = 0


def _ranges(path: Path, config: dict[str, Any], now: datetime, slots: int) -> Iterator[_Range]:
    """The file cut at line ends into ranges of about ``RANGE_BYTES``, each with its first line's number."""
    line = 1
    start = 0
    with path.open("rb") as handle:
        while True:
            handle.seek(start)
            block = handle.read(RANGE_BYTES)
            if not block:
                return
            cut = block.rfind(b"\n") + 1
            if cut == 0 or len(block) < RANGE_BYTES:
                cut = len(block)
            yield _Range(config, str(path), start, start + cut, line, now, slots)
            # Lines end as the page path reads them (newline=""): at \n, \r\n or a lone \r.
            piece = block[:cut]
            line += piece.count(b"\n") + piece.count(b"\r") - piece.count(b"\r\n")
            start += cut


_CONNECTORS: dict[int, FlatFileConnector] = {}


def _connector_of(config: dict[str, Any]) -> FlatFileConnector:
    connector = _CONNECTORS.get(config["id"])
    if connector is None:
        connector = _CONNECTORS[config["id"]] = FlatFileConnector(Connector(**config))
    return connector


def _read_range(job: _Range) -> _RangeResult:
    """Read and clean one range of lines (in a worker process, or in this one). No database."""
    connector = _connector_of(job.config)
    system = job.config["system"]
    result = _RangeResult(last_line=job.first_line - 1)
    name = Path(job.path).name
    for number, text, row, reason in connector.range_records(job.path, job.start, job.end, job.first_line):
        result.last_line = number
        if row is None and not reason:
            continue
        key = f"{name}:{number}"
        if row is None:
            result.failed.append((number, key, reason, _failure_payload(connector, None, key, text), "", ""))
            continue
        try:
            item = connector.item_from_row(row, key, {"key": key, "text": text, "header": None})
        except FieldError as error:
            result.failed.append((number, key, str(error), _failure_payload(connector, None, key, text), "", ""))
            continue
        source_row = _row_of(item)
        try:
            staged = source_row_stage_line(system=system, row=source_row, now=job.now, holding_slots=job.slots)
        except ApplicationError as error:
            payload = _failure_payload(connector, item, key)
            result.failed.append((number, key, _reason(error), payload, source_row.external_id, source_row.digest()))
            continue
        result.staged.append((number, staged))
    return result


def _results(jobs: list[_Range]) -> Iterator[_RangeResult]:
    """Each range read and cleaned, in order: by worker processes, else here.

    At most ``AHEAD`` ranges a worker are read ahead of the one this process takes next, so the
    cleaned rows waiting here stay a few tens of MB while the database merges.
    """
    workers = settings.CEA_SYNC_FIRST_LOAD_WORKERS or os.cpu_count() or 1
    pool: ProcessPoolExecutor | None = None
    try:
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=get_context("spawn"),
            initializer=firstload_worker.start,
            initargs=(os.environ.get("DJANGO_SETTINGS_MODULE") or settings.SETTINGS_MODULE,),
        )
        waiting = deque(pool.submit(_read_range, job) for job in jobs[: workers * AHEAD])
    except (AssertionError, OSError) as error:  # e.g. "daemonic processes are not allowed to have children"
        if pool is not None:  # its manager thread would otherwise keep the process from exiting
            pool.shutdown(wait=False, cancel_futures=True)
        logger.warning("First load without worker processes (%s): cleaning in this one", error)
        yield from map(_read_range, jobs)
        return
    following = iter(jobs[workers * AHEAD :])
    try:
        while waiting:
            result = waiting.popleft().result()
            job = next(following, None)
            if job is not None:
                waiting.append(pool.submit(_read_range, job))
            yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class _Decided:
    """What the earlier lines of the file took (the earliest line wins, as when loaded in order)."""

    external_ids: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    accounts: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    holdings: set[tuple[str, str]] = field(default_factory=set)
    later: list[int] = field(default_factory=list)  # lines left for the batch path

    def phone_ok(self, number: int, row: StagedRow) -> bool | None:
        """Whether the row's phone is attached; ``None``: the line is left for later."""
        if (
            row.external_id in self.external_ids
            or (row.email and row.email in self.emails)
            or (row.account and row.account in self.accounts)
            or any(holding in self.holdings for holding in row.holdings)
        ):
            self.later.append(number)
            return None
        self.external_ids.add(row.external_id)
        if row.email:
            self.emails.add(row.email)
        if row.account:
            self.accounts.add(row.account)
        self.holdings.update(row.holdings)
        if not row.phone:
            return True
        if row.phone in self.phones:
            return False
        self.phones.add(row.phone)
        return True


def whole_file_load(*, run: SyncRun, connector: FlatFileConnector, page: FilePage) -> PageCounts:
    """Load ``page``'s whole file by the first-load path (see the module's docstring), in one transaction."""
    config = connector.config
    path = Path(page.path)
    now = timezone.now()
    fields = {"id": config.pk, "name": config.name, "kind": config.kind, "system": config.system}
    fields |= {"settings": config.settings, "mappings": config.mappings}
    slots = len(connector.holding_specs)
    counts = PageCounts()
    failures: list[tuple[int, str, str, dict[str, Any], str, str]] = []
    decided = _Decided()
    last_line = 0
    started = time.monotonic()
    with transaction.atomic():
        _commit_without_waiting_for_disk()
        results = _results(list(_ranges(path, fields, now, slots)))
        deferred: list[int] = []
        more = True
        while more:
            # A staging table per MERGE_ROWS lines: the database merges one while the workers clean the next.
            load = FirstLoad(system=config.system, holding_slots=slots, now=now, name=f"sync_stage_{uuid.uuid4().hex}")
            staged = 0
            with load.stage() as write:
                more = False
                for result in results:
                    last_line = max(last_line, result.last_line)
                    failures += result.failed
                    counts.read += len(result.staged) + len(result.failed)
                    pending = []
                    for number, row in result.staged:
                        ok = decided.phone_ok(number, row)
                        if ok is not None:
                            pending.append(f"{number}\t{row.text}\t{'t' if ok else 'f'}\n")
                    if pending:
                        write("".join(pending))
                    staged += len(pending)
                    if staged >= MERGE_ROWS:
                        more = True
                        break
            logger.debug("First load of %s: %s lines staged at %.1f s", path.name, staged, time.monotonic() - started)
            merged = load.merge()
            logger.debug("First load of %s: merged at %.1f s", path.name, time.monotonic() - started)
            counts.created += merged.created
            counts.unchanged += merged.unchanged
            deferred += merged.deferred
        # Refused lines whose customer records already have as given: unchanged, as on the page path.
        refused = [external_id for *_, external_id, _ in failures if external_id]
        known = known_checksums(system=config.system, external_ids=refused)
        kept = []
        for failure in failures:
            if failure[4] and known.get(failure[4]) == failure[5]:
                counts.unchanged += 1
            else:
                kept.append(failure)
        later = sorted(set(deferred) | set(decided.later))
        dead = [(key, payload, reason) for _, key, reason, payload, _, _ in kept]
        for outcome, item in _later_loaded(connector, path, later, _load_page_items):
            if outcome.outcome == "failed":
                dead.append((item.key, _failure_payload(connector, item, item.key), outcome.reason))
            else:
                setattr(counts, outcome.outcome, getattr(counts, outcome.outcome) + 1)
        counts.failed = len(dead)
        logger.debug(
            "First load of %s: %s later lines loaded at %.1f s", path.name, len(later), time.monotonic() - started
        )
        sync_failures_record(
            config=config, run=run, failures=[(key, payload, reason, True) for key, payload, reason in dead], now=now
        )
        watermark = f"{page.sha256}:{last_line}"
        whole = FilePage([], watermark, [], page.file_id, page.path, lines=last_line, last=True)
        connector.page_loaded(whole, loaded=counts.read - counts.failed, failed=counts.failed)
        Connector.objects.filter(pk=config.pk).update(watermark=watermark[:200], watermark_at=now)
        SyncRun.objects.filter(pk=run.pk).update(
            watermark_to=watermark[:200],
            read=F("read") + counts.read,
            created=F("created") + counts.created,
            updated=F("updated") + counts.updated,
            unchanged=F("unchanged") + counts.unchanged,
            failed=F("failed") + counts.failed,
        )
        logger.debug("First load of %s: recorded at %.1f s, committing", path.name, time.monotonic() - started)
    logger.info(
        "First load of %s: %s lines read, %s created, %s updated, %s unchanged, %s failed (%s by the batch path)"
        " in %.1f s",
        path.name,
        counts.read,
        counts.created,
        counts.updated,
        counts.unchanged,
        counts.failed,
        len(later),
        time.monotonic() - started,
    )
    return counts


def _later_loaded(
    connector: FlatFileConnector, path: Path, lines: list[int], load: Any
) -> Iterator[tuple[Any, SourceItem]]:
    """The lines left for the batch path, read again and loaded a page at a time; ``(outcome, item)``."""
    if not lines:
        return
    wanted = set(lines)
    page_size = int(connector.setting("page_size") or 1000)
    items: list[SourceItem] = []
    for number, text, row, _ in connector.range_records(str(path), 0, path.stat().st_size, 1):
        if number not in wanted or row is None:
            continue
        key = f"{path.name}:{number}"
        items.append(connector.item_from_row(row, key, {"key": key, "text": text, "header": None}))
        if len(items) >= page_size:
            yield from zip(load(connector.config.system, items), items, strict=True)
            items = []
    if items:
        yield from zip(load(connector.config.system, items), items, strict=True)
