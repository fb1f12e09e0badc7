"""manage.py insights_train_models: trains, reports the later window's figures, rescores; refusals are errors."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from bench.scoring_data import synthetic_facts_write
from insights.scoring.models import ModelRun
from records.customers.models import Customer

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def test_the_command_trains_both_models_and_rescores_the_customers(settings):
    settings.CEA_SCORING_MIN_ROWS, settings.CEA_SCORING_MIN_CLASS_ROWS = 100, 10
    synthetic_facts_write(customers=300, now=NOW)
    out = StringIO()
    # When
    call_command("insights_train_models", "--until", "2026-11-01", stdout=out)
    # Then
    runs = {run.kind: run for run in ModelRun.objects.all()}
    assert set(runs) == {"churn_risk", "propensity"}
    text = out.getvalue()
    for run in runs.values():
        assert f"{run.version}: trained on {run.train_rows:,} customers as of 2026-09-02" in text
        assert f"AUC {run.auc}, Brier {run.brier}" in text
    assert text.count("scored 300 customers") == 2
    scores = Customer.objects.values_list("scores", flat=True)
    assert all({"churn_risk", "propensity", "churn_risk_model", "propensity_model"} <= set(s) for s in scores)


def test_a_refused_model_is_an_error_naming_why(db):
    err = StringIO()
    with pytest.raises(CommandError, match=r"1 model\(s\) could not be trained"):
        call_command("insights_train_models", "--kind", "churn_risk", "--no-score", stderr=err)
    assert "Cannot train churn_risk: the training window has 0 customers" in err.getvalue()
    with pytest.raises(CommandError, match="--until is an ISO date or time"):
        call_command("insights_train_models", "--until", "last tuesday")
