"""Benchmark of the nightly sync: a fixed-width customer-master extract loaded into records.

    .venv/bin/python bench/sync.py [--lines 1000000] [--page-size 5000] [--path first-load|pages] [--force]

An extract of --lines customers (``integration.sample_systems.customer_master``) is written to a
temporary drop folder and loaded by a flat-file connector through the sync service, as a worker
runs it: page by page, each page in its own transaction with its watermark; each line becomes a
customer (with its email, phone and account-number identities, a ``customer.created`` journey
event, pghistory audit rows) and an account holding with its balance. Reported in lines per
second, against the floor measured in the same run: a raw PostgreSQL ``COPY`` of the same rows,
already typed and tab-separated, into a table with the extract's columns and a unique customer
number. Also reported: reading the file alone (parsing, no database).

The data goes into the database named by DATABASE_URL, which must contain "bench" in its name
unless --force. Each run loads new customers (numbers from 10,000,000 up, past any earlier run and
past the demo data of bench/records.py), under the system ``bench_sync``.
A file read from its first line and at least ``CEA_SYNC_FIRST_LOAD_MIN_BYTES`` loads by the
first-load path (``integration.sync.firstload``: cleaned in worker processes, staged by ``COPY``,
merged set-wise); ``--path pages`` loads it page by page as before (the threshold raised for the run).
Target (issue 17): the first load within 10x of the COPY of the extract's rows (issue 5 had 5x).
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: bench/ is sys.path[0], where bench/records.py would shadow the ``records`` app.
    _root = Path(__file__).resolve().parent.parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _root / "bench"]
    sys.path.insert(0, str(_root))

from bench.common import guard_database, machine, setup_django, verdict

SYSTEM = "bench_sync"
FIRST_NUMBER = 10_000_000
TARGET_RATIO = 10.0
COPY_TABLE = "bench_sync_copy"


def _copy_floor(extract: Path, layout) -> float:
    """Seconds to COPY the extract's rows (typed beforehand, not timed) into a comparable table."""
    from django.db import connection

    from integration.connectors.flatfile.layout import FieldError

    parse = layout.fixed_parser()
    names = [spec.name for spec in layout.fields]
    buffer = io.StringIO()
    with extract.open(encoding="latin-1") as handle:
        for line in handle:
            text = line.rstrip("\n")
            if text.startswith(("HDR", "TRL")):
                continue
            try:
                row = parse(text)
            except FieldError:
                continue
            buffer.write("\t".join("\\N" if row[name] in (None, "") else str(row[name]) for name in names) + "\n")
    types = {"text": "text", "integer": "integer", "decimal": "numeric(16,2)", "date": "date"}
    columns = ", ".join(f'"{spec.name}" {types[spec.kind]}' for spec in layout.fields)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {COPY_TABLE}")
        cursor.execute(f'CREATE TABLE {COPY_TABLE} (id bigserial PRIMARY KEY, {columns}, UNIQUE ("CUST-NO"))')
    quoted = ", ".join(f'"{name}"' for name in names)
    buffer.seek(0)
    started = time.perf_counter()
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {COPY_TABLE} ({quoted}) FROM STDIN") as copy:
        copy.write(buffer.getvalue())
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {COPY_TABLE}")
    return seconds


# The rows a sync run writes, by table: ``{table: WHERE clause}`` over the run's customers (%(ids)s).
_WRITTEN = {
    "records_customer": "id IN (SELECT id FROM ids)",
    "records_identity": "customer_id IN (SELECT id FROM ids)",
    "records_sourcerecord": "customer_id IN (SELECT id FROM ids)",
    "records_holding": "customer_id IN (SELECT id FROM ids)",
    "records_journeyevent": "customer_id IN (SELECT id FROM ids)",
    "records_customerevent": "pgh_obj_id IN (SELECT id FROM ids)",
    "records_identityevent": "customer_id IN (SELECT id FROM ids)",
}


