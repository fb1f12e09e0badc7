"""The personas page, ``/insights/personas/``: the definitions with how many of the viewer's customers
each holds, and the latest discovery run's clusters to adopt as a persona or dismiss.

For supervisors (counts of their teams' customers) and admins (all); agents get 403. Adopting and
dismissing are for admins (a definition is global configuration); the page reads stored results only.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from cea.common.errors import ApplicationError, ValidationFailed
from cea.common.roles import is_admin
from insights.access import require_customer_insight_page_viewer, require_persona_editor
from insights.personas.discovery import feature_label, suggested_rules
from insights.personas.selectors import (
    discovery_clusters,
    discovery_latest,
    persona_customer_counts,
    persona_definitions,
)
from insights.personas.services import cluster_adopt, cluster_dismiss
from records.access import customers_visible_to, row_id


@require_GET
@login_required
def personas_page(request: HttpRequest) -> HttpResponse:
    require_customer_insight_page_viewer(request.user, "Personas")
    counts = persona_customer_counts(customers=customers_visible_to(request.user))
    definitions = [
        (definition, counts.get(definition.key, 0), [json.dumps(rule) for rule in definition.rules])
        for definition in persona_definitions()
    ]
    run = discovery_latest()
    clusters = []
    if run is not None:
        for found in discovery_clusters(run=run):
            apart = [{**item, "label": feature_label(item["feature"])} for item in found.distinguishing]
            rules = [json.dumps(rule) for rule in suggested_rules(found.distinguishing)]
            clusters.append({"cluster": found, "apart": apart, "rules": rules})
    return render(
        request,
        "insights/personas/personas.html",
        {
            "definitions": definitions,
            "unplaced": counts.get("", 0),
            "run": run,
            "clusters": clusters,
            "may_decide": is_admin(request.user),
        },
    )


def _cluster_id(request: HttpRequest, cluster_id: int) -> int:
    require_customer_insight_page_viewer(request.user, "Personas")
    require_persona_editor(request.user)
    pk = row_id(cluster_id)
    if pk is None:
        raise ValidationFailed("No such cluster.")
    return pk


@require_POST
@login_required
def cluster_adopt_view(request: HttpRequest, cluster_id: int) -> HttpResponse:
    pk = _cluster_id(request, cluster_id)
    key = request.POST.get("key", "").strip()
    name = request.POST.get("name", "").strip()
    try:
        definition = cluster_adopt(actor=request.user, cluster_id=pk, key=key, name=name)
    except ApplicationError as problem:
        details = "; ".join(message for messages_ in problem.fields.values() for message in messages_)
        messages.error(request, f"{problem.message} {details}".strip())
        return redirect("insights:personas")
    messages.success(
        request,
        gettext("Persona %(name)s (%(key)s) created; edit its rules in the console.")
        % {"name": definition.name, "key": definition.key},
    )
    return redirect("insights:personas")


@require_POST
@login_required
def cluster_dismiss_view(request: HttpRequest, cluster_id: int) -> HttpResponse:
    pk = _cluster_id(request, cluster_id)
    try:
        cluster_dismiss(actor=request.user, cluster_id=pk)
    except ApplicationError as problem:
        messages.error(request, problem.message)
        return redirect("insights:personas")
    messages.success(request, gettext("Cluster dismissed."))
    return redirect("insights:personas")
