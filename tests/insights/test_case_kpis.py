"""Case backlog and case SLA compliance, by hand.

North's cases, read by the hour from 09:00 (T0):
- #1 created 09:01, first answered 09:30 (due 10:00: met), resolved 11:00 (due the next day: met);
- #2 created 09:02, first response due 09:12, not answered and flagged breached; still open;
- #3 created the day before, still open, no SLA targets.
Hour 09: opened 2, backlog 1 + 2 = 3, first response 1 met of 2 decided (50 %), resolution 1 of 1.
Hour 11: resolved 1, backlog 2. (Hour 10 has no case event and no row.)
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from insights.kpis.rollup import contact_rollup_rebuild, contact_rollup_refresh
from insights.kpis.selectors import kpi_series
from records.cases.models import Case
from tests.accounts.factories import TeamFactory, UserFactory
from tests.insights.factories import T0
from tests.records.factories import CaseFactory, CustomerFactory

pytestmark = pytest.mark.django_db
MINUTE, HOUR = dt.timedelta(minutes=1), dt.timedelta(hours=1)
CASE_KPIS = ["cases_opened", "cases_resolved", "case_backlog", "case_first_response_sla", "case_resolution_sla"]


@pytest.fixture
def north():
    team = TeamFactory(name="north")
    customer = CustomerFactory(team=team)
    CaseFactory(
        customer=customer,
        team=team,
        created_at=T0 + MINUTE,
        first_response_due_at=T0 + HOUR,
        first_responded_at=T0 + 30 * MINUTE,
        resolution_due_at=T0 + 24 * HOUR,
        resolved_at=T0 + 2 * HOUR,
        status="resolved",
    )
    CaseFactory(
        customer=customer,
        team=team,
        created_at=T0 + 2 * MINUTE,
        first_response_due_at=T0 + 12 * MINUTE,
        first_response_breached=True,
        status="new",
    )
    CaseFactory(customer=customer, team=team, created_at=T0 - 24 * HOUR, status="open")
    contact_rollup_rebuild(now=T0 + 3 * HOUR)
    return team


def _figures(user):
    series = kpi_series(user=user, kpis=CASE_KPIS, start=T0, end=T0 + 3 * HOUR, interval="hour")
    return {
        row.interval_start.astimezone(dt.UTC): {
            name: (value.numerator, value.value) for name, value in row.values.items()
        }
        for row in series.rows
    }


def test_backlog_and_sla_compliance_are_the_hand_computation(north):
    # Given / When a supervisor of north reads the three hours
    figures = _figures(UserFactory(role="supervisor", teams=[north]))
    # Then
    assert figures == {
        T0: {
            "cases_opened": (2, 2),
            "cases_resolved": (0, 0),
            "case_backlog": (3, 3),
            "case_first_response_sla": (1, 50.0),
            "case_resolution_sla": (1, 100.0),
        },
        T0 + 2 * HOUR: {
            "cases_opened": (0, 0),
            "cases_resolved": (1, 1),
            "case_backlog": (2, 2),
            "case_first_response_sla": (0, None),
            "case_resolution_sla": (0, None),
        },
    }


def test_another_teams_supervisor_sees_no_cases(north):
    # Given / When / Then
    assert _figures(UserFactory(role="supervisor", teams=[TeamFactory(name="south")])) == {}


def test_a_case_resolved_later_is_rolled_up_by_the_next_run(north):
    # Given the breached case, answered and resolved now
    Case.objects.filter(first_response_breached=True).update(
        first_responded_at=T0 + 20 * MINUTE, resolved_at=T0 + 150 * MINUTE, status="resolved", updated_at=timezone.now()
    )
    # When the rollup runs
    contact_rollup_refresh(now=timezone.now())
    # Then its first response counts as breached still (20 min > 12 min due) and it left the backlog
    figures = _figures(UserFactory(role="admin"))
    assert figures[T0 + 2 * HOUR]["cases_resolved"] == (2, 2)
    assert figures[T0 + 2 * HOUR]["case_backlog"] == (1, 1)
    assert figures[T0]["case_first_response_sla"] == (1, 50.0)
