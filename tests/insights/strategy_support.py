"""Helpers of the strategy tests (not collected): strategies through the service, events, consents, a clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import TestCase

from insights.journeys.models import StageVisit
from insights.strategies.models import Strategy, StrategyFiring
from insights.strategies.services import strategies_evaluate_event, strategies_evaluate_new_events, strategy_create
from records.customers.models import Consent, Customer
from records.journey.models import JourneyEvent
from records.journey.services import journey_record
from tests.support import make_customer

# A fixed clock: Monday 2 March 2026, 12:00 UTC (also 12:00 in London: winter time).
NOON = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


def strategy(key: str = "welcome-case", **fields: Any) -> Strategy:
    """A valid strategy made by the service: on ``case.created``, opens a case, no holdout, unless told."""
    defaults: dict[str, Any] = {
        "key": key,
        "name": key.replace("-", " ").title(),
        "trigger_kind": "event",
        "event_pattern": "interaction.recorded",
        "action_kind": "priority_boost",
        "action_params": {"points": 10, "ttl_hours": 2},
        "metric_kind": "case_resolved",
        "metric_days": 7,
        "holdout_percent": 0,
        "cap_firings": 1,
        "cap_days": 7,
    }
    return strategy_create(actor=None, fields={**defaults, **fields})


def event(customer: Customer, kind: str = "interaction.recorded") -> JourneyEvent:
    return journey_record(customer=customer, kind=kind, summary=f"{kind} for the test", source_system="records")


def consent(customer: Customer, channel: str, purpose: str = "marketing", granted: bool = True) -> Consent:
    return Consent.objects.create(customer=customer, channel=channel, purpose=purpose, granted=granted, given_at=NOON)


def customer(team=None, **fields: Any) -> Customer:
    """A customer of ``team`` with ``fields`` (persona, stage, scores …) set on the row as insights reads them;
    a stage given with its since is also the customer's open stage visit, as stage assignment keeps both."""
    made = make_customer(team)
    if fields:
        Customer.objects.filter(pk=made.pk).update(**fields)
        made.refresh_from_db()
    if made.journey_stage and made.journey_stage_since:
        StageVisit.objects.create(
            customer_id=made.pk, stage_key=made.journey_stage, entered_at=made.journey_stage_since
        )
    return made


def evaluate(happened: JourneyEvent, now: dt.datetime = NOON) -> list[StrategyFiring]:
    """``strategies_evaluate_event`` as it runs in production: committed, then its actions' task
    (with the ``eager_tasks`` fixture: at once, in this thread)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return strategies_evaluate_event(event=happened, now=now)


def evaluate_new(now: dt.datetime = NOON):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return strategies_evaluate_new_events(now=now)
