"""Pages of the customer access log: who read a customer or what a user read, and unusual access."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cea.common.errors import ValidationFailed
from records.access import row_id
from records.audit.access_selectors import BASELINE_DAYS, VOLUME_FACTOR, VOLUME_FLOOR, customer_accesses, unusual_access


def _optional_id(request, name: str) -> int | None:
    value = request.GET.get(name, "").strip()
    if not value:
        return None
    pk = row_id(value)
    if pk is None:
        raise ValidationFailed(f"{name} must be a number.", fields={name: "Give an id (digits)."})
    return pk


@login_required
@require_GET
def access_log_page(request):
    customer_id, user_id = _optional_id(request, "customer"), _optional_id(request, "user")
    rows = customer_accesses(viewer=request.user, customer_id=customer_id, user_id=user_id)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "records/audit/access_log.html",
        {"page": page, "customer_id": customer_id or "", "user_id": user_id or ""},
    )


@login_required
@require_GET
def unusual_access_page(request):
    days = unusual_access(viewer=request.user, days=14)
    return render(
        request,
        "records/audit/unusual_access.html",
        {"days": days, "floor": VOLUME_FLOOR, "factor": VOLUME_FACTOR, "baseline_days": BASELINE_DAYS},
    )
