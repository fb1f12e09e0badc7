"""The one connector interface every kind implements, and the one error type they raise.

A connector reaches one legacy system for four things:

- ``fetch_since(watermark)``: the records changed since a watermark, page by page. Each page
  carries the watermark to store once the page is loaded, so a run killed half-way resumes from
  the last page it finished (loading is idempotent, so a page loaded twice changes nothing);
- ``fetch_customer(external_id)``: one customer's data now (for the aggregated view);
- ``write_back(kind, payload, key)``: a change the system owns (``key`` makes it idempotent);
- ``health()``: whether the system answers, and how fast.

Items come out in CEA's canonical shape (``SourceItem``): the connector's ``mappings`` say which
source field becomes which canonical field (``apply_mappings``). Every failure is a
``ConnectorError`` whose ``permanent`` flag says whether trying again could help.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.conf import settings

from cea.common.redact import redact_cards, redact_cards_value
from integration.connectors.credentials import credential_env_problem, credential_file_resolved, secret_dir
from integration.connectors.models import Connector

# Canonical fields (what records' services take):
CUSTOMER_FIELDS = (
    "external_id",
    "given_name",
    "family_name",
    "email",
    "phone",
    "date_of_birth",
    "postcode",
    "account_number",
    "segment",
    "value_tier",
)
HOLDING_FIELDS = (
    "customer_external_id",
    "kind",
    "external_id",
    "name",
    "status",
    "amount",
    "currency",
    "as_of",
    "data",
)


class ConnectorError(Exception):
    """A legacy system did not do what was asked.

    ``permanent``: trying again will not help (bad credentials, a record the system rejects,
    malformed data); otherwise (timeouts, 5xx, 429, connection refused) a retry may succeed, after
    ``retry_after`` seconds when the system said so.
    """

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass(frozen=True)
class SourceItem:
    """One record from a source: a customer or a holding, in canonical fields.

    ``key`` identifies it in the source (for counts, dead letters and replays); ``raw`` is what
    the source sent, kept for the dead-letter list.
    """

    kind: str  # "customer" or "holding"
    key: str
    fields: dict[str, Any]
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Page:
    """Items read together, and the watermark to keep once they are loaded."""

    items: list[SourceItem]
    watermark: str
    # Lines or records the source sent that could not be read at all (with a line number).
    bad: list[tuple[str, str]] = field(default_factory=list)  # (key, reason)


def apply_mappings(row: Mapping[str, Any], mappings: Mapping[str, str]) -> dict[str, Any]:
    """``{canonical: row[source]}`` for each ``canonical: source`` in ``mappings``; unmapped fields pass as named."""
    if not mappings:
        return dict(row)
    return {canonical: row.get(source) for canonical, source in mappings.items()}


class BaseConnector:
    """What every connector kind implements (see the module's docstring)."""

    kind: ClassVar[str] = ""

    def __init__(self, config: Connector) -> None:
        self.config = config
        self.settings: dict[str, Any] = dict(config.settings or {})
        self.timeout = float(config.timeout_seconds)

    # --- Configuration -------------------------------------------------------------------------

    def setting(self, name: str, default: Any = None, *, required: bool = False) -> Any:
        value = self.settings.get(name, default)
        if required and value in (None, ""):
            raise ConnectorError(f"Connector {self.config.name}: the setting {name!r} is missing.", permanent=True)
        return value

    def secret(self) -> str:
        """The connector's secret from its environment variable or its file; never stored, never logged.

        Only from the allow-list (``integration.connectors.credentials``), checked again here since a
        row may predate it or have been written around the console.
        """
        name = self.config.name
        if self.config.credential_env:
            if credential_env_problem(self.config.credential_env) is not None:
                raise ConnectorError(
                    f"Connector {name}: the environment variable {self.config.credential_env} does not start with "
                    f"{settings.CEA_CONNECTOR_SECRET_ENV_PREFIX}; it may not hold a connector's secret.",
                    permanent=True,
                )
            value = os.environ.get(self.config.credential_env, "")
            if value:
                return value
            raise ConnectorError(
                f"Connector {self.config.name}: the environment variable {self.config.credential_env} is not set.",
                permanent=True,
            )
        if self.config.credential_file:
            path = credential_file_resolved(self.config.credential_file)
            if path is None:
                raise ConnectorError(f"Connector {name}: its secret file is not inside {secret_dir()}.", permanent=True)
            try:
                return path.read_text().strip()
            except OSError as error:
                raise ConnectorError(
                    f"Connector {self.config.name}: cannot read its secret file ({error.strerror}).", permanent=True
                ) from None
        return ""

    # --- The interface -------------------------------------------------------------------------

    def fetch_since(self, watermark: str) -> Iterator[Page]:
        raise NotImplementedError

    def fetch_customer(self, external_id: str) -> dict[str, Any]:
        raise NotImplementedError

    def write_back(self, kind: str, payload: Mapping[str, Any], key: str) -> dict[str, Any]:
        raise ConnectorError(f"{self.config.name} takes no write-back.", permanent=True)

    def health(self) -> dict[str, Any]:
        raise NotImplementedError

    # --- What the dead-letter list keeps -------------------------------------------------------------

    def dead_letter_raw(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """``raw`` (an item as the source sent it) as the dead-letter list keeps it: card data masked
        (``cea.common.redact``), value by value, the rest as it came so that a replay reads it again."""
        return dict(redact_cards_value(dict(raw)))

    def dead_letter_line(self, text: str) -> str:
        """A line that could not be read, as the dead-letter list keeps it: card data masked."""
        return redact_cards(text)


def customer_system_of(config: Connector) -> str:
    """The system whose customer numbers this system's records carry.

    Its own by default; ``settings["customer_system"]`` names another when the back-ends share one
    customer number (billing and orders keyed by the customer master's number): holdings then
    find their customer, and the aggregated view its link, through that system's source records.
    """
    return str((config.settings or {}).get("customer_system") or config.system)


KINDS: dict[str, type[BaseConnector]] = {}


def register_kind(cls: type[BaseConnector]) -> type[BaseConnector]:
    """Class decorator: the connector class for ``cls.kind``."""
    KINDS[cls.kind] = cls
    return cls


def connector_for(config: Connector) -> BaseConnector:
    """The connector object for a configured connector."""
    from integration.connectors import kinds  # noqa: F401 - registers every kind

    try:
        return KINDS[config.kind](config)
    except KeyError:
        raise ConnectorError(f"No connector of kind {config.kind!r}.", permanent=True) from None
