"""Reads for cases."""

from __future__ import annotations

from django.db.models import Case as SqlCase
from django.db.models import IntegerField, QuerySet, Value, When

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
