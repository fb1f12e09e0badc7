"""Training the churn-risk and propensity models: windows, a known signal found on the later window,
reproducible fits, refusals, and the stored run."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.utils import timezone

from bench.scoring_data import synthetic_facts_write
from cea.common.errors import ValidationFailed
from insights.scoring.models import ModelRun
from insights.scoring.services import (
    labelled_rows,
    model_train,
    model_windows,
    pipeline_of,
)
from records.holdings.models import Holding
from tests.records.factories import CustomerFactory, InteractionFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
LIMITS = {"min_rows": 100, "min_class_rows": 10}


@pytest.fixture
def synthetic(db):
    """600 synthetic customers whose churn and purchases follow a known engagement (bench/scoring_data.py)."""
    return synthetic_facts_write(customers=600, now=NOW)


def test_the_evaluation_window_is_later_than_the_training_window():
    windows = model_windows(until=NOW, horizon_days=30)
    assert (windows.train_cutoff, windows.eval_cutoff, windows.eval_until) == (
        NOW - dt.timedelta(days=60),
        NOW - dt.timedelta(days=30),
        NOW,
    )


@pytest.mark.parametrize("kind", ["churn_risk", "propensity"])
def test_a_known_signal_is_found_on_the_later_window_and_stored_with_the_run(synthetic, kind):
    # When
    run = model_train(kind=kind, until=NOW, horizon_days=30, **LIMITS)
    # Then the run ranks customers of the later window better than chance, and says how it was made
    assert run.auc > 0.7
    assert 0 < run.brier < 0.25
    assert run.version == f"{kind}-v{run.pk}"
    assert (run.train_cutoff, run.eval_cutoff, run.eval_until) == (
        NOW - dt.timedelta(days=60),
        NOW - dt.timedelta(days=30),
        NOW,
    )
    _, train_y = labelled_rows(kind=kind, cutoff=run.train_cutoff, until=run.eval_cutoff)
    eval_x, eval_y = labelled_rows(kind=kind, cutoff=run.eval_cutoff, until=run.eval_until)
    assert (run.train_rows, run.train_positives) == (len(train_y), int(train_y.sum()))
    assert (run.eval_rows, run.eval_positives) == (len(eval_y), int(eval_y.sum()))
    assert run.base_rate == pytest.approx(eval_y.mean(), abs=1e-4)
    assert sum(point["rows"] for point in run.calibration) == run.eval_rows
    assert all(0 <= point["predicted"] <= 1 and 0 <= point["observed"] <= 1 for point in run.calibration)
    assert run.features[-1] == "value_tier" and len(run.importances) == len(run.features) - 1 + 4
    assert run.duration_seconds > 0
    # And the stored pipeline is the fitted one
    predicted = pipeline_of(run).predict_proba(eval_x[run.features])[:, 1]
    assert predicted.shape == (run.eval_rows,)


def test_churn_is_learnt_from_silence(synthetic):
    run = model_train(kind="churn_risk", until=NOW, horizon_days=30, **LIMITS)
    weights = {item["feature"]: item["weight"] for item in run.importances}
    # Fewer recent contacts mean more churn in the synthetic data
    assert weights["contacts_90d"] < 0


def test_the_same_data_trains_the_same_model(synthetic):
    first = model_train(kind="propensity", until=NOW, **LIMITS)
    figures = (first.importances, first.auc, first.brier, first.calibration)
    first_pipeline = pipeline_of(first)
    # When the run is trained again from scratch
    ModelRun.objects.all().delete()
    again = model_train(kind="propensity", until=NOW, **LIMITS)
    # Then
    assert again.pk != first.pk
    assert (again.importances, again.auc, again.brier, again.calibration) == figures
    assert np.array_equal(pipeline_of(again).named_steps["model"].coef_, first_pipeline.named_steps["model"].coef_)


def test_training_the_same_windows_again_returns_the_stored_run(synthetic):
    first = model_train(kind="churn_risk", until=NOW, **LIMITS)
    assert model_train(kind="churn_risk", until=NOW, **LIMITS) == first
    assert ModelRun.objects.count() == 1


def test_too_few_customers_are_refused(db):
    CustomerFactory.create_batch(5)
    with pytest.raises(ValidationFailed, match=r"Cannot train propensity: the training window has 0 customers"):
        model_train(kind="propensity", until=timezone.now(), **LIMITS)
    assert ModelRun.objects.count() == 0


def test_a_single_class_is_refused(synthetic):
    # Given nobody ever bought anything
    Holding.objects.all().delete()
    # Then
    with pytest.raises(
        ValidationFailed, match=r"has 0 positive and 600 negative customers; each class needs at least 10"
    ):
        model_train(kind="propensity", until=NOW, **LIMITS)
    assert ModelRun.objects.count() == 0


def test_an_unknown_model_is_refused(db):
    with pytest.raises(ValidationFailed, match="Unknown model 'upsell'"):
        model_train(kind="upsell", until=NOW)


def test_the_churn_population_is_the_customers_active_before_the_cutoff(db):
    cutoff = NOW - dt.timedelta(days=60)
    active, dormant = CustomerFactory(), CustomerFactory()
    from records.customers.models import Customer

    Customer.objects.update(created_at=cutoff - dt.timedelta(days=400))
    InteractionFactory(
        customer=active, started_at=cutoff - dt.timedelta(days=10), ended_at=cutoff - dt.timedelta(days=10)
    )
    InteractionFactory(
        customer=dormant, started_at=cutoff - dt.timedelta(days=200), ended_at=cutoff - dt.timedelta(days=200)
    )
    frame, labels = labelled_rows(kind="churn_risk", cutoff=cutoff, until=cutoff + dt.timedelta(days=30))
    # The dormant customer had lapsed already: not in the population; the active one went quiet: churned
    assert list(frame.index) == [active.pk]
    assert list(labels) == [1]
