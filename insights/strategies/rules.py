"""The pure rules of a strategy: event pattern, audience, holdout split, quiet hours, validation.

No database access here: evaluation, dry-run and the console share these functions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from fnmatch import fnmatchcase
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cea.common.channels import Channel
from cea.common.errors import ValidationFailed
from engagement.outbound.services import OUTBOUND_CHANNELS
from insights.strategies.models import ActionKind, Direction, MetricKind, PropensityFrom, Strategy, TriggerKind
from records.customers.models import ConsentPurpose, ValueTier

EVENT_PATTERN = re.compile(r"^[a-z0-9_*]+(\.[a-z0-9_*]+)*$")
MAX_BOOST = 50  # routing clamps a context's priority_boost to ±50 (engagement/routing/priority.py)
MAX_HOLDOUT_PERCENT = 90
MAX_WEIGHT = 100.0  # context weights and levers: 0 to 100
MAX_VALUE = 1_000_000.0
RESERVED_KEYS = frozenset({"arbitration", "dry-run"})  # pages and APIs under /strategies/<name>/


def event_matches(pattern: str, kind: str) -> bool:
    """Whether a journey event kind matches a pattern (``*`` matches any run of characters)."""
    return fnmatchcase(kind, pattern)


def bucket(seed: str) -> int:
    """A stable bucket 0–9999 from a hash of ``seed``: the holdouts' and the control group's split."""
    return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big") % 10_000


def in_holdout(*, strategy_key: str, customer_id: int, percent: int) -> bool:
    """Deterministic split: the customer's bucket from a hash of (strategy key, customer id).

    The same customer is always in the same group of a strategy, and each strategy splits
    independently of the others (the key is in the hash).
    """
    return bucket(f"{strategy_key}:{customer_id}") < percent * 100


def zone_of(strategy: Strategy) -> dt.tzinfo:
    try:
        return ZoneInfo(strategy.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def in_quiet_hours(strategy: Strategy, at: dt.datetime) -> bool:
    """Whether ``at`` falls in the strategy's quiet hours (local time; a span may wrap midnight)."""
    start, end = strategy.quiet_start, strategy.quiet_end
    if start is None or end is None or start == end:
        return False
    local = at.astimezone(zone_of(strategy)).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end


def in_audience(strategy: Strategy, customer: Any) -> bool:
    """Each non-empty audience list must contain the customer's value of that field."""
    return (
        (not strategy.audience_personas or customer.persona in strategy.audience_personas)
        and (not strategy.audience_stages or customer.journey_stage in strategy.audience_stages)
        and (not strategy.audience_segments or customer.segment in strategy.audience_segments)
        and (not strategy.audience_value_tiers or customer.value_tier in strategy.audience_value_tiers)
    )


def in_window(strategy: Strategy, at: dt.datetime) -> bool:
    return (
        strategy.active
        and (strategy.starts_at is None or strategy.starts_at <= at)
        and (strategy.ends_at is None or at < strategy.ends_at)
    )


# --- Validation ------------------------------------------------------------------------------


def _trigger_errors(strategy: Strategy) -> dict[str, str]:
    errors: dict[str, str] = {}
    kind = strategy.trigger_kind
    if kind not in TriggerKind.values:
        return {"trigger_kind": f"One of {', '.join(TriggerKind.values)}."}
    if kind == TriggerKind.EVENT and not EVENT_PATTERN.match(strategy.event_pattern or ""):
        errors["event_pattern"] = "An event trigger needs a journey event kind such as case.created or case.*."
    if kind in (TriggerKind.STAGE_ENTERED, TriggerKind.STAGE_STAYED) and not strategy.stage:
        errors["stage"] = "A stage trigger needs the stage's key."
    if kind == TriggerKind.STAGE_STAYED and not strategy.stay_days:
        errors["stay_days"] = "Staying in a stage needs a number of days (1 or more)."
    if kind == TriggerKind.SCORE_CROSSED:
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,49}", strategy.score_key or ""):
            errors["score_key"] = "A score trigger needs the score's key, e.g. churn_risk (lower case, digits, _)."
        if strategy.score_threshold is None:
            errors["score_threshold"] = "A score trigger needs a threshold."
        if strategy.score_direction not in Direction.values:
            errors["score_direction"] = "Say whether the score rises above or falls below the threshold."
    if kind == TriggerKind.SCHEDULE and strategy.schedule_time is None:
        errors["schedule_time"] = "A schedule needs the local time of day it runs at."
    return errors


def _expiry_errors(hours: object) -> dict[str, str]:
    if hours is None or (isinstance(hours, int) and not isinstance(hours, bool) and 1 <= hours <= 720):
        return {}
    return {"action_params": "'expires_hours' is a whole number of hours from 1 to 720 (or absent: none)."}


