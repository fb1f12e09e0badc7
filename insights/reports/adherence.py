"""The adherence report, /insights/reports/adherence/: schedule adherence and conformance over local days,
per team, per day and per agent, from engagement's ``AdherenceDay`` rows (read through
``engagement.wfm.adherence.selectors``; the day's job writes them, docs/wfm.md "Adherence").

Supervisors see their teams (the team each agent was scheduled in that day), admins every team;
agents are refused (403), as from every planning figure. A team filter beyond the user's teams is
refused rather than answered with nothing.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cea.common.days import local_today
from cea.common.errors import PermissionDenied, ValidationFailed
from cea.common.replica import reads_from_replica
from engagement.wfm.adherence.selectors import adherence_by_agent, adherence_by_day, adherence_by_team
from insights.access import figures_scope
from insights.reports.selectors import team_names

MAX_DAYS = 92
DEFAULT_DAYS = 7


class AdherenceReportForm(forms.Form):
    """A range of local days (both included; default the last seven full days) and a team."""

    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="Included.")
    team = forms.IntegerField(required=False, min_value=1, label="Team id")

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        cleaned["end"] = cleaned.get("end") or local_today() - dt.timedelta(days=1)
        cleaned["start"] = cleaned.get("start") or cleaned["end"] - dt.timedelta(days=DEFAULT_DAYS - 1)
        if cleaned["end"] < cleaned["start"]:
            self.add_error("end", "The last day must not be before the first.")
        elif (cleaned["end"] - cleaned["start"]).days >= MAX_DAYS:
            self.add_error("end", f"Choose at most {MAX_DAYS} days.")
        return cleaned


def adherence_team_ids(user, *, team: int | None) -> frozenset[int] | None:
    """The teams whose adherence ``user`` reads (``None``: every team); agents and foreign teams refused."""
    scope = figures_scope(user)
    if scope.agent_id is not None:
        raise PermissionDenied("Adherence figures are for supervisors and administrators.", code="not_a_planner")
    if team is None:
        return scope.team_ids
    if scope.team_ids is not None and team not in scope.team_ids:
        raise PermissionDenied("You can only report on your own teams.")
    return frozenset({team})


@login_required
@require_GET
@reads_from_replica
def adherence_report_page(request: HttpRequest) -> HttpResponse:
    form = AdherenceReportForm(request.GET)
    if not form.is_valid():
        raise ValidationFailed(
            "Please correct the selection.",
            fields={name: [str(error) for error in errors] for name, errors in form.errors.items()},
        )
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    team_ids = adherence_team_ids(request.user, team=form.cleaned_data["team"])
    teams = adherence_by_team(start=start, end=end, team_ids=team_ids)
    names = team_names(team_ids=[row["team_id"] for row in teams if row["team_id"] is not None])
    for row in teams:
        row["name"] = names.get(row["team_id"], "No team") if row["team_id"] is not None else "No team"
    context = {
        "form": form,
        "start": start,
        "end": end,
        "teams": teams,
        "days": adherence_by_day(start=start, end=end, team_ids=team_ids),
        "agents": adherence_by_agent(start=start, end=end, team_ids=team_ids),
    }
    return render(request, "insights/reports/adherence.html", context)
