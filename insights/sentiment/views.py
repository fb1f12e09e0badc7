"""The sentiment report page, ``/insights/sentiment/``: interactions' sentiment by queue, agent, team,
channel and day, and the strongly negative turns (the supervisor alerts). Admins see every team,
supervisors their teams, agents their own contacts (``insights.access.figures_scope``)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from insights.access import figures_scope
from insights.sentiment.forms import SentimentQueryForm
from insights.sentiment.selectors import DIMENSIONS, negative_turns, sentiment_by, sentiment_total
from insights.sentiment.services import sentiment_settings


@require_GET
@login_required
def sentiment_page(request: HttpRequest) -> HttpResponse:
    scope = figures_scope(request.user)
    form = SentimentQueryForm(request.GET or None)
    context: dict = {"form": form, "settings": sentiment_settings()}
    if request.GET and not form.is_valid():
        return render(request, "insights/sentiment/report.html", context, status=400)
    if not request.GET:
        form = SentimentQueryForm({})
        form.is_valid()
        context["form"] = form
    start, end = form.range_start, form.range_end
    context.update(
        total=sentiment_total(scope=scope, start=start, end=end),
        tables=[(name, sentiment_by(scope=scope, dimension=name, start=start, end=end)) for name in DIMENSIONS],
        turns=negative_turns(scope=scope, start=start, end=end),
    )
    return render(request, "insights/sentiment/report.html", context)
