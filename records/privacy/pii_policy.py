"""The redaction policy administrators set in the console: read (cached) and written.

Each process keeps the policy in memory and reloads it when the version in the shared cache
(Redis) changes — every change sets a new version, read at most once a second — so a change is
seen by every web process and worker within a second. ``records.apps`` hands
``pii_policy_current`` to ``cea.common.pii`` as its policy provider.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from cea.accounts.types import Actor
from cea.common import pii
from cea.common.errors import PermissionDenied, ValidationFailed
from cea.common.roles import is_admin
from cea.common.shared_version import shared_version, shared_version_bump
from records.privacy.models import PiiPolicy

VERSION_KEY = "records:pii-policy:version"
VERSION_CHECK_SECONDS = 1.0
MODE_FIELDS = {f"{kind.value}_mode": kind for kind in pii.CONFIGURABLE_KINDS}


@dataclass
class _Loaded:
    version: str
    checked_at: float
    policy: pii.PiiPolicy


_loaded: _Loaded | None = None


def policy_of(row: PiiPolicy | None) -> pii.PiiPolicy:
    """The redactor's policy for a stored row (the default policy without one)."""
    if row is None:
        return pii.DEFAULT_POLICY
    return pii.PiiPolicy.from_modes({kind.value: getattr(row, field) for field, kind in MODE_FIELDS.items()})


def pii_policy_current() -> pii.PiiPolicy:
    """The configured policy, from this process's memory (the shared version read at most once a
    second; a change made in this process is seen at once)."""
    global _loaded
    loaded, now = _loaded, time.monotonic()
    if loaded is not None and now - loaded.checked_at < VERSION_CHECK_SECONDS:
        return loaded.policy
    version = shared_version(VERSION_KEY)
    if loaded is None or loaded.version != version:
        try:
            row = PiiPolicy.objects.filter(pk=PiiPolicy.SINGLETON_ID).first()
        except Exception:
            # No query possible here (an async context, the database away): the policy read before
            # serves until a read succeeds; with none, the caller's fallback (the default policy).
            if loaded is None:
                raise
            loaded.checked_at = now
            return loaded.policy
        loaded = _loaded = _Loaded(version, now, policy_of(row))
    loaded.checked_at = now
    return loaded.policy


def _forget_here() -> None:
    global _loaded
    _loaded = None


def pii_policy_forget() -> None:
    """Every process reloads the policy at its next read: now, and again once the change commits."""
    shared_version_bump(VERSION_KEY, forget=_forget_here)


def pii_policy_check(*, modes: dict[str, Any]) -> pii.PiiPolicy:
    """The policy ``modes`` (``{"card_mode": "partial", …}``) would make; ``ValidationFailed`` by
    field for an unknown field or mode, or a card number kept in clear."""
    unknown = sorted(set(modes) - set(MODE_FIELDS))
    if unknown:
        raise ValidationFailed(
            f"Unknown policy fields: {', '.join(unknown)}.", fields={name: "Unknown." for name in unknown}
        )
    errors = {}
    for field, value in modes.items():
        try:
            pii.PiiPolicy.from_modes({MODE_FIELDS[field].value: value})
        except pii.PolicyError as error:
            errors[field] = str(error)
    if errors:
        raise ValidationFailed("The redaction policy is not valid.", fields=errors)
    current = policy_of(PiiPolicy.objects.filter(pk=PiiPolicy.SINGLETON_ID).first()).as_modes()
    return pii.PiiPolicy.from_modes({**current, **{MODE_FIELDS[f].value: v for f, v in modes.items()}})


@transaction.atomic
def pii_policy_update(*, actor: Actor, modes: dict[str, Any]) -> PiiPolicy:
    """Set the redaction policy's modes (administrators only); seen by every process within a
    second of the commit. Takes the row's lock (``select_for_update``)."""
    if actor is not None and not is_admin(actor):  # None: the platform itself (a command, a migration)
        raise PermissionDenied("Only an administrator may change the redaction policy.")
    pii_policy_check(modes=modes)
    PiiPolicy.objects.get_or_create(pk=PiiPolicy.SINGLETON_ID)
    row = PiiPolicy.objects.select_for_update().get(pk=PiiPolicy.SINGLETON_ID)
    for field, value in modes.items():
        setattr(row, field, str(value))
    row.updated_by = actor if actor is not None and actor.is_authenticated else None
    row.save()
    pii_policy_forget()
    return row
