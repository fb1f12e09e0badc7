"""The /wfm/ landing page: the planning queues the user reads and the parts of workforce management."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from engagement.wfm.access import planning_queues_visible_to
from engagement.wfm.pages import wfm_page


@wfm_page
@require_GET
def wfm_home(request: HttpRequest) -> HttpResponse:
    context = {"planning_queues": planning_queues_visible_to(request.user)}
    return render(request, "engagement/wfm/home.html", context)
