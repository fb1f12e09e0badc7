"""Reads for cases."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Case as SqlCase
from django.db.models import IntegerField, QuerySet, Value, When
from django.db.models.functions import Coalesce

from records.cases.models import Case, CasePriority

PRIORITY_RANK = {CasePriority.LOW: 1, CasePriority.NORMAL: 2, CasePriority.HIGH: 3, CasePriority.URGENT: 4}


def cases_with_priority_rank(*, cases: QuerySet[Case]) -> QuerySet[Case]:
    """Annotate ``priority_rank`` (low 1 … urgent 4), so that cases sort by urgency, not alphabetically."""
    return cases.annotate(
        priority_rank=SqlCase(
            *(When(priority=priority, then=Value(rank)) for priority, rank in PRIORITY_RANK.items()),
            output_field=IntegerField(),
        )
    )


def cases_changed(*, after: datetime | None, until: datetime) -> QuerySet[Case]:
    """Cases created or changed in ``(after, until]`` (all up to ``until`` when ``after`` is None)."""
    changed = Case.objects.filter(updated_at__lte=until)
    return changed if after is None else changed.filter(updated_at__gt=after)


def case_facts() -> QuerySet[Case]:
    """Every case with what insights' case rollup reads: created, resolved (or closed) and the SLA times."""
    return Case.objects.order_by().annotate(done_at=Coalesce("resolved_at", "closed_at"))
