"""A legacy SQL database reached with SQLAlchemy through a connection URL.

Settings (``Connector.settings``):

- ``url``: the connection URL **without** a password (``postgresql://crm@db.internal/crm``,
  ``sqlite:////path/file.db``); the password is the connector's secret, added when connecting;
- ``sources``: the tables read, in turn: ``{"name", "table", "key", "updated"}`` for customers,
  plus ``"holding_kind"`` and ``"customer_column"`` for a table of holdings; ``mappings[name]``
  maps each table's columns to canonical fields;
- ``page_size`` (default 500).

Reads are incremental by ``(updated, key)``: the watermark is a JSON object of each source's last
``[updated, key]``, and the next read starts strictly after it, so nothing is read twice and a
row with the same time as the last one is not skipped.

Failures: a database that cannot be reached or times out is retryable; refused credentials, a
missing table or column, or a malformed URL are permanent. Messages never carry the password.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, MetaData, Table, and_, create_engine, or_, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, NoSuchTableError, OperationalError, SQLAlchemyError

from integration.connectors.base import BaseConnector, ConnectorError, Page, register_kind
from integration.connectors.canonical import customer_item, holding_item

_AUTH_FAILURES = ("password authentication failed", "authentication failed", "access denied", "no password supplied")

# One engine (and its pool) per connector configuration and process.
_engines: dict[tuple[str, str], Engine] = {}
_engines_lock = threading.Lock()


def _sqlalchemy_url(raw: str) -> URL:
    url = make_url(raw)
    # psycopg 3 is the PostgreSQL driver installed; a URL naming psycopg2 (which is not) gets it too.
    if url.drivername in ("postgres", "postgresql", "postgresql+psycopg2"):
        url = url.set(drivername="postgresql+psycopg")
    return url


@register_kind
class SqlConnector(BaseConnector):
    kind = "sql"

    def __init__(self, config) -> None:
        super().__init__(config)
        self.page_size = int(self.setting("page_size", 500))
        self._tables: dict[str, Table] = {}

    # --- Connecting ----------------------------------------------------------------------------

    def _url(self) -> URL:
        try:
            url = _sqlalchemy_url(self.setting("url", required=True))
        except ArgumentError:
            raise ConnectorError(
                f"Connector {self.config.name}: the setting 'url' is not a database URL.", permanent=True
            ) from None
        if url.password:
            raise ConnectorError(
                f"Connector {self.config.name}: the URL must not hold a password; give it as the connector's secret.",
                permanent=True,
            )
        secret = self.secret()
        return url.set(password=secret) if secret else url

    @property
    def engine(self) -> Engine:
        url = self._url()
        key = (self.config.name, url.render_as_string(hide_password=False))
        with _engines_lock:
            engine = _engines.get(key)
            if engine is None:
                connect_args: dict[str, Any] = {}
                if url.get_backend_name() == "postgresql":
                    connect_args = {
                        "connect_timeout": max(1, round(self.timeout)),
                        "options": f"-c statement_timeout={int(self.timeout * 1000)}",
                    }
                elif url.get_backend_name() == "sqlite":
                    connect_args = {"timeout": self.timeout}
                try:
                    engine = create_engine(url, connect_args=connect_args, pool_pre_ping=True, pool_size=2)
                except TypeError:  # pools without a size (SQLite's)
                    engine = create_engine(url, connect_args=connect_args, pool_pre_ping=True)
                except (ArgumentError, NoSuchModuleError):
                    raise ConnectorError(
                        f"Connector {self.config.name}: no database driver for this URL.", permanent=True
                    ) from None
                _engines[key] = engine
        return engine

    def _guarded(self, what: str, call) -> Any:
        where = f"{self.config.name}: {what}"
        try:
            return call()
        except NoSuchTableError as error:
            raise ConnectorError(f"{where}: no table {error}.", permanent=True) from None
        except OperationalError as error:
            reason = self._scrub(str(error.orig or error)).splitlines()[0][:200]
            permanent = any(marker in reason.lower() for marker in _AUTH_FAILURES)
            if "no such table" in reason or "no such column" in reason:
                permanent = True
            raise ConnectorError(f"{where}: the database failed: {reason}", permanent=permanent) from None
        except SQLAlchemyError as error:
            reason = self._scrub(str(getattr(error, "orig", None) or error)).splitlines()[0][:200]
            raise ConnectorError(f"{where}: {type(error).__name__}: {reason}", permanent=True) from None

    def _scrub(self, message: str) -> str:
        secret = self.secret()
        return message.replace(secret, "***") if secret else message

    def _table(self, name: str) -> Table:
        if name not in self._tables:
            self._tables[name] = self._guarded(
                f"reading table {name}", lambda: Table(name, MetaData(), autoload_with=self.engine)
            )
        return self._tables[name]

    def _sources(self) -> list[dict[str, Any]]:
        sources = self.setting("sources", required=True)
        if not isinstance(sources, list) or not all(
            isinstance(source, dict) and {"name", "table", "key", "updated"} <= set(source) for source in sources
        ):
            raise ConnectorError(
                f"Connector {self.config.name}: each source needs a name, table, key and updated column.",
                permanent=True,
            )
        return sources

    def _column(self, table: Table, name: str):
        try:
            return table.c[name]
        except KeyError:
            raise ConnectorError(
                f"{self.config.name}: table {table.name} has no column {name!r}.", permanent=True
            ) from None

    def _item(self, source: Mapping[str, Any], row: Mapping[str, Any]):
        mapping = (self.config.mappings or {}).get(source["name"], {})
        if source.get("holding_kind"):
            return holding_item(row, mapping, holding_kind=source["holding_kind"])
        return customer_item(row, mapping)

    # --- The interface -------------------------------------------------------------------------

    def _instant(self, value: str) -> datetime:
        moment = datetime.fromisoformat(value)
        if self.engine.dialect.name == "sqlite":  # SQLite keeps naive UTC times
            return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    def fetch_since(self, watermark: str) -> Iterator[Page]:
        try:
            positions: dict[str, list[str]] = json.loads(watermark) if watermark else {}
        except ValueError:
            raise ConnectorError(
                f"{self.config.name}: the watermark {watermark!r} is not this connector's.", permanent=True
            ) from None
        for source in self._sources():
            table = self._table(source["table"])
            updated, key = self._column(table, source["updated"]), self._column(table, source["key"])
            position = positions.get(source["name"])
            while True:
                query = select(table).order_by(updated, key).limit(self.page_size)
                if position:
                    after = self._instant(position[0])
                    query = query.where(or_(updated > after, and_(updated == after, key > position[1])))
                rows = self._guarded(f"reading {table.name}", lambda q=query: self._rows(q))
                if not rows:
                    break
                last = rows[-1]
                moment = last[source["updated"]]
                if isinstance(moment, datetime) and moment.tzinfo is None:
                    moment = moment.replace(tzinfo=UTC)
                position = [
                    moment.isoformat() if isinstance(moment, datetime) else str(moment),
                    str(last[source["key"]]),
                ]
                positions = {**positions, source["name"]: position}
                yield Page(
                    items=[self._item(source, row) for row in rows],
                    watermark=json.dumps(positions, sort_keys=True, separators=(",", ":")),
                )
                if len(rows) < self.page_size:
                    break

    def _rows(self, query) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def fetch_customer(self, external_id: str) -> dict[str, Any]:
        customer: dict[str, Any] | None = None
        holdings: list[dict[str, Any]] = []
        for source in self._sources():
            table = self._table(source["table"])
            if source.get("holding_kind"):
                column = self._column(table, source.get("customer_column", ""))
            else:
                column = self._column(table, source["key"])
            query = select(table).where(column == external_id).order_by(self._column(table, source["key"]))
            for row in self._guarded(f"reading {table.name}", lambda q=query: self._rows(q)):
                item = self._item(source, row)
                if item.kind == "customer":
                    customer = item.fields
                else:
                    holdings.append(item.fields)
        return {
            "system": self.config.system,
            "customer_external_id": external_id,
            "customer": customer,
            "holdings": holdings,
        }

    def health(self) -> dict[str, Any]:
        started = time.perf_counter()

        def ping() -> None:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))

        try:
            self._guarded("connecting", ping)
        except ConnectorError as error:
            return {"ok": False, "error": error.message, "permanent": error.permanent, "seconds": _since(started)}
        return {"ok": True, "seconds": _since(started)}


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 4)