def _action_errors(strategy: Strategy) -> dict[str, str]:
    kind, params = strategy.action_kind, strategy.action_params
    if kind not in ActionKind.values:
        return {"action_kind": f"One of {', '.join(ActionKind.values)}."}
    if not isinstance(params, dict):
        return {"action_params": "The action's parameters are an object."}
    errors: dict[str, str] = {}

    def text(name: str, limit: int = 2000) -> None:
        value = params.get(name)
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            errors["action_params"] = f"The {kind} action needs {name!r}: text of 1 to {limit} characters."

    if kind == ActionKind.MESSAGE:
        text("text")
        channel = params.get("channel", "")
        if channel and channel not in OUTBOUND_CHANNELS:
            errors["action_params"] = f"'channel' is one of {', '.join(OUTBOUND_CHANNELS)} (or empty: preferred)."
        if strategy.consent_purpose not in ConsentPurpose.values:
            errors["consent_purpose"] = f"A message needs a consent purpose: {', '.join(ConsentPurpose.values)}."
    elif kind == ActionKind.CALLBACK:
        text("queue", 100)
        text("reason", 300)
    elif kind == ActionKind.NEXT_BEST_ACTION:
        text("title", 200)
        text("detail")
        errors.update(_expiry_errors(params.get("expires_hours")))
    elif kind == ActionKind.CASE:
        text("subject", 200)
    elif kind == ActionKind.PRIORITY_BOOST:
        points, hours = params.get("points"), params.get("ttl_hours", 24)
        if isinstance(points, bool) or not isinstance(points, int) or not 1 <= abs(points) <= MAX_BOOST:
            errors["action_params"] = (
                f"A priority boost needs 'points': a whole number from -{MAX_BOOST} to {MAX_BOOST}, not 0."
            )
        elif isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= 720:
            errors["action_params"] = "'ttl_hours' is a whole number of hours from 1 to 720."
    if strategy.consent_purpose and strategy.consent_purpose not in ConsentPurpose.values:
        errors["consent_purpose"] = f"One of {', '.join(ConsentPurpose.values)}."
    return errors


def _limit_errors(strategy: Strategy) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not 1 <= (strategy.cap_firings or 0) <= 1000:
        errors["cap_firings"] = "At most N firings per customer: N from 1 to 1000."
    if not 1 <= (strategy.cap_days or 0) <= 365:
        errors["cap_days"] = "The cap's period is 1 to 365 days."
    if not 0 <= strategy.holdout_percent <= MAX_HOLDOUT_PERCENT:
        errors["holdout_percent"] = f"The holdout is 0 to {MAX_HOLDOUT_PERCENT} percent of the audience."
    if (strategy.quiet_start is None) != (strategy.quiet_end is None):
        errors["quiet_end"] = "Quiet hours need both a start and an end."
    try:
        ZoneInfo(strategy.time_zone or "")
    except (ZoneInfoNotFoundError, ValueError):
        errors["time_zone"] = f"{strategy.time_zone!r} is not an IANA time zone such as Europe/London."
    if strategy.starts_at and strategy.ends_at and strategy.ends_at <= strategy.starts_at:
        errors["ends_at"] = "The end date comes after the start."
    return errors


def _audience_errors(strategy: Strategy) -> dict[str, str]:
    unknown = sorted(set(strategy.audience_value_tiers) - set(ValueTier.values))
    if unknown:
        return {"audience_value_tiers": f"Unknown value tiers: {', '.join(unknown)}."}
    return {}


def _number(value: object, low: float, high: float) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high


def _arbitration_errors(strategy: Strategy) -> dict[str, str]:
    errors: dict[str, str] = {}
    if strategy.propensity_from not in PropensityFrom.values:
        errors["propensity_from"] = f"One of {', '.join(PropensityFrom.values)}."
    weights = strategy.context_weights
    keys = {*Channel.values, "live"}
    if not isinstance(weights, dict) or not all(
        key in keys and _number(weight, 0, MAX_WEIGHT) for key, weight in weights.items()
    ):
        errors["context_weights"] = (
            f"An object of weights from 0 to {MAX_WEIGHT:g} by channel ({', '.join(Channel.values)}) or live."
        )
    if not _number(strategy.value, 0, MAX_VALUE):
        errors["value"] = f"The action's value is a number from 0 to {MAX_VALUE:,.0f}."
    if not _number(strategy.lever, 0, MAX_WEIGHT):
        errors["lever"] = f"The business lever is a number from 0 to {MAX_WEIGHT:g} (1: neutral)."
    return errors


def _metric_errors(strategy: Strategy) -> dict[str, str]:
    if strategy.metric_kind not in MetricKind.values:
        return {"metric_kind": f"One of {', '.join(MetricKind.values)}."}
    errors: dict[str, str] = {}
    if strategy.metric_kind == MetricKind.STAGE_REACHED and not strategy.metric_stage:
        errors["metric_stage"] = "Reaching a stage needs the stage's key."
    if not 1 <= (strategy.metric_days or 0) <= 365:
        errors["metric_days"] = "The metric's window is 1 to 365 days."
    return errors


def strategy_errors(strategy: Strategy) -> dict[str, str]:
    """Every rule a strategy breaks, by field (empty: valid)."""
    errors: dict[str, str] = {}
    if not strategy.key or not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,59}", strategy.key):
        errors["key"] = "Lower-case letters, digits and hyphens, up to 60 characters."
    elif strategy.key in RESERVED_KEYS:
        errors["key"] = f"{strategy.key!r} names a page of the strategies; choose another key."
    if not (strategy.name or "").strip():
        errors["name"] = "A strategy needs a name."
    checks = (_trigger_errors, _action_errors, _limit_errors, _audience_errors, _metric_errors, _arbitration_errors)
    for check in checks:
        errors.update(check(strategy))
    return errors


def strategy_require_valid(strategy: Strategy) -> None:
    """``ValidationFailed`` naming each field a strategy gets wrong."""
    errors = strategy_errors(strategy)
    if errors:
        raise ValidationFailed("The strategy is invalid: " + " ".join(errors.values()), fields=errors)
