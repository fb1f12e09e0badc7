"""Arbitration's uplift against the random control group, with scikit-uplift (computed by a Celery task).

The units are firings that were acted on (``outcome = 'fired'``) in the treatment group (the customer
got arbitration's top actions) or the control group (``group = 'control'``: actions chosen at
random among the eligible ones). For each:

- ``y`` (outcome): the firing strategy's own metric, read from the firing as the effect reads it
  (``insights.strategies.effects``: stage reached, case resolved, retained, next best action
  accepted, within ``metric_days``; a retention metric only once its window has ended);
- ``treatment``: 1 arbitrated, 0 control;
- ``score``: the firing's arbitration priority.

``sklift.metrics.qini_curve``, ``qini_auc_score`` and ``uplift_auc_score`` are called on these
arrays (in firing id order) for all customers and per team, and stored (``ArbitrationUplift``). A
group with fewer than ``CEA_ARBITRATION_UPLIFT_MIN`` firings, or an outcome all 0 or all 1, gets no
figures and a note saying why (the page says "not enough data").
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from sklift.metrics import qini_auc_score, qini_curve, uplift_auc_score  # type: ignore[import-untyped]

from insights.strategies.effects import matured_sql, metric_params, nba_accepted_within, success_sql
from insights.strategies.models import ArbitrationUplift, MetricKind, Strategy

CURVE_POINTS = 101
_ROWS = """
SELECT f.id, c.team_id, f."group" = 'treatment', f.priority, (__SUCCESS__), f.customer_id, f.at
FROM insights_strategyfiring f JOIN records_customer c ON c.id = f.customer_id
WHERE f.strategy_id = %(strategy)s AND f.outcome = 'fired' AND f."group" IN ('treatment', 'control')
  AND f.priority IS NOT NULL AND __MATURED__
"""


@dataclass
class UpliftArrays:
    """The firings' outcome, treatment and score, in firing id order."""

    ids: list[int] = field(default_factory=list)
    outcome: list[int] = field(default_factory=list)
    treatment: list[int] = field(default_factory=list)
    score: list[float] = field(default_factory=list)

    def add(self, firing_id: int, success: bool, treated: bool, priority: float) -> None:
        self.ids.append(firing_id)
        self.outcome.append(int(success))
        self.treatment.append(int(treated))
        self.score.append(priority)

    def ordered(self) -> UpliftArrays:
        order = sorted(range(len(self.ids)), key=self.ids.__getitem__)
        return UpliftArrays(
            ids=[self.ids[i] for i in order],
            outcome=[self.outcome[i] for i in order],
            treatment=[self.treatment[i] for i in order],
            score=[self.score[i] for i in order],
        )


def uplift_arrays(*, now: dt.datetime) -> dict[int | None, UpliftArrays]:
    """The arrays for all customers (key ``None``) and per team, read strategy by strategy."""
    by_team: dict[int | None, UpliftArrays] = defaultdict(UpliftArrays)
    with connection.cursor() as cursor:
        for strategy in Strategy.objects.all():
            sql = _ROWS.replace("__SUCCESS__", success_sql(strategy)).replace("__MATURED__", matured_sql(strategy))
            cursor.execute(sql, metric_params(strategy, now))
            rows = cursor.fetchall()
            successes = [row[4] for row in rows]
            if strategy.metric_kind == MetricKind.NBA_ACCEPTED:
                successes = nba_accepted_within(strategy, [(row[5], row[6]) for row in rows])
            for (firing_id, team_id, treated, priority, *_), success in zip(rows, successes, strict=True):
                by_team[None].add(firing_id, success, treated, priority)
                if team_id is not None:
                    by_team[team_id].add(firing_id, success, treated, priority)
    return {team_id: arrays.ordered() for team_id, arrays in by_team.items()}


def _curve(x: np.ndarray, y: np.ndarray) -> list[list[float]]:
    """At most ``CURVE_POINTS`` points of the curve, evenly spaced along it, the ends kept."""
    picks = sorted({int(i + 0.5) for i in np.linspace(0, len(x) - 1, min(CURVE_POINTS, len(x)))})
    return [[int(x[i]), round(float(y[i]), 6)] for i in picks]


def uplift_row(arrays: UpliftArrays, *, team_id: int | None, now: dt.datetime) -> ArbitrationUplift:
    """One stored row: the groups' counts, and sklift's figures when there is enough data."""
    treated = sum(arrays.treatment)
    control = len(arrays.treatment) - treated
    row = ArbitrationUplift(
        team_id=team_id,
        treated=treated,
        treated_successes=sum(y for y, t in zip(arrays.outcome, arrays.treatment, strict=True) if t),
        control=control,
        control_successes=sum(y for y, t in zip(arrays.outcome, arrays.treatment, strict=True) if not t),
        computed_at=now,
    )
    minimum = settings.CEA_ARBITRATION_UPLIFT_MIN
    if treated < minimum or control < minimum:
        row.note = f"Not enough data: fewer than {minimum} firings in the arbitrated or the control group."
        return row
    if len(set(arrays.outcome)) < 2:
        row.note = "Not enough data: every firing had the same outcome."
        return row
    y, uplift, treatment = np.array(arrays.outcome), np.array(arrays.score), np.array(arrays.treatment)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # sklift calls a scikit-learn helper deprecated in 1.8
        x_curve, y_curve = qini_curve(y, uplift, treatment)
        qini, auuc = qini_auc_score(y, uplift, treatment), uplift_auc_score(y, uplift, treatment)
    row.qini_auc = float(qini) if math.isfinite(qini) else None
    row.uplift_auc = float(auuc) if math.isfinite(auuc) else None
    row.curve = _curve(x_curve, y_curve)
    return row


@transaction.atomic
def arbitration_uplift_compute(*, now: dt.datetime | None = None) -> list[ArbitrationUplift]:
    """Recompute and store arbitration's uplift rows (all customers, and each team with firings)."""
    now = now or timezone.now()
    arrays = uplift_arrays(now=now)
    arrays.setdefault(None, UpliftArrays())
    ArbitrationUplift.objects.all().delete()
    return ArbitrationUplift.objects.bulk_create(
        [uplift_row(team_arrays, team_id=team_id, now=now) for team_id, team_arrays in arrays.items()]
    )
