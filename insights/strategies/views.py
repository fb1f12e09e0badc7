"""Strategy pages: /insights/strategies/ (the list) and /insights/strategies/<key>/ (one, its effect).

For supervisors (their teams' customers' figures) and administrators (all); agents get 403. The
pages read the firings log and the effect rows the effects task stored; the dry-run is a
fragment the page asks for (htmx), deciding without recording anything.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from insights.access import require_customer_insight_page_viewer
from insights.strategies.arbitration import component_reasons
from insights.strategies.figures import effect_claimed, effect_wording
from insights.strategies.selectors import (
    access_strategy,
    arbitration_components,
    arbitration_settings,
    arbitration_uplift,
    strategies_visible_to,
    strategy_dry_run,
    strategy_effects,
    strategy_firing_counts,
    strategy_recent_firings,
    strategy_recommendation_outcomes,
)


@require_GET
@login_required
def strategy_list_page(request: HttpRequest) -> HttpResponse:
    require_customer_insight_page_viewer(request.user, "Engagement strategies")
    rows = [
        {"strategy": strategy, "firings": strategy_firing_counts(user=request.user, strategy=strategy)}
        for strategy in strategies_visible_to(request.user)
    ]
    return render(request, "insights/strategies/list.html", {"rows": rows})


def _percent(successes: int, customers: int) -> float | None:
    return round(100 * successes / customers, 1) if customers else None


@require_GET
@login_required
def strategy_page(request: HttpRequest, key: str) -> HttpResponse:
    require_customer_insight_page_viewer(request.user, "Engagement strategies")
    strategy = access_strategy(request.user, key)
    stored = strategy_effects(user=request.user, strategy=strategy)
    effects = [
        {
            "effect": effect,
            "treated_rate": _percent(effect.treated_successes, effect.treated),
            "holdout_rate": _percent(effect.holdout_successes, effect.holdout),
            "claimed": effect_claimed(effect),
            "wording": effect_wording(effect),
        }
        for effect in stored
    ]
    chart = [
        {
            "label": effect.team.name if effect.team else gettext("All teams"),
            "treated": _percent(effect.treated_successes, effect.treated),
            "holdout": _percent(effect.holdout_successes, effect.holdout),
        }
        for effect in stored
    ]
    return render(
        request,
        "insights/strategies/strategy.html",
        {
            "strategy": strategy,
            "firings": strategy_firing_counts(user=request.user, strategy=strategy),
            "recent": [
                {"firing": firing, "components": component_reasons(firing.components)}
                for firing in strategy_recent_firings(user=request.user, strategy=strategy)
            ],
            "recommendations": strategy_recommendation_outcomes(user=request.user, strategy=strategy),
            "effects": effects,
            "chart": chart,
        },
    )


@require_GET
@login_required
def strategy_dry_run_fragment(request: HttpRequest, key: str) -> HttpResponse:
    require_customer_insight_page_viewer(request.user, "Engagement strategies")
    strategy = access_strategy(request.user, key)
    dry_run = strategy_dry_run(user=request.user, strategy=strategy)
    return render(request, "insights/strategies/partials/dry_run.html", {"strategy": strategy, "dry_run": dry_run})


@require_GET
@login_required
def arbitration_page(request: HttpRequest) -> HttpResponse:
    """Arbitration's settings and components, and its uplift against the random control group."""
    require_customer_insight_page_viewer(request.user, "Engagement strategies")
    rows = arbitration_uplift(user=request.user)
    chart = [
        {"label": row.team.name if row.team else gettext("All teams"), "curve": row.curve} for row in rows if row.curve
    ]
    return render(
        request,
        "insights/strategies/arbitration.html",
        {
            "settings": arbitration_settings(),
            "strategies": arbitration_components(user=request.user),
            "rows": rows,
            "chart": chart,
        },
    )
