"""Satisfaction in the KPIs: the CSAT KPI of the contact rollup, from the surveys' answers on interactions."""

from __future__ import annotations

import datetime as dt

import pytest

from insights.kpis.rollup import contact_rollup_rebuild, contact_rollup_refresh
from insights.kpis.selectors import kpi_series
from records.interactions.services import interaction_set_satisfaction
from tests.accounts.factories import TeamFactory, UserFactory
from tests.insights.factories import T0, contact

pytestmark = pytest.mark.django_db
HOUR = dt.timedelta(hours=1)


def test_the_csat_kpi_is_satisfied_answers_over_answers_by_agent():
    # Given four contacts of two agents: answers 5 and 2 for anna, 4 for ben, none for one of ben's
    team = TeamFactory(name="north")
    anna, ben = UserFactory(username="anna", teams=[team]), UserFactory(username="ben", teams=[team])
    answers = [(anna, 5), (anna, 2), (ben, 4), (ben, None)]
    contacts = [
        contact(team=team, agent=agent, queued_at=T0 + dt.timedelta(minutes=n)) for n, (agent, _) in enumerate(answers)
    ]
    contact_rollup_rebuild(now=T0 + HOUR)
    # When the survey answers arrive later, and the rollup catches up with the changed interactions
    for interaction, (_, score) in zip(contacts, answers, strict=True):
        if score is not None:
            interaction_set_satisfaction(actor=None, interaction=interaction, csat=score)
    contact_rollup_refresh()
    # Then CSAT is the satisfied answers (4–5) over the answers, overall and per agent
    admin = UserFactory(role="admin")
    [total] = kpi_series(user=admin, kpis=["csat"], start=T0, end=T0 + HOUR, interval="hour").rows
    assert (total.values["csat"].numerator, total.values["csat"].denominator) == (2, 3)
    by_agent = kpi_series(user=admin, kpis=["csat"], start=T0, end=T0 + HOUR, interval="hour", group_by=["agent"])
    figures = {row.group["agent"]: row.values["csat"].value for row in by_agent.rows}
    assert figures == {anna.pk: 50.0, ben.pk: 100.0}
