"""The supervisor's live adherence page, /wfm/adherence/: each agent of their teams now (scheduled
activity, presence, in or out and since when, today's figures), the open and recent exceptions, and
the last days' adherence and conformance per agent.

Supervisors (their teams), admins (all); agents get 403, anonymous users the sign-in page. The live
table is a fragment the page reads again when ``ws/wfm/adherence/`` pushes a change of one of the
user's teams' agents (static/engagement/wfm_adherence.js), and every ``REFRESH_SECONDS`` as a fallback.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from cea.common.roles import sees_everything, team_ids_of
from engagement.wfm.access import require_wfm_reader
from engagement.wfm.adherence.selectors import adherence_by_agent, adherence_live, exceptions_visible_to
from engagement.wfm.adherence.services import exception_threshold

REFRESH_SECONDS = 60
DAYS_SHOWN = 7
EXCEPTIONS_SHOWN = 50


def _live_context(request: HttpRequest) -> dict:
    return {
        "rows": adherence_live(user=request.user),
        "exceptions": list(exceptions_visible_to(request.user)[:EXCEPTIONS_SHOWN]),
        "threshold_minutes": int(exception_threshold().total_seconds() // 60),
    }


@login_required
@require_GET
def adherence_page(request: HttpRequest) -> HttpResponse:
    require_wfm_reader(request.user)
    end = timezone.localdate() - timedelta(days=1)
    start = end - timedelta(days=DAYS_SHOWN - 1)
    team_ids = None if sees_everything(request.user) else team_ids_of(request.user)
    context = {
        **_live_context(request),
        "days": adherence_by_agent(start=start, end=end, team_ids=team_ids),
        "days_start": start,
        "days_end": end,
        "refresh_seconds": REFRESH_SECONDS,
    }
    return render(request, "engagement/wfm/adherence.html", context)


@login_required
@require_GET
def adherence_live_fragment(request: HttpRequest) -> HttpResponse:
    require_wfm_reader(request.user)
    return render(request, "engagement/wfm/partials/adherence_live.html", _live_context(request))
