"""Pages of the journey stages: the journey map per persona, and a customer's stage history fragment."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cea.common.replica import reads_from_replica
from insights.access import require_customer_insight_reader
from insights.journeys.selectors import customer_stage_history, journey_map, stage_names
from records.access import access_customer, customers_visible_to, interactions_visible_to


def persona_param(value: str | None) -> str | None:
    """``?persona=`` absent: every customer; ``-``: customers without a persona; else that persona's key."""
    if value is None or value == "":
        return None
    return "" if value == "-" else value.strip()[:50]


@login_required
@require_GET
@reads_from_replica
def journey_map_page(request: HttpRequest) -> HttpResponse:
    """The journey map of the customers the reader may see, for one persona (or all)."""
    require_customer_insight_reader(request.user, "Journey maps")
    figures = journey_map(
        customers=customers_visible_to(request.user),
        interactions=interactions_visible_to(request.user),
        persona=persona_param(request.GET.get("persona")),
    )
    return render(request, "insights/journeys/map.html", {"map": figures, "chart": figures.as_dict()})


@login_required
@require_GET
def customer_stages_fragment(request: HttpRequest, customer_id: int) -> HttpResponse:
    """A customer's stage history (the 360 page loads it by URL): anyone who may see the customer."""
    customer = access_customer(request.user, customer_id)
    names = stage_names()
    visits = [
        {"stage": names.get(v.stage_key, v.stage_key), "entered_at": v.entered_at, "left_at": v.left_at}
        for v in customer_stage_history(customer_id=customer.pk)
    ]
    return render(request, "insights/journeys/customer_stages.html", {"customer": customer, "visits": visits})
