"""The model page, ``/insights/models/``: each scoring model's latest and previous runs.

For supervisors and admins (agents: 403). It reads the stored runs only; training happens in
Celery and ``manage.py insights_train_models`` (docs/models.md says how it is computed).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from insights.access import require_customer_insight_reader
from insights.scoring.selectors import model_histories


def _chart(history) -> dict:
    run = history.latest
    points = run.calibration if run is not None else []
    return {
        "kind": history.kind,
        "label": history.label,
        "predicted": [point["predicted"] for point in points],
        "observed": [point["observed"] for point in points],
        "rows": [point["rows"] for point in points],
    }


@require_GET
@login_required
def models_page(request: HttpRequest) -> HttpResponse:
    require_customer_insight_reader(request.user, "The scoring models")
    histories = model_histories()
    return render(
        request,
        "insights/models/models.html",
        {"histories": histories, "charts": [_chart(history) for history in histories if history.latest]},
    )
