"""The live wallboard's pages: ``/insights/wallboard/`` (pick a team) and ``/insights/wallboard/<team id>/``.

For supervisors (their teams) and admins (every team); agents get 403, anonymous users the sign-in
page. The page is rendered whole by the server; static/insights/wallboard.js then keeps it live
over ``ws/insights/wallboard/<team id>/`` (insights/wallboard/consumers.py), swapping in the board
the server renders, and offers the full-screen (kiosk) mode for a wall TV.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from insights.access import access_wallboard_team, wallboard_teams_visible_to
from insights.realtime.selectors import team_board


@require_GET
@login_required
def wallboard_picker(request: HttpRequest) -> HttpResponse:
    """The teams whose wallboard the user may open; straight to the board when there is one."""
    teams = list(wallboard_teams_visible_to(request.user))
    if len(teams) == 1:
        return redirect("insights:wallboard-team", team_id=teams[0].pk)
    return render(request, "insights/wallboard/picker.html", {"teams": teams})


@require_GET
@login_required
def wallboard_page(request: HttpRequest, team_id: int) -> HttpResponse:
    team = access_wallboard_team(request.user, team_id)
    teams = list(wallboard_teams_visible_to(request.user))
    return render(
        request,
        "insights/wallboard/wallboard.html",
        {"team": team, "teams": teams, "board": team_board(team=team)},
    )
