"""The flat-file connector: CSV and fixed-width extracts dropped in a folder, each loaded once.

Settings (the connector's JSON ``settings``)::

    folder        the drop folder (required)
    pattern       which files, a glob (default "*")
    format        "fixed" or "csv" (default "fixed"); layout: see ``layout.py``
    delimiter     CSV only (default ","); has_header: CSV only (default true)
    encoding      default "utf-8" (mainframe extracts converted from EBCDIC are often "latin-1")
    skip_prefixes lines starting with one of these are not records (headers, trailers): ["HDR", "TRL"]
    page_size     lines per page, each page committed with its watermark (default 1000)
    after         "leave" (default) or "move" into done_folder (default <folder>/processed)
    holdings      [{"kind": "account", "mappings": {"external_id": "ACCT-NO", "amount": "BALANCE"},
                    "constants": {"currency": "GBP"}}]: holdings read from each line

The connector's ``mappings`` make each line's fields canonical customer fields
(``apply_mappings``); ``external_id`` must be among them.

Each file is known by its SHA-256 (``ProcessedFile``): a file seen complete is never loaded
again, whatever its name. The watermark is ``<sha256>:<last line loaded>``; it is stored with
each page, so a run killed half-way through a file resumes after the last page it committed.
Lines that cannot be read come back in ``Page.bad`` as ``("<file>:<line>", reason)``.

A large fixed-width file read from its first line (``first_load_suits``) comes as one page with
``whole_file`` set and no items: the sync service loads it whole by the first-load path
(``integration.sync.firstload``), whose worker processes read its byte ranges (``range_records``).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import logging
import shutil
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from rest_framework import serializers

from cea.common.redact import redact_cards
from cea.common.serializers import CharField, TrueFalseField, WholeNumberField
from integration.connectors.base import BaseConnector, ConnectorError, Page, SourceItem, apply_mappings, register_kind
from integration.connectors.flatfile.layout import FieldError, Layout, LayoutError, layout_from_settings
from integration.connectors.models import ConnectorKind
from integration.sync.models import ProcessedFile
from integration.validation import messages_of, one_message, optional_text

logger = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 1000


@dataclass(frozen=True)
class FilePage(Page):
    """A page of one file: which file, and whether it is the file's last page."""

    file_id: int = 0
    path: str = ""
    lines: int = 0  # lines of the file this page covers
    last: bool = False
    # The whole file, to load at once by the first-load path (``integration.sync.firstload``): no
    # items; ``sha256`` is the file's.
    whole_file: bool = False
    sha256: str = ""


class _HoldingSpecSerializer(serializers.Serializer):
    """One of ``holdings``: what kind of holding each line carries, and from which of its fields."""

    default_error_messages = {"invalid": "each of holdings has a kind and mappings."}

    kind = CharField(error_messages=one_message("kind is what the holding is (account, loan, card …)."))
    mappings = serializers.DictField(
        child=CharField(error_messages=one_message("mappings name fields of the layout.")),
        required=False,
        allow_null=True,
        error_messages=one_message("mappings are an object of holding field: layout field."),
    )
    constants = serializers.DictField(
        required=False, allow_null=True, error_messages=one_message("constants are an object of holding field: value.")
    )


class _FlatFileSettingsSerializer(serializers.Serializer):
    """A flat-file connector's settings (see the module's docstring); ``format`` and ``layout``: ``layout.py``."""

    folder = CharField(error_messages=one_message("folder (the drop folder) is required."))
    pattern = optional_text("pattern is a glob, e.g. *.dat.")
    delimiter = optional_text("delimiter is one character (default ',').", max_length=1, trim_whitespace=False)
    has_header = TrueFalseField(required=False, error_messages=one_message("has_header is true or false."))
    encoding = optional_text("encoding is a text encoding, e.g. utf-8, latin-1 or cp037.")
    skip_prefixes = serializers.ListField(
        child=CharField(trim_whitespace=False, error_messages=one_message("a prefix is one character or more.")),
        required=False,
        allow_null=True,
        error_messages=one_message('skip_prefixes is a list of texts that start lines to skip, e.g. ["HDR", "TRL"].'),
    )
    page_size = WholeNumberField(
        required=False,
        min_value=1,
        max_value=100_000,
        error_messages=one_message("page_size is a number of lines from 1 to 100000."),
    )
    after = serializers.ChoiceField(
        choices=["leave", "move"], required=False, error_messages=one_message("after is 'leave' or 'move'.")
    )
    done_folder = optional_text("done_folder is a folder.")
    holdings = serializers.ListField(
        child=_HoldingSpecSerializer(),
        required=False,
        allow_null=True,
        error_messages=one_message("holdings is a list of holdings, each with a kind and mappings."),
    )

    def validate_encoding(self, encoding: str | None) -> str | None:
        if encoding:
            try:
                codecs.lookup(encoding)
            except LookupError:
                raise serializers.ValidationError(self.fields["encoding"].error_messages["invalid"]) from None
        return encoding


