"""The service level's formulas: Amazon Connect's default and the Genesys-style variants, exactly.

The issue's fixture: 100 queued; 70 answered within 20 s, 10 later; 15 abandoned within 20 s,
5 of them within 5 s; 5 abandoned later.
- Connect: removed from the queue within 20 s (70 answered + 15 abandoned) ÷ 100 queued = 85 %.
- Genesys, abandons counted: answered within ÷ (answered + abandoned) = 70 ÷ 100 = 70 %.
- Genesys, short abandons left out: 70 ÷ (100 − 5 short abandons) = 70 ÷ 95 = 73.7 %.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from engagement.routing.models import Queue
from insights.kpis.definitions import QueueOutcomes, ServiceLevelTerms, service_level_fraction
from insights.kpis.rollup import contact_rollup_rebuild
from insights.kpis.selectors import kpi_series
from tests.accounts.factories import UserFactory
from tests.insights.factories import T0, service_level_fixture

FIXTURE = QueueOutcomes(
    answered_within=70, answered_after=10, abandoned_within=15, abandoned_after=5, short_abandoned=5
)
CONNECT = ServiceLevelTerms()
GENESYS_ALL_ABANDONS = ServiceLevelTerms(formula="genesys")
GENESYS_NO_SHORT_ABANDONS = ServiceLevelTerms(formula="genesys", excludes_short_abandons=True)


@pytest.mark.parametrize(
    ("terms", "fraction"),
    [(CONNECT, (85, 100)), (GENESYS_ALL_ABANDONS, (70, 100)), (GENESYS_NO_SHORT_ABANDONS, (70, 95))],
    ids=["connect", "genesys-all-abandons", "genesys-without-short-abandons"],
)
def test_each_formula_gives_the_issues_figure(terms, fraction):
    # Given the fixture's outcomes / When the formula is applied / Then
    assert service_level_fraction(outcomes=FIXTURE, terms=terms) == fraction


def test_genesys_terms_can_leave_out_late_answers_and_count_flow_outs():
    # Given answers after the target left out and flow-outs counted
    terms = ServiceLevelTerms(formula="genesys", answered_after_target=False, flow_outs=True)
    outcomes = QueueOutcomes(**{**FIXTURE.__dict__, "flowed_out": 4})
    # When / Then: 70 ÷ (70 + 20 abandoned + 4 flowed out)
    assert service_level_fraction(outcomes=outcomes, terms=terms) == (70, 94)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("settings_of_queue", "numerator", "denominator", "percent", "variant"),
    [
        ({}, 85, 100, 85.0, "Amazon Connect"),
        ({"service_level_formula": "genesys"}, 70, 100, 70.0, "Genesys-style: answered within 20 s ÷ ("),
        (
            {"service_level_formula": "genesys", "sl_excludes_short_abandons": True},
            70,
            95,
            73.7,
            "abandoned (less short abandons under 5 s)",
        ),
    ],
    ids=["connect", "genesys-all-abandons", "genesys-without-short-abandons"],
)
def test_the_rollup_and_the_series_give_each_queues_formula(
    settings_of_queue, numerator, denominator, percent, variant
):
    # Given the fixture in a queue with this formula
    Queue.objects.create(name="billing", **settings_of_queue)
    service_level_fixture(queue="billing")
    admin = UserFactory(role="admin")
    # When the contacts are rolled up and the day's service level is read
    contact_rollup_rebuild(now=T0 + dt.timedelta(hours=1))
    series = kpi_series(user=admin, kpis=["service_level"], start=T0, end=T0 + dt.timedelta(hours=1), interval="hour")
    # Then the figure is exact and says how it was computed
    [row] = series.rows
    figure = row.values["service_level"]
    assert (figure.numerator, figure.denominator) == (numerator, denominator)
    assert figure.value == numerator * 100 / denominator
    assert round(figure.value, 1) == percent
    assert variant in figure.variant
    assert variant in series.kpis[0].variant


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"short_abandon_seconds": 20}, "short_abandon_seconds"),
        ({"sl_counts_flow_outs": True}, "sl_counts_flow_outs"),
        (
            {"service_level_formula": "genesys", "sl_counts_abandons": False, "sl_excludes_short_abandons": True},
            "sl_excludes_short_abandons",
        ),
    ],
    ids=["short-abandon-not-under-target", "term-without-genesys", "short-abandons-without-abandons"],
)
def test_a_queue_refuses_service_level_settings_that_do_not_fit(fields, field):
    # Given a queue with settings that contradict each other
    queue = Queue(name="billing", **fields)
    # When it is checked / Then the field is named with a reason
    with pytest.raises(ValidationError) as refused:
        queue.full_clean()
    assert field in refused.value.message_dict
