"""manage.py insights_train_models [--kind churn_risk|propensity] [--until ISO] [--horizon-days N] [--no-score]

Trains each model on the windows ending at ``--until`` (default today's midnight UTC), prints its
windows, AUC and Brier score on the later window, and rescores the customers with it (docs/models.md).
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cea.common.errors import NotFound, ValidationFailed
from insights.scoring.models import ScoreKind
from insights.scoring.services import model_score_customers, model_train


class Command(BaseCommand):
    help = "Train the churn-risk and propensity models, evaluate them on a later window, and rescore customers."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--kind", choices=ScoreKind.values, action="append", help="A model (default: all)")
        parser.add_argument("--until", help="End of the evaluation window, ISO date or time (default: today, UTC)")
        parser.add_argument("--horizon-days", type=int, help="Label horizon (default CEA_SCORING_HORIZON_DAYS)")
        parser.add_argument("--no-score", action="store_true", help="Train only; do not rescore customers")

    def handle(self, *args, kind, until, horizon_days, no_score, **options) -> None:
        end = self._until(until)
        failures = 0
        for name in kind or ScoreKind.values:
            try:
                run = model_train(kind=name, until=end, horizon_days=horizon_days)
            except ValidationFailed as refusal:
                self.stderr.write(str(refusal))
                failures += 1
                continue
            self.stdout.write(
                f"{run.version}: trained on {run.train_rows:,} customers as of {run.train_cutoff:%Y-%m-%d},"
                f" evaluated on {run.eval_rows:,} as of {run.eval_cutoff:%Y-%m-%d}: AUC {run.auc}, Brier {run.brier}"
                f" ({run.duration_seconds:.1f} s)"
            )
            if not no_score:
                try:
                    result = model_score_customers(kind=name, run_id=run.pk)
                except NotFound as missing:
                    raise CommandError(str(missing)) from missing
                self.stdout.write(
                    f"  scored {result.customers:,} customers ({result.updated:,} changed,"
                    f" {result.journey_events:,} journey events)"
                )
        if failures:
            raise CommandError(f"{failures} model(s) could not be trained (reasons above).")

    @staticmethod
    def _until(text: str | None) -> datetime | None:
        if not text:
            return None
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as error:
            raise CommandError(f"--until is an ISO date or time, not {text!r}.") from error
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment, UTC)
