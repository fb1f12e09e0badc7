"""The hot half of the context store: one JSON document per context in Redis.

A context is ``{"version": n, "customer": id|null, "entries": {key: {"v": json, "exp": epoch|null}}}``
under ``<prefix>:ctx:<scope>:<id>``. Every write is one Lua script, so that the version check, the
expiry of old entries, the size limits and the write happen atomically on the server. The Redis
key itself expires with the latest entry. Each value is kept as JSON text, so the script never
re-encodes it (Lua's cjson would turn ``[]`` into ``{}`` and round long numbers). Aliases (a call
id, a chat session) are plain keys pointing at ``<scope>:<id>``.

This module knows Redis only; ``engagement.context.services`` adds validation, the durable log,
journey events and live pushes.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import redis
from django.conf import settings

# KEYS[1] context key. ARGV: expected version (-1: any), now (epoch), changes JSON
# ({key: {"v": value, "exp": epoch|null}} or {key: false} to remove), replace (0/1),
# customer id ("" keeps), max bytes, max keys, default ttl seconds, and "1" to refuse a missing
# key ("missing": the caller rebuilds it from the durable log first) or "0" to start it at version 0.
_WRITE = """
local raw = redis.call('GET', KEYS[1])
local doc
if not raw and ARGV[9] == '1' then return cjson.encode({error = 'missing'}) end
if raw then doc = cjson.decode(raw) else doc = {version = 0, entries = {}} end
if doc.customer == nil then doc.customer = cjson.null end
local expected = tonumber(ARGV[1])
if expected >= 0 and expected ~= doc.version then
  return cjson.encode({error = 'version', version = doc.version})
end
local now = tonumber(ARGV[2])
local entries = {}
if ARGV[4] ~= '1' then
  for k, e in pairs(doc.entries) do
    if e.exp == cjson.null or e.exp == nil or e.exp > now then entries[k] = e end
  end
end
local changes = cjson.decode(ARGV[3])
for k, e in pairs(changes) do
  if e == false then entries[k] = nil else entries[k] = e end
end
local count, latest, forever = 0, now, false
for k, e in pairs(entries) do
  count = count + 1
  if e.exp == cjson.null or e.exp == nil then forever = true elseif e.exp > latest then latest = e.exp end
end
if count > tonumber(ARGV[7]) then
  return cjson.encode({error = 'keys', count = count})
end
if ARGV[5] ~= '' then doc.customer = tonumber(ARGV[5]) end
doc.version = doc.version + 1
if count == 0 then doc.entries = cjson.decode('{}') else doc.entries = entries end
local encoded = cjson.encode(doc)
if string.len(encoded) > tonumber(ARGV[6]) then
  return cjson.encode({error = 'size', size = string.len(encoded)})
end
local ttl = math.ceil(latest - now)
if forever or ttl < 1 then ttl = tonumber(ARGV[8]) end
redis.call('SET', KEYS[1], encoded, 'EX', ttl)
return encoded
"""


class ContextStoreError(Exception):
    def __init__(self, reason: str, detail: dict) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


@dataclass
class Entry:
    value: Any
    expires_at: datetime | None


@dataclass
class Context:
    scope: str
    id: str
    version: int = 0
    customer_id: int | None = None
    entries: dict[str, Entry] = field(default_factory=dict)

    @property
    def values(self) -> dict[str, Any]:
        return {key: entry.value for key, entry in self.entries.items()}


@lru_cache(maxsize=1)
def client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)


@lru_cache(maxsize=1)
def _write_script():
    return client().register_script(_WRITE)


def key_of(scope: str, context_id: str) -> str:
    return f"{settings.REDIS_PREFIX}:ctx:{scope}:{context_id}"


def alias_key(alias: str) -> str:
    return f"{settings.REDIS_PREFIX}:ctx-alias:{alias}"


def _epoch(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment else None


def _decode(scope: str, context_id: str, raw: str, now: float) -> Context:
    doc = json.loads(raw)
    entries = {
        key: Entry(
            value=json.loads(entry["v"]),
            expires_at=datetime.fromtimestamp(entry["exp"], UTC) if entry.get("exp") else None,
        )
        for key, entry in (doc.get("entries") or {}).items()
        if not entry.get("exp") or entry["exp"] > now
    }
    return Context(scope=scope, id=context_id, version=doc["version"], customer_id=doc.get("customer"), entries=entries)


def read(scope: str, context_id: str) -> Context | None:
    raw = client().get(key_of(scope, context_id))
    return _decode(scope, context_id, raw, time.time()) if raw else None


def read_many(scope: str, context_ids: list[str]) -> dict[str, Context]:
    """The live contexts of ``context_ids`` that Redis holds, in one round trip (none rebuilt)."""
    if not context_ids:
        return {}
    now = time.time()
    raws = client().mget([key_of(scope, context_id) for context_id in context_ids])
    return {
        context_id: _decode(scope, context_id, raw, now)
        for context_id, raw in zip(context_ids, raws, strict=True)
        if raw
    }


def write(
    scope: str,
    context_id: str,
    *,
    changes: dict[str, Entry | None],
    expected_version: int | None,
    replace: bool = False,
    customer_id: int | None = None,
    now: float | None = None,
    must_exist: bool = False,
) -> Context:
    """Apply ``changes`` (``None`` removes a key); raise ``ContextStoreError`` for a stale version or a limit.

    ``must_exist``: refuse (reason ``missing``) instead of starting a context Redis does not hold,
    so that the caller can bring it back from the durable log first without reading it beforehand.
    """
    now = time.time() if now is None else now
    encoded = {
        key: False if entry is None else {"v": json.dumps(entry.value), "exp": _epoch(entry.expires_at)}
        for key, entry in changes.items()
    }
    result = _write_script()(
        keys=[key_of(scope, context_id)],
        args=[
            -1 if expected_version is None else expected_version,
            now,
            json.dumps(encoded),
            "1" if replace else "0",
            "" if customer_id is None else customer_id,
            settings.CEA_CONTEXT_MAX_BYTES,
            settings.CEA_CONTEXT_MAX_KEYS,
            settings.CEA_CONTEXT_TTL_SECONDS,
            "1" if must_exist else "0",
        ],
    )
    doc = json.loads(result)
    if "error" in doc:
        raise ContextStoreError(doc.pop("error"), doc)
    return _decode(scope, context_id, result, now)


def restore(context: Context, ttl_seconds: int) -> bool:
    """Put a context rebuilt from the durable log back, unless a newer one arrived meanwhile."""
    doc = {
        "version": context.version,
        "customer": context.customer_id,
        "entries": {key: {"v": json.dumps(e.value), "exp": _epoch(e.expires_at)} for key, e in context.entries.items()},
    }
    return bool(client().set(key_of(context.scope, context.id), json.dumps(doc), ex=max(ttl_seconds, 1), nx=True))


def delete(scope: str, context_id: str) -> None:
    client().delete(key_of(scope, context_id))


def set_alias(alias: str, scope: str, context_id: str, ttl_seconds: int) -> None:
    client().set(alias_key(alias), f"{scope}:{context_id}", ex=ttl_seconds)


def resolve_alias(alias: str) -> tuple[str, str] | None:
    target = client().get(alias_key(alias))
    if not target:
        return None
    scope, _, context_id = target.partition(":")
    return scope, context_id
