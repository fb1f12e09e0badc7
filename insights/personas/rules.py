"""The rules that place a customer in a persona: a list of conditions over the customer's features.

A condition is an object ``{"feature": …, "op": …, "value": …}``, with ``"channel"`` for
``channel_share``, ``"kind"`` for ``holdings`` and ``"key"`` for ``attribute``. All of a
definition's conditions must hold. ``FEATURES`` says which features exist, the operators each
takes and the values it accepts; ``rules_problems`` checks a list of conditions against it (when a
definition is saved, in the console and the API) and ``Condition`` evaluates one over a whole
frame of customers at once (``insights.personas.features.behaviour_frame``) and says, per
customer, why it holds in words ("value tier gold", "62% of contacts on chat").
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cea.common.channels import Channel
from records.customers.models import ValueTier
from records.customers.selectors import RECENT_CONTACT_DAYS
from records.holdings.models import HoldingKind

TEXT_OPS = ("eq", "ne", "in", "not_in")
NUMBER_OPS = ("eq", "gt", "gte", "lt", "lte")
ANY_KIND = "any"


@dataclass(frozen=True)
class Feature:
    """A feature rules may test: its operators, the parameter it needs (channel, kind, key), its values' check."""

    name: str
    kind: str  # "text" or "number"
    ops: tuple[str, ...]
    parameter: str | None = None
    parameter_choices: tuple[str, ...] | None = None
    choices: tuple[str, ...] | None = None  # text: the values allowed
    minimum: float | None = None  # number: the range allowed
    maximum: float | None = None
    integer: bool = False
    help: str = ""


FEATURES: dict[str, Feature] = {
    feature.name: feature
    for feature in (
        Feature("segment", "text", TEXT_OPS, help="the customer's segment"),
        Feature("value_tier", "text", TEXT_OPS, choices=tuple(ValueTier.values), help="standard … platinum"),
        Feature("language", "text", TEXT_OPS, help="BCP 47 tag, e.g. en"),
        Feature("country", "text", TEXT_OPS, help="ISO 3166-1 alpha-2, e.g. GB"),
        Feature("attribute", "text", (*TEXT_OPS, "exists"), parameter="key", help="a custom attribute's value"),
        Feature(
            "holdings",
            "number",
            NUMBER_OPS,
            parameter="kind",
            parameter_choices=(ANY_KIND, *HoldingKind.values),
            minimum=0,
            integer=True,
            help="how many holdings of a kind (any: of every kind)",
        ),
        Feature("holdings_balance", "number", NUMBER_OPS, help="the sum of the holdings' amounts"),
        Feature(
            "channel_share",
            "number",
            NUMBER_OPS,
            parameter="channel",
            parameter_choices=tuple(Channel.values),
            minimum=0,
            maximum=1,
            help="share of all the customer's contacts on a channel, 0 … 1",
        ),
        Feature(
            "contacts_90d",
            "number",
            NUMBER_OPS,
            minimum=0,
            integer=True,
            help=f"contacts in the last {RECENT_CONTACT_DAYS} days",
        ),
        Feature(
            "tenure_days", "number", NUMBER_OPS, minimum=0, integer=True, help="days since the customer was created"
        ),
        Feature("sentiment", "number", NUMBER_OPS, minimum=-1, maximum=1, help='scores["sentiment"], -1 … 1'),
    )
}


def _text_problem(feature: Feature, op: str, value: Any) -> str | None:
    values = value if op in ("in", "not_in") else [value]
    if op in ("in", "not_in") and (not isinstance(value, list) or not value):
        return f"{op!r} takes a non-empty list of texts"
    if not all(isinstance(item, str) and item.strip() for item in values):
        return "takes non-blank text"
    if feature.choices is not None and any(item not in feature.choices for item in values):
        return f"takes one of {', '.join(feature.choices)}"
    return None