def flatfile_settings_check(settings: Mapping[str, Any], mappings: Mapping[str, Any]) -> dict[str, list[str]]:
    """Problems with a flat-file connector's settings and mappings, ``{field: messages}`` (empty if fine)."""
    shape = _FlatFileSettingsSerializer(data=settings)
    valid = shape.is_valid()
    problems: dict[str, list[str]] = {"settings": [] if valid else messages_of(shape.errors)}
    try:
        layout = layout_from_settings(settings)
    except LayoutError as error:
        problems["settings"].append(f"layout: {error}")
    else:
        # The holdings' mappings are checked once the holdings themselves are well formed.
        holdings = (shape.validated_data.get("holdings") or []) if valid else []
        problems["mappings"] = _mapping_problems(mappings, holdings, {spec.name for spec in layout.fields})
    return {field: found for field, found in problems.items() if found}


def _mapping_problems(mappings: Mapping[str, Any], holdings: list[dict[str, Any]], names: set[str]) -> list[str]:
    """Mappings that lack the customer's id or name a field the layout does not have."""
    problems = []
    if mappings and "external_id" not in mappings:
        problems.append("external_id must be mapped (the customer's id in the file).")
    sources = [*(mappings or {}).values()] + [
        source for holding in holdings for source in (holding.get("mappings") or {}).values()
    ]
    unknown = sorted({str(source) for source in sources if source not in names})
    if unknown:
        problems.append(f"Not fields of the layout: {', '.join(unknown)}.")
    return problems


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@register_kind
class FlatFileConnector(BaseConnector):
    kind = ConnectorKind.FLATFILE

    def __init__(self, config) -> None:
        super().__init__(config)
        self.run_id: int | None = None  # set by the sync service, recorded on each file
        try:
            self.layout: Layout = layout_from_settings(self.settings)
        except LayoutError as error:
            raise ConnectorError(f"Connector {config.name}: {error}", permanent=True) from None
        self.mappings = dict(config.mappings or {})
        self.holding_specs = list(self.setting("holdings") or [])
        self._bad_text: dict[str, str] = {}  # the text of the current page's bad lines, by key
        self._header: list[str] | None = None

    # --- Files ----------------------------------------------------------------------------------

    def folder(self) -> Path:
        folder = Path(self.setting("folder", required=True))
        if not folder.is_dir():
            # The share may be unmounted for a moment: worth trying again.
            raise ConnectorError(f"Connector {self.config.name}: the drop folder {folder} is not there.")
        return folder

    def waiting_files(self) -> list[Path]:
        pattern = self.setting("pattern") or "*"
        return sorted(path for path in self.folder().glob(pattern) if path.is_file())

    def _after(self, path: Path) -> None:
        if self.setting("after", "leave") != "move":
            return
        done = Path(self.setting("done_folder") or path.parent / "processed")
        try:
            done.mkdir(parents=True, exist_ok=True)
            shutil.move(str(path), str(done / path.name))
        except OSError as error:
            logger.warning("Connector %s: could not move %s: %s", self.config.name, path.name, error.strerror)

    # --- Lines ----------------------------------------------------------------------------------

    def item_from_row(self, row: Mapping[str, Any], key: str, raw: dict[str, Any]) -> SourceItem:
        fields = apply_mappings(row, self.mappings)
        if not fields.get("external_id"):
            raise FieldError("no customer id (external_id is empty)")
        fields["external_id"] = str(fields["external_id"])
        holdings = []
        for spec in self.holding_specs:
            holding = {**(spec.get("constants") or {}), **apply_mappings(row, spec.get("mappings") or {})}
            holding["kind"] = spec["kind"]
            if holding.get("external_id") not in (None, ""):
                holding["external_id"] = str(holding["external_id"])
                holdings.append(holding)
        fields["holdings"] = holdings
        return SourceItem(kind="customer", key=key, fields=fields, raw=raw)

    def reparse(self, payload: Mapping[str, Any]) -> SourceItem:
        """The item of a dead-lettered line, read again with the current layout (for a replay)."""
        text, key = payload.get("text"), payload.get("key") or ""
        if not isinstance(text, str):
            raise ConnectorError("The failure holds no line to read again.", permanent=True)
        try:
            if self.layout.format == "fixed":
                row = self.layout.fixed_parser()(text)
            else:
                cells = next(csv.reader([text], delimiter=self.setting("delimiter") or ","))
                row = self.layout.csv_parser(payload.get("header"))(cells)
            return self.item_from_row(row, key, dict(payload))
        except (FieldError, LayoutError) as error:
            raise ConnectorError(f"{key}: {error}", permanent=True) from None

    def _records(self, path: Path, start_after: int) -> Iterator[tuple[int, str, dict[str, Any] | None, str]]:
        """``(line number, text, row or None, reason)`` for each record line after ``start_after``."""
        encoding = self.setting("encoding") or "utf-8"
        with path.open("r", encoding=encoding, errors="replace", newline="") as handle:
            if self.layout.format == "fixed":
                yield from self._fixed_records(handle, 1, start_after)
                return
            has_header = self.setting("has_header", True)
            reader = csv.reader(handle, delimiter=self.setting("delimiter") or ",")
            header = next(reader, None) if has_header else None
            try:
                parse = self.layout.csv_parser(header)
            except LayoutError as error:
                raise ConnectorError(f"{path.name}: {error}", permanent=True) from None
            self._header = header
            for cells in reader:
                number = reader.line_num
                if number <= start_after:
                    continue
                text = _csv_line(cells, self.setting("delimiter") or ",")
                if not any(cell.strip() for cell in cells):
                    yield number, text, None, ""
                    continue
                try:
                    yield number, text, parse(cells), ""
                except FieldError as error:
                    yield number, text, None, str(error)

    def _fixed_records(
        self, lines: Iterator[str], first: int, start_after: int
    ) -> Iterator[tuple[int, str, dict[str, Any] | None, str]]:
        """``_records`` of a fixed-width file's ``lines`` (read with ``newline=""``), numbered from ``first``."""
        skip = tuple(self.setting("skip_prefixes") or ())
        parse = self.layout.fixed_parser()
        for number, line in enumerate(lines, start=first):
            if number <= start_after:
                continue
            text = line.rstrip("\r\n")
            if not text.strip() or (skip and text.startswith(skip)):
                yield number, text, None, ""
                continue
            try:
                yield number, text, parse(text), ""
            except FieldError as error:
                yield number, text, None, str(error) or "unreadable"

    def range_records(
        self, path: str, start: int, end: int, first_line: int
    ) -> Iterator[tuple[int, str, dict[str, Any] | None, str]]:
        """``_records`` of the fixed-width lines in bytes ``start`` to ``end`` of ``path`` (cut at a line's
        end), the first being line ``first_line`` (for worker processes: ``first_load_suits`` files)."""
        with open(path, "rb") as handle:
            handle.seek(start)
            data = handle.read(end - start)
        text = data.decode(self.setting("encoding") or "utf-8", errors="replace")
        yield from self._fixed_records(io.StringIO(text, newline=""), first_line, 0)

    # --- The interface ------------------------------------------------------------------------------

    def fetch_since(self, watermark: str) -> Iterator[Page]:
        """Pages of every file not yet loaded; a file half-loaded resumes after ``watermark``'s line."""
        page_size = int(self.setting("page_size") or DEFAULT_PAGE_SIZE)
        for path in self.waiting_files():
            sha = file_sha256(path)
            processed, start_after = self._file_started(path, sha, watermark)
            if processed.completed_at is not None:
                self._after(path)
                continue
            if start_after == 0 and self.first_load_suits(path):
                yield FilePage([], f"{sha}:0", [], processed.pk, str(path), whole_file=True, sha256=sha)
                # Here the sync service has loaded and committed the whole file.
                self._after(path)
                continue
            self._header = None
            items: list[SourceItem] = []
            bad: list[tuple[str, str]] = []
            first = start_after
            last = start_after
            for number, text, row, reason in self._records(path, start_after):
                last = number
                key = f"{path.name}:{number}"
                if row is None and reason:
                    bad.append((key, reason))
                    self._bad_text[key] = text
                elif row is not None:
                    try:
                        items.append(self.item_from_row(row, key, {"key": key, "text": text, "header": self._header}))
                    except FieldError as error:
                        bad.append((key, str(error)))
                        self._bad_text[key] = text
                if number - first >= page_size:
                    yield FilePage(items, f"{sha}:{number}", bad, processed.pk, str(path), number - first)
                    items, bad, first = [], [], number
            yield FilePage(items, f"{sha}:{last}", bad, processed.pk, str(path), last - first, last=True)
            # Here the sync service has committed the file's last page.
            self._after(path)

    def first_load_suits(self, path: Path) -> bool:
        """Whether ``path``, read from its first line, goes by the first-load path: a fixed-width file
        of at least ``CEA_SYNC_FIRST_LOAD_MIN_BYTES`` in an encoding where a line ends in the byte
        ``\\n`` (so the file can be cut into byte ranges for worker processes; CSV cannot: a quoted
        cell may hold a line break)."""
        minimum = settings.CEA_SYNC_FIRST_LOAD_MIN_BYTES
        if self.layout.format != "fixed":
            return False
        encoding = self.setting("encoding") or "utf-8"
        try:
            if "\n".encode(encoding) != b"\n" or "\r".encode(encoding) != b"\r":
                return False
        except (LookupError, UnicodeError):
            return False
        return path.stat().st_size >= minimum

    def bad_line_text(self, key: str) -> str:
        """The text of a bad line of the current page (kept for the dead-letter list)."""
        return self._bad_text.pop(key, "")

    def dead_letter_line(self, text: str) -> str:
        """The line with card data masked field by field (``cea.common.redact``), each field keeping its
        width: the masking never reads digits of neighbouring fields as one number (a mainframe line
        runs account, balance and dates together), and a replay reads the line with the same layout."""
        if self.layout.format != "fixed":
            delimiter = self.setting("delimiter") or ","
            cells = next(csv.reader([text], delimiter=delimiter), [])
            return _csv_line([redact_cards(cell) for cell in cells], delimiter)
        line = text
        for spec in self.layout.fields:
            start, end = spec.start, spec.start + spec.length
            value = line[start:end]
            masked = redact_cards(value)
            if masked != value:
                line = line[:start] + masked[: len(value)].ljust(len(value)) + line[end:]
        return line

    def dead_letter_raw(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """``raw`` is ``{"key", "text", "header"}``: its line masked as ``dead_letter_line`` does."""
        kept = dict(raw)
        if isinstance(kept.get("text"), str):
            kept["text"] = self.dead_letter_line(kept["text"])
        return kept

    def _file_started(self, path: Path, sha: str, watermark: str) -> tuple[ProcessedFile, int]:
        """The file's ``ProcessedFile`` (made on first sight) and the last line already loaded."""
        with transaction.atomic():
            processed, created = ProcessedFile.objects.get_or_create(
                connector=self.config,
                sha256=sha,
                defaults={"filename": path.name, "size": path.stat().st_size, "run_id": self.run_id},
            )
            if processed.completed_at is not None:
                return processed, 0
            mark_sha, _, mark_line = watermark.partition(":")
            if not created and mark_sha == sha and mark_line.isdigit():
                return processed, int(mark_line)
            # Loaded again from the start (loading is idempotent): count again from zero.
            ProcessedFile.objects.filter(pk=processed.pk).update(lines=0, loaded=0, bad_lines=0, run_id=self.run_id)
            return processed, 0

    def page_loaded(self, page: Page, *, loaded: int, failed: int) -> None:
        """Called by the sync service inside the page's transaction: the file's counts move with it."""
        if not isinstance(page, FilePage) or not page.file_id:
            return
        changes: dict[str, Any] = {
            "lines": F("lines") + page.lines,
            "loaded": F("loaded") + loaded,
            "bad_lines": F("bad_lines") + failed,
            "run_id": self.run_id,
        }
        if page.last:
            changes["completed_at"] = timezone.now()
        ProcessedFile.objects.filter(pk=page.file_id).update(**changes)

    def fetch_customer(self, external_id: str) -> dict[str, Any]:
        raise ConnectorError(
            f"{self.config.name} is a file drop: it has no live look-up (its data is loaded into records).",
            permanent=True,
        )

    def health(self) -> dict[str, Any]:
        started = time.monotonic()
        try:
            waiting = len(self.waiting_files())
        except ConnectorError as error:
            return {"ok": False, "error": error.message, "latency_ms": (time.monotonic() - started) * 1000}
        return {"ok": True, "files_waiting": waiting, "latency_ms": (time.monotonic() - started) * 1000}


def _csv_line(cells: list[str], delimiter: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="").writerow(cells)
    return buffer.getvalue()
