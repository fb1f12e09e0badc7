"""Discovery: cluster the customers on their behavioural features and say what sets each cluster apart.

A scikit-learn ``Pipeline`` (``StandardScaler`` then ``KMeans``) with a fixed ``random_state``; k is
the one of ``K_RANGE`` with the best silhouette (on a seeded sample of at most ``SILHOUETTE_SAMPLE``
customers when there are more). The same data and seed give the same clusters. Each cluster is
described by the features whose cluster mean is furthest from the population mean, in units of the
population's standard deviation (z), and those features suggest a persona's rules. Run by the Celery
task and the management command only; pages read what it stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from insights.personas.features import VALUE_RANK

K_RANGE = range(2, 7)
SILHOUETTE_SAMPLE = 5000
DISTINGUISHING_Z = 0.5  # a feature sets a cluster apart from half a standard deviation
MOST_DISTINGUISHING = 3

LABELS = {
    "contacts_90d": "contacts in the last 90 days",
    "tenure_days": "days as a customer",
    "holdings": "holdings",
    "holdings_balance": "holdings balance",
    "sentiment": "sentiment",
    "value_rank": "value tier rank (0 standard … 3 platinum)",
}


def feature_label(name: str) -> str:
    if name.startswith("share_"):
        return f"share of contacts on {name.removeprefix('share_').replace('_', ' ')}"
    return LABELS.get(name, name.replace("_", " "))


@dataclass(frozen=True)
class Clustering:
    """What a run found: the chosen k, silhouettes, each customer's cluster, and the population's figures."""

    k: int
    silhouette: float
    silhouettes: dict[int, float]
    labels: np.ndarray
    mean: pd.Series
    std: pd.Series


def pipeline(*, k: int, random_state: int) -> Pipeline:
    return Pipeline(
        [("scale", StandardScaler()), ("cluster", KMeans(n_clusters=k, n_init=10, random_state=random_state))]
    )


def cluster(matrix: pd.DataFrame, *, random_state: int, k_range: range = K_RANGE) -> Clustering:
    """Cluster ``matrix`` (one row per customer) for each k of ``k_range`` that fits; keep the best silhouette.

    Needs more customers than the smallest k (``ValueError`` otherwise).
    """
    values = matrix.to_numpy(dtype=float)
    distinct = len(np.unique(values, axis=0))
    candidates = [k for k in k_range if k < distinct]
    if not candidates:
        raise ValueError(f"Too few distinct customers to cluster: {distinct}.")
    sample = min(SILHOUETTE_SAMPLE, len(values))
    silhouettes: dict[int, float] = {}
    labels: dict[int, np.ndarray] = {}
    for k in candidates:
        fitted = pipeline(k=k, random_state=random_state).fit(values)
        labels[k] = fitted.named_steps["cluster"].labels_
        scaled = fitted.named_steps["scale"].transform(values)
        silhouettes[k] = float(silhouette_score(scaled, labels[k], sample_size=sample, random_state=random_state))
    best = max(candidates, key=lambda k: (round(silhouettes[k], 6), -k))
    std = matrix.std(ddof=0)
    return Clustering(
        k=best,
        silhouette=silhouettes[best],
        silhouettes=silhouettes,
        labels=labels[best],
        mean=matrix.mean(),
        std=std,
    )


def distinguishing(centroid: pd.Series, mean: pd.Series, std: pd.Series) -> list[dict[str, Any]]:
    """The features furthest from the population mean in std units (|z| ≥ ``DISTINGUISHING_Z``), furthest first."""
    found = []
    for name in centroid.index:
        spread = float(std[name])
        if spread == 0:
            continue
        z = (float(centroid[name]) - float(mean[name])) / spread
        if abs(z) >= DISTINGUISHING_Z:
            found.append(
                {
                    "feature": name,
                    "z": round(z, 2),
                    "cluster_mean": round(float(centroid[name]), 4),
                    "population_mean": round(float(mean[name]), 4),
                }
            )
    found.sort(key=lambda item: (-abs(item["z"]), item["feature"]))
    return found


def _figure(name: str, value: float) -> str:
    if name.startswith("share_"):
        return f"{value * 100:.0f}%"
    if name == "holdings_balance":
        return f"{value:,.0f}"
    return f"{value:.2f}" if name == "sentiment" else f"{value:.1f}"


def summary(apart: list[dict[str, Any]], *, size: int, customers: int) -> str:
    """What sets a cluster apart, in words: its share of the customers and its most distinguishing features."""
    share = f"{size:,} customers ({size / customers * 100:.0f}%)"
    if not apart:
        return f"{share}, close to the average on every feature."
    parts = [
        f"{'higher' if item['z'] > 0 else 'lower'} {feature_label(item['feature'])} "
        f"({_figure(item['feature'], item['cluster_mean'])} against {_figure(item['feature'], item['population_mean'])}"
        f" on average, {item['z']:+.1f} sd)"
        for item in apart[:MOST_DISTINGUISHING]
    ]
    return f"{share}: " + "; ".join(parts) + "."


def _threshold(item: dict[str, Any]) -> float:
    """Half-way between the cluster's mean and the population's: where a rule draws the line."""
    return (float(item["cluster_mean"]) + float(item["population_mean"])) / 2


def suggested_rules(apart: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Conditions a persona could start from: one per most distinguishing feature, at the half-way line."""
    rules: list[dict[str, Any]] = []
    for item in apart[:MOST_DISTINGUISHING]:
        name, above = item["feature"], item["z"] > 0
        op = "gte" if above else "lte"
        line = _threshold(item)
        if name.startswith("share_"):
            value = min(1.0, max(0.0, round(line, 2)))
            rules.append({"feature": "channel_share", "channel": name.removeprefix("share_"), "op": op, "value": value})
        elif name == "value_rank":
            tiers = [tier for tier, rank in VALUE_RANK.items() if (rank >= line if above else rank <= line)]
            if tiers:
                rules.append({"feature": "value_tier", "op": "in", "value": tiers})
        elif name == "holdings":
            rules.append({"feature": "holdings", "kind": "any", "op": op, "value": max(0, round(line))})
        elif name == "sentiment":
            rules.append({"feature": "sentiment", "op": op, "value": min(1.0, max(-1.0, round(line, 2)))})
        elif name == "holdings_balance":
            rules.append({"feature": "holdings_balance", "op": op, "value": round(line, 2)})
        else:  # contacts_90d, tenure_days: whole numbers
            rules.append({"feature": name, "op": op, "value": max(0, round(line))})
    return rules
