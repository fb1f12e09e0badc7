"""The context store's public face: read, write (with version), delete, aliases, restore.

Redis holds each context hot (``engagement.context.store``); every change is also written to
the durable ``ContextChange`` log and, when the context belongs to a customer, to the
customer's journey. A context missing from Redis (expired, or Redis restarted) is rebuilt from
the log on the next read or write. Subscribed browsers get each change after the commit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cea.accounts.models import User
from cea.accounts.types import Actor
from cea.common.errors import Conflict, ValidationFailed
from cea.common.live import push_on_commit
from cea.common.pii import redact_text, redact_value
from engagement.context import store
from engagement.context.models import ContextChange, ContextScope
from engagement.context.store import Context, ContextStoreError, Entry
from records.customers.models import Customer
from records.journey.services import journey_record

KEY_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_.:\-]{0,99}$")
MAX_TTL_SECONDS = 30 * 24 * 3600


def limits() -> dict[str, int]:
    """The limits this deployment enforces, as clients should read them."""
    return {
        "default_ttl_seconds": settings.CEA_CONTEXT_TTL_SECONDS,
        "max_ttl_seconds": MAX_TTL_SECONDS,
        "max_context_bytes": settings.CEA_CONTEXT_MAX_BYTES,
        "max_value_bytes": settings.CEA_CONTEXT_MAX_VALUE_BYTES,
        "max_keys": settings.CEA_CONTEXT_MAX_KEYS,
    }


def live_group(*, scope: str, context_id: str | int) -> str:
    return f"context.{scope}.{context_id}"


# --- Reading --------------------------------------------------------------------------------


def _rebuild(scope: str, context_id: str) -> Context | None:
    """Replay the durable log of a context; ``None`` if it never had a change."""
    changes = list(ContextChange.objects.filter(scope=scope, context_id=context_id).order_by("id"))
    if not changes:
        return None
    context = Context(scope=scope, id=context_id)
    for change in changes:
        if change.changes.get("__replaced__"):
            context.entries = {}
        for key, entry in change.changes.items():
            if key.startswith("__"):
                continue
            if entry.get("removed"):
                context.entries.pop(key, None)
            else:
                expires = datetime.fromisoformat(entry["expires_at"]) if entry.get("expires_at") else None
                context.entries[key] = Entry(value=entry["value"], expires_at=expires)
        context.version = change.version
        context.customer_id = change.customer_id or context.customer_id
    now = timezone.now()
    context.entries = {k: e for k, e in context.entries.items() if e.expires_at is None or e.expires_at > now}
    return context


def context_read(*, scope: str, context_id: str | int) -> Context:
    """The live context (empty, version 0, if it never existed); rebuilt from the log if Redis lost it."""
    context_id = str(context_id)
    context = store.read(scope, context_id)
    if context is not None:
        return context
    rebuilt = _rebuild(scope, context_id)
    if rebuilt is None:
        return Context(scope=scope, id=context_id)
    store.restore(rebuilt, settings.CEA_CONTEXT_TTL_SECONDS)
    return store.read(scope, context_id) or rebuilt


def context_resolve(*, alias: str) -> tuple[str, str] | None:
    return store.resolve_alias(alias)


# --- Writing --------------------------------------------------------------------------------


def _validate(values: Mapping[str, Any], ttl_seconds: Mapping[str, int] | int | None) -> None:
    errors: dict[str, list[str]] = {}
    for key, value in values.items():
        if not isinstance(key, str) or not KEY_PATTERN.match(key):
            errors.setdefault("values", []).append(
                f"Key {key!r}: letters, digits and _ . : - only, starting with a letter, at most 100 characters."
            )
            continue
        if value is None:
            continue
        try:
            size = len(json.dumps(value).encode())
        except (TypeError, ValueError):
            errors.setdefault("values", []).append(f"Key {key!r}: the value is not JSON.")
            continue
        if size > settings.CEA_CONTEXT_MAX_VALUE_BYTES:
            errors.setdefault("values", []).append(
                f"Key {key!r}: the value is {size} bytes; the limit is {settings.CEA_CONTEXT_MAX_VALUE_BYTES}."
            )
    ttls = ttl_seconds.values() if isinstance(ttl_seconds, Mapping) else [ttl_seconds]
    for ttl in ttls:
        if ttl is not None and (not isinstance(ttl, int) or isinstance(ttl, bool) or not 1 <= ttl <= MAX_TTL_SECONDS):
            errors.setdefault("ttl_seconds", []).append(
                f"A TTL is a whole number of seconds from 1 to {MAX_TTL_SECONDS}."
            )
            break
    if isinstance(ttl_seconds, Mapping):
        unknown = set(ttl_seconds) - set(values)
        if unknown:
            errors.setdefault("ttl_seconds", []).append(
                f"TTLs given for keys not written: {', '.join(sorted(unknown))}."
            )
    if errors:
        problems = " ".join(message for messages in errors.values() for message in messages)
        raise ValidationFailed(f"The context change is invalid. {problems}", fields=errors)


def context_write(
    *,
    actor: Actor,
    scope: str,
    context_id: str | int,
    values: Mapping[str, Any],
    ttl_seconds: Mapping[str, int] | int | None = None,
    expected_version: int | None = None,
    replace: bool = False,
    customer_id: int | None = None,
    source: str = "engagement",
    summary: str = "",
) -> Context:
    """Set keys (a value of ``None`` removes the key); return the context after the change.

    A unit of work of its own: Redis is written at once, the durable log in the same call (one
    autocommitted row, or a transaction with the customer's journey row; a savepoint inside a
    caller's transaction). A service changing other rows in a transaction that may still roll back
    calls ``context_write_on_commit`` instead, so that the context never gets ahead of them.

    ``expected_version``: refuse (``Conflict``, 409) unless the context is at that version, for
    optimistic concurrency. ``replace``: the keys given become the whole context (PUT).
    ``ttl_seconds``: one TTL for every key written, or a TTL per key; default
    ``CEA_CONTEXT_TTL_SECONDS``. Over a limit: ``ValidationFailed`` and nothing is written.

    Every text in the values (keys kept) and the summary are redacted (``cea.common.pii``) before
    Redis, the durable log, the journey or a push sees them: every channel and system writes here.
    """
    if scope not in ContextScope.values:
        raise ValidationFailed(f"Unknown context scope {scope!r}.", fields={"scope": f"One of {ContextScope.values}."})
    context_id = str(context_id)
    if isinstance(values, Mapping):  # anything else is refused by the validation below
        values = {key: redact_value(value) for key, value in values.items()}
    summary = redact_text(summary)
    _validate(values, ttl_seconds)
    now = timezone.now()
    changes: dict[str, Entry | None] = {}
    for key, value in values.items():
        ttl = ttl_seconds.get(key) if isinstance(ttl_seconds, Mapping) else ttl_seconds
        ttl = ttl or settings.CEA_CONTEXT_TTL_SECONDS
        changes[key] = None if value is None else Entry(value=value, expires_at=now + timedelta(seconds=ttl))

    def hot_write(*, must_exist: bool) -> Context:
        return store.write(
            scope,
            context_id,
            changes=changes,
            expected_version=expected_version,
            replace=replace,
            customer_id=customer_id,
            now=now.timestamp(),
            must_exist=must_exist,
        )

    try:
        try:
            context = hot_write(must_exist=True)
        except ContextStoreError as exc:
            if exc.reason != "missing":
                raise
            # Redis lost it (expired, restarted) or it is new: bring back what the log holds, then change it.
            context_read(scope=scope, context_id=context_id)
            context = hot_write(must_exist=False)
    except ContextStoreError as exc:
        raise _refusal(exc, scope, context_id) from None
    # One log row alone is atomic in autocommit: a transaction of its own (BEGIN, COMMIT: two more
    # round trips) only when a journey row goes with it, or as a savepoint in the caller's.
    together = context.customer_id is not None or transaction.get_connection().in_atomic_block
    try:
        with transaction.atomic() if together else nullcontext():
            _log(
                actor=actor, context=context, changes=changes, replace=replace, source=source, now=now, summary=summary
            )
    except Exception:
        # The durable log is the truth: drop the hot copy so that the next read rebuilds from it.
        store.delete(scope, context_id)
        raise
    return context


def context_write_on_commit(**kwargs: Any) -> None:
    """``context_write(**kwargs)`` once the current transaction commits (nothing if it rolls back)."""
    transaction.on_commit(lambda: context_write(**kwargs))


def _refusal(exc: ContextStoreError, scope: str, context_id: str) -> Exception:
    if exc.reason == "version":
        return Conflict(
            f"The context {scope}/{context_id} is at version {exc.detail['version']}; reload it and retry.",
            code="stale_version",
        )
    if exc.reason == "keys":
        return ValidationFailed(
            f"The context would hold {exc.detail['count']} keys; the limit is {settings.CEA_CONTEXT_MAX_KEYS}.",
            fields={"values": "Too many keys."},
            code="context_too_large",
        )
    return ValidationFailed(
        f"The context would be {exc.detail['size']} bytes; the limit is {settings.CEA_CONTEXT_MAX_BYTES}.",
        fields={"values": "The context is too large."},
        code="context_too_large",
    )


def _log(
    *,
    actor: Actor,
    context: Context,
    changes: Mapping[str, Any],
    replace: bool,
    source: str,
    now: datetime,
    summary: str,
) -> None:
    logged: dict[str, Any] = {"__replaced__": True} if replace else {}
    for key, entry in changes.items():
        logged[key] = (
            {"removed": True}
            if entry is None
            else {"value": entry.value, "expires_at": entry.expires_at.astimezone(UTC).isoformat()}
        )
    ContextChange.objects.create(
        scope=context.scope,
        context_id=context.id,
        customer_id=context.customer_id,
        version=context.version,
        changes=logged,
        source=source,
        actor=actor if isinstance(actor, User) and actor.pk else None,
        changed_at=now,
    )
    if context.customer_id is not None:
        journey_record(
            customer=Customer(pk=context.customer_id),
            kind="context.changed",
            source_system=source,
            summary=summary or f"Context {context.scope} {context.id}: {', '.join(sorted(changes)) or 'cleared'}",
            payload={
                "scope": context.scope,
                "context_id": context.id,
                "version": context.version,
                "keys": sorted(changes),
            },
            occurred_at=now,
        )
    event = {
        "type": "context.changed",
        "scope": context.scope,
        "id": context.id,
        "version": context.version,
        "values": context.values,
        "changed": sorted(changes),
    }
    # The writer does not wait for Redis to take the pushes (they still go out in order, after the commit).
    push_on_commit(live_group(scope=context.scope, context_id=context.id), event, wait=False)
    if context.customer_id is not None and context.scope != ContextScope.CUSTOMER:
        push_on_commit(live_group(scope=ContextScope.CUSTOMER, context_id=context.customer_id), event, wait=False)


def context_delete(*, actor: Actor, scope: str, context_id: str | int, source: str = "engagement") -> Context:
    """Remove every key (the durable log keeps the history); returns the now-empty context."""
    current = context_read(scope=scope, context_id=context_id)
    if current.version == 0:
        return current
    return context_write(
        actor=actor,
        scope=scope,
        context_id=context_id,
        values={},
        replace=True,
        source=source,
        summary=f"Context {scope} {context_id} cleared",
    )


def context_alias(*, alias: str, scope: str, context_id: str | int, ttl_seconds: int | None = None) -> None:
    """Let ``alias`` (a call id, a chat session …) find this context."""
    if not alias or len(alias) > 200:
        raise ValidationFailed("An alias is 1-200 characters.", fields={"alias": "Invalid."})
    store.set_alias(alias, scope, str(context_id), ttl_seconds or settings.CEA_CONTEXT_TTL_SECONDS)
