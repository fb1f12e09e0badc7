"""The customers' features as a frame: one row per active customer, read by records' set-based selector."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from cea.common.channels import Channel
from records.customers.models import ValueTier
from records.customers.selectors import BEHAVIOUR_COLUMNS, customer_behaviour_features

VALUE_RANK = {tier: rank for rank, tier in enumerate(ValueTier.values)}

# What discovery clusters on: numbers only, each one a rule can test (so a cluster's distinguishing
# features become a persona's suggested rules).
CLUSTER_FEATURES: tuple[str, ...] = (
    "contacts_90d",
    "tenure_days",
    "holdings",
    "holdings_balance",
    "sentiment",
    "value_rank",
    *(f"share_{channel}" for channel in Channel.values),
)


def behaviour_frame(*, now: datetime, customer_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """The features of the active customers (all, or ``customer_ids``), indexed by customer id."""
    rows = customer_behaviour_features(now=now, customer_ids=customer_ids)
    frame = pd.DataFrame.from_records(rows, columns=list(BEHAVIOUR_COLUMNS))
    frame = frame.set_index("id", drop=False)
    frame["sentiment"] = frame["sentiment"].astype(float)
    frame["holdings_balance"] = frame["holdings_balance"].astype(float)
    return frame


def cluster_matrix(frame: pd.DataFrame) -> pd.DataFrame:
    """The numeric features discovery clusters on (``CLUSTER_FEATURES``), one row per customer.

    A customer without contacts has every channel share 0; without a sentiment score, 0 (neutral).
    """
    contacts = frame["contacts"].astype(float).replace(0, np.nan)
    matrix = pd.DataFrame(index=frame.index)
    matrix["contacts_90d"] = frame["contacts_90d"].astype(float)
    matrix["tenure_days"] = frame["tenure_days"].astype(float)
    matrix["holdings"] = frame["holdings"].astype(float)
    matrix["holdings_balance"] = frame["holdings_balance"].astype(float)
    matrix["sentiment"] = frame["sentiment"].fillna(0.0)
    matrix["value_rank"] = frame["value_tier"].map(VALUE_RANK).fillna(0).astype(float)
    for channel in Channel.values:
        matrix[f"share_{channel}"] = (frame[f"contacts_{channel}"].astype(float) / contacts).fillna(0.0)
    return matrix[list(CLUSTER_FEATURES)]
