"""Reading the audit trail: who changed what, when, with the before/after of each field."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pghistory.models
from django.contrib.auth import get_user_model
from django.db.models import Model


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    label: str  # insert / update / delete
    model: str
    object_id: Any
    user_id: int | None
    username: str | None
    url: str | None
    changes: dict[str, list[Any]]  # field -> [before, after]; an insert has no before, a delete no after


def audit_trail(*, objs: Iterable[Model], limit: int = 200) -> list[AuditEntry]:
    """The audit events of ``objs`` (and of rows referencing them, e.g. a customer's identities), newest first."""
    rows = list(pghistory.models.Events.objects.references(*objs).order_by("-pgh_created_at", "-pgh_id")[:limit])
    user_ids = {(row.pgh_context or {}).get("user") for row in rows} - {None}
    names: dict[Any, str] = dict(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "username"))
    entries = []
    for row in rows:
        metadata = row.pgh_context or {}
        user_id = metadata.get("user")
        if row.pgh_diff is not None:
            changes = row.pgh_diff
        elif row.pgh_label == "delete":  # the row as it was before it went
            changes = {k: [v, None] for k, v in (row.pgh_data or {}).items()}
        else:
            changes = {k: [None, v] for k, v in (row.pgh_data or {}).items()}
        changes.pop("updated_at", None)
        entries.append(
            AuditEntry(
                at=row.pgh_created_at,
                label=row.pgh_label,
                model=row.pgh_model,
                object_id=row.pgh_obj_id,
                user_id=user_id,
                username=names.get(user_id),
                url=metadata.get("url"),
                changes=changes,
            )
        )
    return entries
