"""The compliance report: verdicts per queue, agent and rule, and the flagged interactions; and one
interaction's verdicts. Callers pass the scope (``compliance_scope``) they checked."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from cea.accounts.types import Actor
from cea.common.errors import PermissionDenied
from cea.common.roles import Role, role_of, sees_everything, team_ids_of
from insights.compliance.models import ComplianceCheck, ComplianceRule
from records.access import require_signed_in

FLAGGED_LIMIT = 200


def compliance_scope(user: Actor) -> frozenset[int] | None:
    """The teams whose verdicts ``user`` may read (``None``: all, for admins and integration clients);
    supervisors their teams; anyone else ``PermissionDenied``."""
    require_signed_in(user)
    if sees_everything(user):
        return None
    if role_of(user) == Role.SUPERVISOR:
        return team_ids_of(user)
    raise PermissionDenied("The compliance report is for supervisors and administrators.")


def _checks(*, team_ids: frozenset[int] | None, start: dt.datetime, end: dt.datetime) -> QuerySet[ComplianceCheck]:
    rows = ComplianceCheck.objects.filter(interaction_started_at__gte=start, interaction_started_at__lt=end)
    return rows if team_ids is None else rows.filter(team_id__in=sorted(team_ids))


@dataclass(frozen=True)
class RateRow:
    key: str
    label: str
    checks: int
    failed: int

    @property
    def pass_rate(self) -> float | None:
        return round((self.checks - self.failed) / self.checks, 4) if self.checks else None

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "checks": self.checks,
            "failed": self.failed,
            "pass_rate": self.pass_rate,
        }


def _rates(rows: QuerySet[ComplianceCheck], key: str, label: str) -> list[RateRow]:
    grouped = (
        rows.values(key, label)
        .annotate(checks=Count("id"), failed=Count("id", filter=Q(passed=False)))
        .order_by("-failed", label)
    )
    return [
        RateRow(
            key=str(row[key] if row[key] is not None else ""),
            label=str(row[label] or "—"),
            checks=row["checks"],
            failed=row["failed"],
        )
        for row in grouped
    ]


@dataclass(frozen=True)
class ComplianceReport:
    start: dt.datetime
    end: dt.datetime
    total: RateRow
    by_queue: list[RateRow]
    by_agent: list[RateRow]
    by_rule: list[RateRow]
    flagged: list[ComplianceCheck]


def compliance_report(*, team_ids: frozenset[int] | None, start: dt.datetime, end: dt.datetime) -> ComplianceReport:
    """Verdicts of interactions started in ``[start, end)`` of ``team_ids`` (``None``: all): set-wise counts,
    and the newest ``FLAGGED_LIMIT`` failed verdicts."""
    rows = _checks(team_ids=team_ids, start=start, end=end)
    totals = rows.aggregate(checks=Count("id"), failed=Count("id", filter=Q(passed=False)))
    flagged = list(
        rows.filter(passed=False)
        .select_related("rule", "agent", "team")
        .order_by("-interaction_started_at", "-id")[:FLAGGED_LIMIT]
    )
    return ComplianceReport(
        start=start,
        end=end,
        total=RateRow(key="", label="All", checks=totals["checks"], failed=totals["failed"]),
        by_queue=_rates(rows, "queue", "queue"),
        by_agent=_rates(rows, "agent_id", "agent__username"),
        by_rule=_rates(rows, "rule__key", "rule__name"),
        flagged=flagged,
    )


def interaction_checks(*, interaction_id: int) -> list[ComplianceCheck]:
    """One interaction's verdicts, by rule (the caller checked the interaction)."""
    return list(
        ComplianceCheck.objects.filter(interaction_id=interaction_id).select_related("rule").order_by("rule__key")
    )


def rules_all() -> list[ComplianceRule]:
    return list(ComplianceRule.objects.order_by("queue", "key"))