def _number_problem(feature: Feature, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return "takes a number"
    if feature.integer and value != int(value):
        return "takes a whole number"
    if feature.minimum is not None and value < feature.minimum:
        return f"takes a number of at least {feature.minimum:g}"
    if feature.maximum is not None and value > feature.maximum:
        return f"takes a number of at most {feature.maximum:g}"
    return None


def _value_problem(feature: Feature, op: str, value: Any) -> str | None:
    """What is wrong with ``value`` for ``feature`` and ``op``, or ``None``."""
    if op == "exists":
        return None if value is None or isinstance(value, bool) else "takes no value (or true/false)"
    if feature.kind == "text":
        return _text_problem(feature, op, value)
    return _number_problem(feature, value)


def _condition_problem(condition: Any) -> str | None:
    if not isinstance(condition, dict):
        return "is not an object with feature, op and value"
    name = condition.get("feature")
    feature = FEATURES.get(name) if isinstance(name, str) else None
    if feature is None:
        return f"has an unknown feature {name!r}; choose one of {', '.join(FEATURES)}"
    allowed = {"feature", "op", "value"} | ({feature.parameter} if feature.parameter else set())
    extra = sorted(set(condition) - allowed)
    if extra:
        return f"({name}) has unknown fields: {', '.join(extra)}"
    op = condition.get("op")
    if op not in feature.ops:
        return f"({name}) has the operator {op!r}; {name} takes one of {', '.join(feature.ops)}"
    if feature.parameter is not None:
        parameter = condition.get(feature.parameter)
        if not isinstance(parameter, str) or not parameter.strip():
            return f"({name}) needs a {feature.parameter}"
        if feature.parameter_choices is not None and parameter not in feature.parameter_choices:
            choices = ", ".join(feature.parameter_choices)
            return f"({name}) has the {feature.parameter} {parameter!r}; choose one of {choices}"
    if "value" not in condition and op != "exists":
        return f"({name}) needs a value"
    problem = _value_problem(feature, op, condition.get("value"))
    return f"({name}) {problem}: {condition.get('value')!r}" if problem else None


def rules_problems(rules: Any) -> list[str]:
    """Every problem of a definition's ``rules`` (an empty list when they are valid), each naming its condition."""
    if not isinstance(rules, list):
        return ["Rules are a list of conditions."]
    problems = []
    for number, condition in enumerate(rules, start=1):
        problem = _condition_problem(condition)
        if problem:
            problems.append(f"Condition {number} {problem}.")
    return problems


# --- Evaluation over a frame of customers (one row per customer, ``features.behaviour_frame``) ---


def _number_mask(series: pd.Series, op: str, value: float) -> np.ndarray:
    compare: dict[str, Callable[[pd.Series], pd.Series]] = {
        "eq": lambda s: s == value,
        "gt": lambda s: s > value,
        "gte": lambda s: s >= value,
        "lt": lambda s: s < value,
        "lte": lambda s: s <= value,
    }
    return compare[op](series).fillna(False).to_numpy(dtype=bool)  # a missing value never holds


def _text_mask(series: pd.Series, op: str, value: Any) -> np.ndarray:
    values = value if op in ("in", "not_in") else [value]
    inside = series.isin(values).to_numpy(dtype=bool)
    return inside if op in ("eq", "in") else ~inside


def _attributes(frame: pd.DataFrame) -> pd.Series:
    """The custom attributes, parsed once per frame."""
    if "_attributes" not in frame:
        frame["_attributes"] = frame["custom_attributes"].map(lambda text: json.loads(text) if text else {})
    return frame["_attributes"]


def _words(value: Any) -> str:
    return str(value).replace("_", " ")


@dataclass(frozen=True)
class Condition:
    """One valid condition (see ``rules_problems``), evaluated over a frame of customers."""

    feature: str
    op: str
    value: Any = None
    parameter: str | None = None

    @classmethod
    def of(cls, condition: dict[str, Any]) -> Condition:
        feature = FEATURES[condition["feature"]]
        parameter = condition.get(feature.parameter) if feature.parameter else None
        return cls(feature=feature.name, op=condition["op"], value=condition.get("value"), parameter=parameter)

    def series(self, frame: pd.DataFrame) -> pd.Series:
        """The feature's value for each customer (NaN where it is unknown)."""
        if self.feature == "attribute":
            key = self.parameter
            return _attributes(frame).map(lambda found: None if found.get(key) is None else str(found.get(key)))
        if self.feature == "holdings":
            return frame["holdings" if self.parameter == ANY_KIND else f"holdings_of_{self.parameter}"]
        if self.feature == "channel_share":
            contacts = frame["contacts"].astype(float)
            return frame[f"contacts_{self.parameter}"].astype(float) / contacts.where(contacts > 0)
        return frame[self.feature]

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        series = self.series(frame)
        if self.op == "exists":
            present = series.notna().to_numpy(dtype=bool)
            return present if self.value in (None, True) else ~present
        if FEATURES[self.feature].kind == "text":
            return _text_mask(series, self.op, self.value)
        return _number_mask(series.astype(float), self.op, float(self.value))

    def reasons(self, frame: pd.DataFrame) -> list[str]:
        """Why the condition holds, in words, for each row of ``frame`` (rows where it holds)."""
        values = self.series(frame).tolist()
        return [self.reason(value) for value in values]

    def reason(self, value: Any) -> str:
        if self.feature in _REASONS:
            return _REASONS[self.feature](value, self.parameter)
        return f"{_words(self.feature)} {value or '(none)'}"


def _counted(count: int, thing: str) -> str:
    return f"{count} {thing}{'' if count == 1 else 's'}"


def _holdings_reason(value: Any, kind: str | None) -> str:
    return _counted(int(value), "holding" if kind == ANY_KIND else f"{_words(kind)} holding")


def _attribute_reason(value: Any, key: str | None) -> str:
    return f"{_words(key)} {value}" if value is not None else f"no {_words(key)}"


# How a condition on a number (or a keyed feature) says why it holds, from the customer's value.
_REASONS: dict[str, Callable[[Any, str | None], str]] = {
    "attribute": _attribute_reason,
    "channel_share": lambda value, channel: f"{value * 100:.0f}% of contacts on {_words(channel)}",
    "holdings": _holdings_reason,
    "holdings_balance": lambda value, _: f"holdings balance {value:,.2f}",
    "contacts_90d": lambda value, _: f"{_counted(int(value), 'contact')} in the last {RECENT_CONTACT_DAYS} days",
    "tenure_days": lambda value, _: f"customer for {_counted(int(value), 'day')}",
    "sentiment": lambda value, _: f"sentiment {value:+.2f}",
}


CATCH_ALL_REASON = "no earlier persona's rules matched (a persona for everyone)"
