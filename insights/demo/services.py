"""The demo's insights, once: personas, stages, scores and a handful of strategies on the demo data.

``demo_insights_load`` runs, in order, each step timed and reported in words: the starter personas
(where their keys are free) and every customer's persona; a discovery run; the journey stages
rebuilt from every event; surveys answered after past contacts (``insights.surveys.demo``); both
models trained and the customers scored (a model the data cannot train is reported with the reason
and skipped); the demo strategies (``DEMO_STRATEGIES``, created through the strategies' service
where their key is free); last, the strategies' event watermark set
at the newest journey event, so the demo's history — and the stage and score events the steps above
wrote — never fires an event strategy; then quality assurance's default scorecard, sampling queue and a
few evaluations (``insights.quality.demo``). Done once: when every demo strategy exists the load says so
and does nothing (``force`` runs the steps again; nothing a person made is changed).

What fires after the load, and why: stage-entered strategies only reach customers who enter the
stage after the strategy was created; score strategies reach, at their first evaluation, the
customers beyond the threshold then (they crossed it when the load scored them) — on purpose: the
churn-risk boost and the loyal customers' upsell are about now, and give the strategy pages their
treated and held-out groups; each strategy's holdout and caps bound them.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils import timezone

from cea.common.errors import ValidationFailed
from insights.compliance.services import compliance_backfill, demo_compliance_rules_ensure
from insights.journeys.assignment import stages_rebuild
from insights.personas.services import personas_assign, personas_discover, personas_starter_ensure
from insights.quality.demo import quality_demo_load
from insights.scoring.models import ScoreKind
from insights.scoring.services import model_score_customers, model_train
from insights.sentiment.services import sentiment_backfill
from insights.strategies.models import Strategy
from insights.strategies.services import strategies_evaluate_new_events, strategy_create
from insights.surveys.demo import surveys_demo_load
from records.demo.generator import demo_data_present

Report = Callable[[str], None]

QUIET_NIGHTS: dict[str, Any] = {
    "time_zone": "Europe/London",
    "quiet_start": dt.time(21),
    "quiet_end": dt.time(8),
}
DEMO_STRATEGIES: tuple[dict[str, Any], ...] = (
    {
        "key": "demo-welcome-onboarding",
        "name": "Welcome on board",
        "description": "A customer who starts onboarding gets a welcome from the agent who next talks to them.",
        "trigger_kind": "stage_entered",
        "stage": "onboarding",
        "action_kind": "next_best_action",
        "action_params": {
            "title": "Welcome them on board",
            "detail": "They have just started: offer a walk through the first steps and the app.",
            "score": 0.6,
        },
        "holdout_percent": 10,
        "metric_kind": "stage_reached",
        "metric_stage": "loyalty",
        "metric_days": 60,
    },
    {
        "key": "demo-win-back-lapsed",
        "name": "Win back the lapsed",
        "description": "A customer who goes quiet for 90 days gets a call from the orders team.",
        "trigger_kind": "stage_entered",
        "stage": "lapsed",
        "action_kind": "callback",
        "action_params": {"queue": "orders", "reason": "Win-back: no contact for 90 days"},
        **QUIET_NIGHTS,
        "holdout_percent": 20,
        "metric_kind": "stage_reached",
        "metric_stage": "purchase",
        "metric_days": 60,
    },
    {
        "key": "demo-churn-risk-boost",
        "name": "At risk: answer first",
        "description": "A customer whose churn risk reaches 0.6 is answered sooner for three days.",
        "trigger_kind": "score_crossed",
        "score_key": "churn_risk",
        "score_threshold": 0.6,
        "score_direction": "above",
        "action_kind": "priority_boost",
        "action_params": {"points": 10, "ttl_hours": 72},
        "holdout_percent": 10,
        "metric_kind": "retention",
        "metric_days": 30,
    },
    {
        "key": "demo-loyalty-upsell",
        "name": "Upsell the loyal",
        "description": (
            "A loyal customer likely to buy again (a propensity of 0.15: three times the typical customer's)"
            " is offered the next product by the agent."
        ),
        "trigger_kind": "score_crossed",
        "score_key": "propensity",
        "score_threshold": 0.15,
        "score_direction": "above",
        "audience_stages": ["loyalty"],
        "action_kind": "next_best_action",
        "action_params": {
            "title": "Offer the upgrade",
            "detail": "A loyal customer likely to buy again: suggest the next product up.",
            "score": 0.7,
        },
        "holdout_percent": 10,
        "metric_kind": "nba_accepted",
        "metric_days": 30,
    },
    {
        "key": "demo-review-ask",
        "name": "Ask for a review",
        "description": "After an order, ask for a review on the customer's consented channel.",
        "trigger_kind": "event",
        "event_pattern": "order.placed",
        "action_kind": "message",
        "action_params": {"text": "Thank you for your order! Would you tell others what you think of it?"},
        "consent_purpose": "marketing",
        **QUIET_NIGHTS,
        "cap_firings": 1,
        "cap_days": 30,
        "holdout_percent": 10,
        "metric_kind": "stage_reached",
        "metric_stage": "advocacy",
        "metric_days": 30,
    },
)


def _demo_keys_existing() -> set[str]:
    keys = [fields["key"] for fields in DEMO_STRATEGIES]
    return set(Strategy.objects.filter(key__in=keys).values_list("key", flat=True))


def demo_insights_done() -> bool:
    """Whether the demo's insights were loaded: every demo strategy exists (the load's last creation)."""
    return _demo_keys_existing() == {fields["key"] for fields in DEMO_STRATEGIES}


def _timed(report: Report, step: Callable[[], str]) -> None:
    began = time.perf_counter()
    said = step()
    report(f"  {said} ({time.perf_counter() - began:.1f} s)")


def _personas() -> str:
    added = personas_starter_ensure(actor=None)
    result = personas_assign(actor=None)
    counts = ", ".join(f"{key or '(none)'} {count:,}" for key, count in result.by_persona.items())
    return f"personas: {len(added)} starter definition(s) added; {result.customers:,} customers placed ({counts})"


def _discovery() -> str:
    run = personas_discover(random_state=0)
    if run is None:
        return "persona discovery: too few customers to cluster"
    return f"persona discovery: run {run.pk}, k={run.k}, silhouette {run.silhouette:.3f}"


def _stages() -> str:
    # The assignment leaves the last CEA_JOURNEY_STAGE_LAG_SECONDS of events to a later run (a transaction
    # still open); the demo's were committed by its load, so the rebuild reads them all now.
    run = stages_rebuild(now=timezone.now() + dt.timedelta(seconds=settings.CEA_JOURNEY_STAGE_LAG_SECONDS))
    return f"journey stages: {run.facts:,} facts read, {run.entries:,} visits, {run.changed:,} customers' stage set"


def _sentiment() -> str:
    # The generator's transcripts carry an invented sentiment: VADER scores them instead (English
    # only), then the customers' trends follow; the demo compliance rules are checked on them too.
    counts = sentiment_backfill(rescore=True)
    rules = demo_compliance_rules_ensure()
    checked = compliance_backfill()
    return (
        f"sentiment: {counts['interactions']:,} interactions scored by VADER, {counts['customers']:,} customers'"
        f" trends; compliance: {rules} demo rules, {checked['verdicts']:,} verdicts"
    )


def _model(kind: str) -> str:
    try:
        run = model_train(kind=kind)
    except ValidationFailed as refusal:
        return f"{kind}: not trained: {refusal}"
    scored = model_score_customers(kind=kind, run_id=run.pk)
    return f"{kind}: {run.version}, AUC {run.auc}; {scored.customers:,} customers scored"


def _strategies() -> str:
    taken = _demo_keys_existing()
    created: list[Strategy] = [
        strategy_create(actor=None, fields=dict(fields)) for fields in DEMO_STRATEGIES if fields["key"] not in taken
    ]
    return f"strategies: {len(created)} created ({', '.join(s.key for s in created) or 'all there'})"


def _watermark() -> str:
    run = strategies_evaluate_new_events()
    if run is None:
        return "strategies' event watermark: held by a running evaluation, left to it"
    return f"strategies' event watermark at journey event {run.last_id:,} (history does not fire)"


def demo_insights_load(*, report: Report, force: bool = False) -> bool:
    """Load the demo's insights (see the module); False, with the reason reported, when skipped."""
    if not demo_data_present():
        report("No customers: load the demo data first; nothing done.")
        return False
    if demo_insights_done() and not force:
        report("Demo insights already loaded (the demo strategies exist); nothing done.")
        return False
    steps: list[Callable[[], str]] = [
        _personas,
        _discovery,
        _stages,
        _sentiment,
        surveys_demo_load,
        lambda: _model(ScoreKind.CHURN_RISK),
        lambda: _model(ScoreKind.PROPENSITY),
        _strategies,
        _watermark,
        quality_demo_load,
    ]
    for step in steps:
        _timed(report, step)
    return True
