"""Legal holds on the customer 360 page and the case page: the list, place one, release one.

Anyone who sees the customer or case sees its holds; supervisors (of its team) and administrators
place and release them. The actions answer with the section again (htmx), a refusal written in it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_POST

from cea.common.errors import ApplicationError
from records.access import access_case, access_customer
from records.privacy.holds import access_legal_hold, legal_hold_place, legal_hold_release, legal_holds_of


def _section(request, *, customer=None, case=None, action: Callable | None = None, notice: str = ""):
    error, status = None, 200
    if action is not None:
        try:
            action()
        except ApplicationError as refused:
            if refused.status_code in (403, 404):
                raise
            error, status, notice = refused, refused.status_code, ""
    context = {
        "hold_customer": customer,
        "hold_case": case,
        "legal_holds": legal_holds_of(customer=customer, case=case),
        "hold_error": error,
        "hold_notice": notice,
    }
    return render(request, "records/partials/legal_holds.html", context, status=status)


def _place(request, *, target: dict):
    reason = request.POST.get("reason", "")
    return _section(
        request,
        **target,
        action=lambda: legal_hold_place(actor=request.user, **target, reason=reason),
        notice="Legal hold placed.",
    )


@login_required
@require_POST
def customer_hold_action(request, customer_id: int):
    return _place(request, target={"customer": access_customer(request.user, customer_id)})


@login_required
@require_POST
def case_hold_action(request, case_id: str):
    return _place(request, target={"case": access_case(request.user, case_id)})


@login_required
@require_POST
def hold_release_action(request, hold_id: int):
    hold = access_legal_hold(request.user, hold_id)
    # Answer with the section it was released from: the customer's page lists its cases' holds too.
    on_case = request.POST.get("from") == "case" and hold.case_id is not None
    customer = None if on_case else (hold.customer or (hold.case.customer if hold.case else None))
    return _section(
        request,
        customer=customer,
        case=hold.case if on_case else None,
        action=lambda: legal_hold_release(actor=request.user, hold=hold),
        notice="Legal hold released.",
    )
