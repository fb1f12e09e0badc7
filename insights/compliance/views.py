"""The compliance report page, ``/insights/compliance/``: pass rates per queue, agent and rule, and the
flagged interactions (failed verdicts) linking to the customer's 360 page and the interaction's API.
Supervisors see their teams, admins all; agents get 403 (``compliance_scope``)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from insights.compliance.selectors import compliance_report, compliance_scope, rules_all
from insights.sentiment.forms import PeriodForm


@require_GET
@login_required
def compliance_page(request: HttpRequest) -> HttpResponse:
    team_ids = compliance_scope(request.user)
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return render(request, "insights/compliance/report.html", {"form": form}, status=400)
    report = compliance_report(team_ids=team_ids, start=form.range_start, end=form.range_end)
    return render(request, "insights/compliance/report.html", {"form": form, "report": report, "rules": rules_all()})
