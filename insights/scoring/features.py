"""The models' features: their names, how each reads in words, and the matrix built from records' read.

The values come from ``records.features.selectors.customer_features_as_of`` (one SQL statement,
facts at or before the cutoff only); this module only names them and lays them out for
scikit-learn.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from records.features.selectors import COUNTED_CHANNELS, FEATURE_COLUMNS, FeatureTable

NUMERIC_FEATURES: tuple[str, ...] = FEATURE_COLUMNS
CATEGORICAL_FEATURES: tuple[str, ...] = ("value_tier",)
ALL_FEATURES: tuple[str, ...] = (*NUMERIC_FEATURES, *CATEGORICAL_FEATURES)

# How a feature's value reads as a reason ("no contact for 74 days"); ``{v}`` is the value.
WORDS: dict[str, str] = {
    "tenure_days": "customer for {v:.0f} days",
    "days_since_last_contact": "no contact for {v:.0f} days",
    "days_since_last_activity": "no activity for {v:.0f} days",
    "contacts_90d": "{v:.0f} contacts in the last 90 days",
    "contacts_365d": "{v:.0f} contacts in the last year",
    **{f"contacts_90d_{channel}": f"{{v:.0f}} {channel} contacts in the last 90 days" for channel in COUNTED_CHANNELS},
    "contacts_90d_other": "{v:.0f} contacts on other channels in the last 90 days",
    "cases_open": "{v:.0f} open cases",
    "cases_opened_90d": "{v:.0f} cases opened in the last 90 days",
    "cases_resolved_90d": "{v:.0f} cases resolved in the last 90 days",
    "holdings": "{v:.0f} accounts, products or orders held",
    "sentiment_90d": "average sentiment {v:+.2f} in the last 90 days",
    "events_90d": "{v:.0f} journey events in the last 90 days",
}


def feature_frame(table: FeatureTable) -> pd.DataFrame:
    """The table as a frame indexed by customer id, one column per feature (``ALL_FEATURES``)."""
    values = np.asarray(table.values, dtype=float).reshape(len(table.customer_ids), len(NUMERIC_FEATURES))
    frame = pd.DataFrame(values, columns=list(NUMERIC_FEATURES), index=pd.Index(table.customer_ids, name="customer"))
    frame["value_tier"] = table.value_tiers
    return frame


def reason_in_words(feature: str, value: object) -> str:
    """One feature's value as a reason; a one-hot column ``value_tier=gold`` reads "value tier gold"."""
    if feature in WORDS:
        return WORDS[feature].format(v=float(value))  # type: ignore[arg-type]
    name, _, level = feature.partition("=")
    return f"{name.replace('_', ' ')} {level}".strip()
