"""Turning a source's row into a ``SourceItem`` in canonical fields: shared by the connector kinds.

Values come out JSON-safe, whatever the source's types: dates and times as ISO 8601 strings,
decimals as strings (no float rounding), so an item can be stored (dead letters), compared
(checksums) and sent on as it is.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from integration.connectors.base import SourceItem, apply_mappings


def json_safe(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, Mapping):
        return {str(name): json_safe(item) for name, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [json_safe(item) for item in value]
    return value


def customer_item(row: Mapping[str, Any], mapping: Mapping[str, str]) -> SourceItem:
    raw = json_safe(dict(row))
    fields = apply_mappings(raw, mapping)
    return SourceItem(kind="customer", key=f"customer:{fields.get('external_id')}", fields=fields, raw=raw)


def holding_item(row: Mapping[str, Any], mapping: Mapping[str, str], *, holding_kind: str = "") -> SourceItem:
    """A holding; ``holding_kind`` when the row does not say its own kind; unmapped fields go to ``data``."""
    raw = json_safe(dict(row))
    fields = apply_mappings(raw, mapping)
    if not fields.get("kind"):
        fields["kind"] = holding_kind
    if mapping and "data" not in mapping:
        used = set(mapping.values())
        fields["data"] = {name: value for name, value in raw.items() if name not in used}
    return SourceItem(kind="holding", key=f"{fields['kind']}:{fields.get('external_id')}", fields=fields, raw=raw)