def _records_floor(run, folder: str) -> tuple[float, int]:
    """Seconds to COPY every row the run wrote (customers, identities, source records, holdings,
    journey events and audit rows) into tables shaped like records' own: the same columns,
    defaults, checks and indexes (``LIKE … INCLUDING ALL``), but no triggers and no foreign keys
    (the audit rows are among the rows copied). The rows are read out first, not timed.
    Returns (seconds, rows)."""
    from django.db import connection

    from cea.common.copy import copy_out

    dumps: list[tuple[str, Path]] = []
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE ids AS SELECT customer_id AS id FROM records_sourcerecord"
            " WHERE system = %s AND created_at >= %s",
            [SYSTEM, run.started_at],
        )
        for table, where in _WRITTEN.items():
            path = Path(folder) / f"{table}.copy"
            with path.open("wb") as handle:
                copy_out(f"COPY (SELECT * FROM {table} WHERE {where}) TO STDOUT", handle)
            dumps.append((table, path))
            cursor.execute(f"DROP TABLE IF EXISTS floor_{table}")
            cursor.execute(f"CREATE TABLE floor_{table} (LIKE {table} INCLUDING ALL)")
        cursor.execute("DROP TABLE ids")
    rows = 0
    seconds = 0.0
    for table, path in dumps:
        with path.open("rb") as handle, connection.cursor() as cursor:
            started = time.perf_counter()
            with cursor.cursor.copy(f"COPY floor_{table} FROM STDIN") as copy:
                while block := handle.read(1 << 20):
                    copy.write(block)
            seconds += time.perf_counter() - started
            rows += cursor.cursor.rowcount
    with connection.cursor() as cursor:
        for table, _ in dumps:
            cursor.execute(f"DROP TABLE floor_{table}")
    return seconds, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--page-size", type=int, default=5000)
    parser.add_argument("--path", choices=["first-load", "pages"], default="first-load")
    parser.add_argument("--verbose", action="store_true", help="log each step of the first load (DEBUG)")
    parser.add_argument("--force", action="store_true", help="write into a database whose name lacks 'bench'")
    arguments = parser.parse_args()

    setup_django()
    from django.conf import settings

    if arguments.verbose:
        import logging

        for name in ("integration.sync.firstload", "records.holdings.firstload"):
            logging.getLogger(name).setLevel(logging.DEBUG)
    first_load_min_bytes = settings.CEA_SYNC_FIRST_LOAD_MIN_BYTES if arguments.path == "first-load" else 1 << 62
    name = guard_database(force=arguments.force)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from integration.connectors.base import connector_for
    from integration.connectors.flatfile.connector import FlatFileConnector
    from integration.connectors.models import Connector, ConnectorKind
    from integration.sample_systems import customer_master
    from integration.sync.models import SyncRun
    from integration.sync.services import connector_sync
    from records.holdings.models import SourceRecord

    print(f"Sync bench on {name}: {machine()}")
    first = FIRST_NUMBER + SourceRecord.objects.filter(system=SYSTEM).count()
    with tempfile.TemporaryDirectory(prefix="cea-bench-sync-") as folder:
        started = time.perf_counter()
        extract = customer_master.write_extract(
            Path(folder) / "CUSTMAST20261123.dat", arguments.lines, first=first, demo=False
        )
        print(
            f"Wrote {extract.lines:,} lines ({extract.path.stat().st_size / 1e6:.0f} MB) "
            f"in {time.perf_counter() - started:.0f}s"
        )
        config, _ = Connector.objects.update_or_create(
            name="bench-sync",
            defaults={
                "kind": ConnectorKind.FLATFILE,
                "system": SYSTEM,
                "settings": customer_master.connector_settings(folder, page_size=arguments.page_size),
                "mappings": customer_master.MAPPINGS,
                "watermark": "",
            },
        )

        # Reading alone: parsing and mapping every line, no database writes (as the page path reads).
        settings.CEA_SYNC_FIRST_LOAD_MIN_BYTES = 1 << 62
        reader = connector_for(config)
        assert isinstance(reader, FlatFileConnector)
        reader.page_loaded = lambda *args, **kwargs: None  # type: ignore[method-assign]
        started = time.perf_counter()
        read = sum(len(page.items) + len(page.bad) for page in reader.fetch_since(""))
        parse_seconds = time.perf_counter() - started
        from integration.sync.models import ProcessedFile

        ProcessedFile.objects.filter(connector=config).delete()

        settings.CEA_SYNC_FIRST_LOAD_MIN_BYTES = first_load_min_bytes
        path = "first-load path" if reader.first_load_suits(extract.path) else "page by page"
        print(f"Loading by the {path} ({machine()})")
        started = time.perf_counter()
        run = connector_sync(connector_id=config.pk, trigger="on_demand")
        sync_seconds = time.perf_counter() - started
        print(f"Loaded in {sync_seconds:.1f} s ({machine()})")
        run = SyncRun.objects.get(pk=run.pk)
        copy_seconds = _copy_floor(extract.path, reader.layout)
        written_seconds, written = _records_floor(run, folder)

    rows = run.read
    ratio = sync_seconds / copy_seconds
    written_ratio = sync_seconds / written_seconds
    print(f"\n{rows:,} lines: {run.created:,} created, {run.failed:,} failed, status {run.status}, by the {path}")
    print(f"  read only (parse + map)      {parse_seconds:8.1f} s  {read / parse_seconds:>10,.0f} lines/s")
    print(
        f"  sync into records            {sync_seconds:8.1f} s  {rows / sync_seconds:>10,.0f} lines/s"
        f"  ({written:,} rows written, {written / sync_seconds:,.0f} rows/s)"
    )
    print(f"  COPY of the extract's rows   {copy_seconds:8.1f} s  {rows / copy_seconds:>10,.0f} rows/s  (one table)")
    print(
        f"  COPY of the rows written     {written_seconds:8.1f} s  {written / written_seconds:>10,.0f} rows/s"
        "  (records' tables, their indexes)"
    )
    print(
        f"  sync / COPY of the extract's rows: {ratio:.1f}x (target within {TARGET_RATIO:.0f}x): "
        f"{verdict(ratio <= TARGET_RATIO)}"
    )
    print(
        f"  sync / COPY of the rows written:   {written_ratio:.1f}x (target within {TARGET_RATIO:.0f}x): "
        f"{verdict(written_ratio <= TARGET_RATIO)}"
    )


if __name__ == "__main__":
    main()
