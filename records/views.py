"""Browser pages of the System of Record: customer search, the customer 360° page, the case page.

Server-rendered with htmx for in-place updates; the agent desktop reuses the partials
under ``templates/records/partials/``. Every object is fetched through ``records.access``.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from cea.common.errors import ValidationFailed
from cea.common.roles import can_supervise
from records.access import access_case, access_customer, customers_visible_to
from records.audit.access import customer_access_record
from records.audit.access_selectors import customer_accesses
from records.audit.selectors import audit_trail
from records.cases.models import transitions_from
from records.cases.services import case_add_note, case_create, case_transition, case_update
from records.customers.selectors import customer_360, customer_duplicate_candidates, customer_search
from records.customers.services import customer_merge
from records.forms import CaseEditForm, CaseForm, IdentityForm, NoteForm
from records.identities.services import identity_add
from records.interactions.models import Interaction
from records.journey.apis import decode_cursor, encode_cursor
from records.journey.selectors import journey_timeline
from records.privacy.consent_history import consent_history
from records.privacy.holds import legal_holds_of

TIMELINE_PAGE = 20
RECENT_READS = 10
CONSENT_HISTORY_SHOWN = 20


def _form_error(form) -> ValidationFailed:
    return ValidationFailed(gettext("Please correct the highlighted fields."), fields=form.errors)


@login_required
@require_GET
def customer_search_page(request):
    text = request.GET.get("q", "")
    customers = customer_search(customers=customers_visible_to(request.user).select_related("team"), text=text)
    page = Paginator(customers.order_by("family_name", "given_name", "id"), 25).get_page(request.GET.get("page"))
    customer_access_record(
        actor=request.user, customer_ids=[c.pk for c in page], surface="lookup", detail="customer search page"
    )
    return render(request, "records/customer_search.html", {"page": page, "q": text})


@login_required
@require_GET
def customer_page(request, customer_id: int):
    customer = access_customer(request.user, customer_id)
    if customer.merged_into_id:
        return redirect("records:customer-360", customer_id=customer.merged_into_id)
    customer_access_record(actor=request.user, customer_ids=[customer.pk], surface="customer_360_page")
    supervises = can_supervise(request.user)
    context = {
        "customer": customer_360(customer_id=customer.pk),
        "recent_interactions": Interaction.objects.filter(customer=customer).select_related("agent")[:10],
        "case_form": CaseForm(),
        "identity_form": IdentityForm(),
        # Merging is a supervisor's decision, so only they are shown the candidates.
        "duplicates": (
            customer_duplicate_candidates(customer=customer, within=customers_visible_to(request.user), limit=5)
            if can_supervise(request.user)
            else None
        ),
        "consent_history": consent_history(customer=customer, limit=CONSENT_HISTORY_SHOWN),
        "hold_customer": customer,
        "legal_holds": legal_holds_of(customer=customer),
        "recent_reads": (
            list(customer_accesses(viewer=request.user, customer_id=customer.pk)[:RECENT_READS]) if supervises else None
        ),
        **_timeline_context(customer.pk, None),
    }
    return render(request, "records/customer_360.html", context)


@login_required
@require_POST
def identity_add_action(request, customer_id: int):
    customer = access_customer(request.user, customer_id)
    form = IdentityForm(request.POST)
    if not form.is_valid():
        raise _form_error(form)
    identity_add(actor=request.user, customer=customer, **form.cleaned_data)
    return render(
        request,
        "records/partials/customer_identities.html",
        {"customer": customer_360(customer_id=customer.pk), "identity_form": IdentityForm()},
    )


@login_required
@require_POST
def customer_merge_action(request, customer_id: int):
    """Merge the posted ``merged_id`` into this customer, then show the survivor."""
    survivor = access_customer(request.user, customer_id)
    merged = access_customer(request.user, request.POST.get("merged_id", ""))
    customer_merge(actor=request.user, survivor_id=survivor.pk, merged_id=merged.pk)
    url = reverse("records:customer-360", kwargs={"customer_id": survivor.pk})
    if request.htmx:
        response = render(request, "records/partials/merged.html", {"merged": merged, "survivor": survivor})
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _timeline_context(customer_id: int, cursor: str | None) -> dict:
    events = journey_timeline(
        customer_id=customer_id, before=decode_cursor(cursor) if cursor else None, limit=TIMELINE_PAGE + 1
    )
    page = events[:TIMELINE_PAGE]
    more = len(events) > TIMELINE_PAGE
    return {"timeline": page, "next_cursor": encode_cursor(page[-1]) if more else None, "customer_id": customer_id}


@login_required
@require_GET
def customer_timeline_fragment(request, customer_id: int):
    customer = access_customer(request.user, customer_id)
    context = _timeline_context(customer.pk, request.GET.get("cursor"))
    return render(request, "records/partials/timeline_events.html", context)


@login_required
@require_POST
def case_create_page(request, customer_id: int):
    customer = access_customer(request.user, customer_id)
    form = CaseForm(request.POST)
    if not form.is_valid():
        raise _form_error(form)
    case = case_create(actor=request.user, customer=customer, channel="", **form.cleaned_data)
    if request.htmx:
        response = render(request, "records/partials/case_created.html", {"case": case})
        response["HX-Redirect"] = case_url(case)
        return response
    return redirect(case_url(case))


def case_url(case) -> str:
    return reverse("records:case", kwargs={"case_id": case.reference})


def _case_context(request, case) -> dict:
    case = access_case(request.user, case.pk)
    return {
        "case": case,
        "transitions": transitions_from(case.status),
        "notes": case.notes.select_related("author"),
        "interactions": case.interactions.select_related("agent")[:20],
        "note_form": NoteForm(),
        "edit_form": CaseEditForm(
            initial={
                "subject": case.subject,
                "description": case.description,
                "category": case.category,
                "priority": case.priority,
                "team": case.team_id,
                "assignee": case.assignee_id,
            }
        ),
    }


@login_required
@require_GET
def case_page(request, case_id: str):
    case = access_case(request.user, case_id)
    context = _case_context(request, case)
    # The audit panel is for supervisors and administrators; agents do not see it.
    context["audit"] = audit_trail(objs=[case], limit=50) if can_supervise(request.user) else None
    context.update(hold_case=case, legal_holds=legal_holds_of(case=case))
    return render(request, "records/case.html", context)


@login_required
@require_POST
def case_transition_action(request, case_id: str):
    case = access_case(request.user, case_id)
    case_transition(
        actor=request.user, case=case, transition=request.POST.get("transition", ""), note=request.POST.get("note", "")
    )
    return render(request, "records/partials/case_summary.html", _case_context(request, case))


@login_required
@require_POST
def case_update_action(request, case_id: str):
    case = access_case(request.user, case_id)
    form = CaseEditForm(request.POST)
    if not form.is_valid():
        raise _form_error(form)
    case_update(actor=request.user, case=case, **form.cleaned_data)
    return render(request, "records/partials/case_summary.html", _case_context(request, case))


@login_required
@require_POST
def case_note_action(request, case_id: str):
    case = access_case(request.user, case_id)
    form = NoteForm(request.POST)
    if not form.is_valid():
        raise _form_error(form)
    case_add_note(actor=request.user, case=case, **form.cleaned_data)
    return render(request, "records/partials/case_notes.html", _case_context(request, case))
