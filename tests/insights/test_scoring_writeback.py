"""Scores written back through records' bulk service: values, reasons in words, the model version, journey
events only for material moves; the tasks are idempotent; the 360 page and the desk show the scores."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from bench.scoring_data import synthetic_facts_write
from cea.common.errors import NotFound, ValidationFailed
from insights.scoring.models import ModelRun
from insights.scoring.services import model_score_customers, model_train
from insights.scoring.tasks import score_customers, train_model
from records.customers.models import Customer
from records.customers.services import customers_set_scores_bulk
from records.journey.models import JourneyEvent
from tests.records.factories import CustomerFactory
from tests.support import make_customer

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
LIMITS = {"min_rows": 100, "min_class_rows": 10}


@pytest.fixture
def trained(db, settings):
    settings.CEA_SCORING_MIN_ROWS, settings.CEA_SCORING_MIN_CLASS_ROWS = 100, 10
    ids = synthetic_facts_write(customers=400, now=NOW)
    return ids, model_train(kind="churn_risk", until=NOW, **LIMITS)


def scored_events() -> int:
    return JourneyEvent.objects.filter(kind="customer.scored").count()


def test_every_active_customer_gets_a_score_its_reasons_and_the_model_version(trained):
    ids, run = trained
    # When
    result = model_score_customers(kind="churn_risk", as_of=NOW)
    # Then
    assert (result.customers, result.updated, result.journey_events) == (400, 400, 0)
    scores = dict(Customer.objects.filter(pk__in=ids).values_list("pk", "scores"))
    assert all(0 <= value["churn_risk"] <= 1 and value["churn_risk_model"] == run.version for value in scores.values())
    reasons = [reason for value in scores.values() for reason in value["churn_risk_reasons"]]
    assert all(1 <= len(value["churn_risk_reasons"]) <= 3 for value in scores.values())
    assert any(reason.startswith("no contact for ") and reason.endswith(" days") for reason in reasons)
    assert all(isinstance(reason, str) and "_" not in reason for reason in reasons)
    run.refresh_from_db()
    assert run.scored_customers == 400 and run.scored_at is not None


def test_the_silent_customers_score_higher(trained):
    ids, _ = trained
    model_score_customers(kind="churn_risk", as_of=NOW)
    from records.features.selectors import customer_features_as_of

    table = customer_features_as_of(as_of=NOW)
    silence = dict(zip(table.customer_ids, (values[1] for values in table.values), strict=True))
    scores = dict(Customer.objects.filter(pk__in=ids).values_list("pk", "scores__churn_risk"))
    quiet = [scores[pk] for pk in ids if silence[pk] > 60]
    busy = [scores[pk] for pk in ids if silence[pk] < 7]
    assert sum(quiet) / len(quiet) > sum(busy) / len(busy)


def test_rescoring_the_same_moment_changes_nothing(trained):
    # Given a first scoring by the task
    assert score_customers("churn_risk", NOW.isoformat()) == 400
    before = dict(Customer.objects.values_list("pk", "scores"))
    # When the task runs again (a redelivery)
    assert score_customers("churn_risk", NOW.isoformat()) == 0
    # Then
    assert dict(Customer.objects.values_list("pk", "scores")) == before
    assert scored_events() == 0


def test_the_train_task_is_idempotent_and_skips_untrainable_data(trained):
    _, run = trained
    assert train_model("churn_risk", NOW.isoformat()) == run.pk
    assert ModelRun.objects.count() == 1
    # A window without data is logged and skipped, not retried
    assert train_model("propensity", (NOW - dt.timedelta(days=400)).isoformat()) is None


def test_no_model_no_scores(db):
    CustomerFactory()
    with pytest.raises(NotFound, match="No trained propensity model"):
        model_score_customers(kind="propensity")
    assert score_customers("propensity") == 0


def test_a_material_move_writes_one_journey_event_and_a_small_one_none(db):
    moving, steady, merged = CustomerFactory(), CustomerFactory(), CustomerFactory(status="merged")
    customers_set_scores_bulk(actor=None, scores={moving.pk: {"churn_risk": 0.1}, steady.pk: {"churn_risk": 0.5}})
    assert scored_events() == 0  # a first score is not a move
    # When
    updated, events = customers_set_scores_bulk(
        actor=None,
        scores={
            moving.pk: {"churn_risk": 0.52, "churn_risk_reasons": ["no contact for 74 days"]},
            steady.pk: {"churn_risk": 0.58},
            merged.pk: {"churn_risk": 0.9},
        },
        journey_keys=("churn_risk",),
    )
    # Then
    assert (updated, events) == (2, 1)
    event = JourneyEvent.objects.get(kind="customer.scored")
    assert (event.customer_id, event.source_system, event.summary) == (
        moving.pk,
        "insights",
        "Scores moved: churn_risk 0.1 → 0.52",
    )
    moving.refresh_from_db()
    assert moving.scores == {"churn_risk": 0.52, "churn_risk_reasons": ["no contact for 74 days"]}
    assert moving.scores_updated_at is not None
    assert Customer.objects.get(pk=merged.pk).scores == {}


def test_bad_scores_are_refused_and_nothing_is_written(db):
    customer = CustomerFactory()
    with pytest.raises(ValidationFailed, match="non-empty objects"):
        customers_set_scores_bulk(actor=None, scores={customer.pk: {"churn_risk": 0.4}, 0: {}})
    with pytest.raises(ValidationFailed, match="material change"):
        customers_set_scores_bulk(actor=None, scores={customer.pk: {"churn_risk": 0.4}}, material_change=0)
    customer.refresh_from_db()
    assert customer.scores == {}


SCORES = {
    "churn_risk": 0.74,
    "churn_risk_reasons": ["no contact for 74 days", "2 open cases"],
    "churn_risk_model": "churn_risk-v3",
    "propensity": 0.12,
    "propensity_reasons": ["1 accounts, products or orders held"],
    "propensity_model": "propensity-v4",
}


def test_the_360_page_and_the_desk_show_the_scores_with_their_reasons(team_a, supervisor, agent):
    customer = make_customer(team_a)
    customers_set_scores_bulk(actor=None, scores={customer.pk: SCORES})
    for user, url, headers in (
        (supervisor, f"/customers/{customer.pk}/", {}),
        (agent, f"/desk/customers/{customer.pk}/", {"HTTP_HX_REQUEST": "true"}),
    ):
        client = Client()
        client.force_login(user)
        page = client.get(url, **headers).content.decode()
        assert 'data-testid="score-churn-risk">74%: no contact for 74 days; 2 open cases' in page
        assert "(churn_risk-v3)" in page
        assert 'data-testid="score-propensity">12%: 1 accounts, products or orders held' in page
