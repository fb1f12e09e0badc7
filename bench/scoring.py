"""Training the churn-risk and propensity models on 100,000 customers, against floors measured in the same run.

    DATABASE_URL=…bench… REDIS_URL=… SECRET_KEY=… .venv/bin/python bench/scoring.py [--customers 100000]

Loads synthetic customers, interactions and holdings set-wise (bench/scoring_data.py; reused when
the same number is already there), then measures, with the load average before and after:

- the floor: records' feature statement (``customer_features_as_of``) once, the raw SQL every
  training reads twice (training and evaluation cutoffs), and a ``DummyClassifier`` fitted on the
  same feature matrix;
- ``model_train`` for each model end to end (two feature reads, two label reads, the pipeline's
  fit, the evaluation, storing the run), as a ratio to the feature statement;
- the pipeline's fit alone on the training matrix, as a ratio to the dummy's fit;
- ``model_score_customers`` (features as of now, probabilities, reasons, the bulk write-back).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import guard_database, machine, setup_django


def _timed(work):
    began = time.perf_counter()
    result = work()
    return result, time.perf_counter() - began


def model_training(*, customers: int = 100_000, rate: float = 0.08) -> dict[str, float]:
    """Load (or reuse), measure and print the models' training; its figures (seconds) for a summary."""
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone
    from sklearn.dummy import DummyClassifier

    from bench.scoring_data import synthetic_facts_write
    from insights.scoring.features import ALL_FEATURES
    from insights.scoring.models import ModelRun
    from insights.scoring.services import labelled_rows, model_score_customers, model_train, scoring_pipeline
    from records.customers.models import Customer
    from records.features.selectors import customer_features_as_of
    from records.interactions.models import Interaction

    now = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    loaded = Customer.objects.filter(segment="synthetic").count()
    if loaded != customers:
        if loaded:
            sys.exit(f"{loaded:,} synthetic customers are loaded, not {customers:,}: use a fresh database.")
        _, seconds = _timed(lambda: synthetic_facts_write(customers=customers, now=now, rate=rate))
        print(f"  loaded {customers:,} customers in {seconds:.1f} s")
    else:
        print(f"  reusing the {loaded:,} synthetic customers loaded")
    print(f"  {Interaction.objects.count():,} interactions, {Customer.objects.count():,} customers in the database")
    with connection.cursor() as cursor:  # fresh statistics: a plan made for the tables before the load can take minutes
        cursor.execute("ANALYZE records_customer, records_interaction, records_holding, records_journeyevent")
    ModelRun.objects.all().delete()
    horizon = 30
    cutoff = now - timedelta(days=2 * horizon)

    table, feature_seconds = _timed(lambda: customer_features_as_of(as_of=cutoff))
    print(f"floor: feature statement for {len(table.customer_ids):,} customers: {feature_seconds:.2f} s")
    train_x, train_y = labelled_rows(kind="churn_risk", cutoff=cutoff, until=cutoff + timedelta(days=horizon))
    matrix = train_x[list(ALL_FEATURES)]
    _, dummy_seconds = _timed(lambda: DummyClassifier(strategy="prior").fit(matrix, train_y))
    _, fit_seconds = _timed(lambda: scoring_pipeline().fit(matrix, train_y))
    print(
        f"floor: DummyClassifier fit on {len(train_y):,} rows: {dummy_seconds * 1000:.1f} ms;"
        f" the pipeline's fit alone: {fit_seconds:.2f} s ({fit_seconds / dummy_seconds:,.0f}x the dummy)"
    )
    figures = {"customers": float(customers), "feature_seconds": feature_seconds}
    for kind in ("churn_risk", "propensity"):
        run, seconds = _timed(lambda kind=kind: model_train(kind=kind, until=now, horizon_days=horizon))
        figures[f"{kind}_seconds"] = seconds
        print(
            f"{kind}: trained in {seconds:.2f} s ({seconds / feature_seconds:.1f}x the feature statement);"
            f" {run.train_rows:,} training rows, {run.eval_rows:,} evaluation rows; AUC {run.auc}, Brier {run.brier}"
        )
        result, seconds = _timed(lambda kind=kind: model_score_customers(kind=kind))
        print(
            f"{kind}: scored {result.customers:,} customers in {seconds:.2f} s ({result.updated:,} written,"
            f" {result.journey_events:,} journey events)"
        )
    print(f"after: {machine()}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=0.08, help="contacts a day of a fully engaged customer")
    parser.add_argument("--force", action="store_true")
    arguments = parser.parse_args()
    setup_django()
    name = guard_database(force=arguments.force)
    print(f"bench/scoring.py on {name}: {machine()}")
    model_training(customers=arguments.customers, rate=arguments.rate)


if __name__ == "__main__":
    main()
