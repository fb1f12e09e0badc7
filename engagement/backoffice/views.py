"""Pages of back-office work and callbacks: the desk's actions beside a conversation, and the
public page where a customer books the callback an out-of-hours answer offered."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from cea.common.errors import ApplicationError, ValidationFailed
from engagement.access import access_conversation, require_desk_user
from engagement.backoffice.out_of_hours import callback_offer_conversation_id
from engagement.backoffice.services import backoffice_complete, callback_offer_book
from engagement.outbound.models import CallbackOutcome
from engagement.outbound.services import callback_outcome


class CompleteForm(forms.Form):
    outcome = forms.CharField(max_length=500)


class CallbackOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(choices=CallbackOutcome.choices)
    note = forms.CharField(max_length=500, required=False)


class CallbackOfferForm(forms.Form):
    phone = forms.CharField(max_length=32, required=False, help_text="Blank: the number we have for you")
    due_at = forms.DateTimeField(required=False, help_text="Blank: as soon as we open")


def _invalid(form) -> ValidationFailed:
    return ValidationFailed(gettext("Please correct the highlighted fields."), fields=form.errors)


@login_required
@require_POST
def complete_action(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """The agent finished the back-office work shown beside the conversation (a case is resolved)."""
    require_desk_user(request.user)
    conversation = access_conversation(request.user, conversation_id)
    form = CompleteForm(request.POST)
    if not form.is_valid():
        raise _invalid(form)
    work = backoffice_complete(actor=request.user, conversation=conversation, outcome=form.cleaned_data["outcome"])
    return render(request, "engagement/desktop/partials/_backoffice_done.html", {"work": work, "callback": None})


@login_required
@require_POST
def callback_outcome_action(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """The agent records how the callback's call went (answered, no answer)."""
    require_desk_user(request.user)
    conversation = access_conversation(request.user, conversation_id)
    form = CallbackOutcomeForm(request.POST)
    if not form.is_valid():
        raise _invalid(form)
    callback = callback_outcome(actor=request.user, conversation=conversation, **form.cleaned_data)
    return render(request, "engagement/desktop/partials/_backoffice_done.html", {"work": None, "callback": callback})


@require_http_methods(["GET", "POST"])
def callback_offer_page(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's page: book the callback an out-of-hours answer offered (no sign-in: the token)."""
    valid = callback_offer_conversation_id(token=token) is not None
    context: dict = {"valid": valid, "form": CallbackOfferForm(), "callback": None, "problem": ""}
    status = 200 if valid else 403
    if valid and request.method == "POST":
        form = CallbackOfferForm(request.POST)
        context["form"] = form
        if form.is_valid():
            try:
                context["callback"] = callback_offer_book(token=token, **form.cleaned_data)
            except ApplicationError as refusal:
                context["problem"] = refusal.message
                status = refusal.status_code
        else:
            status = 400
    return render(request, "engagement/backoffice/callback_offer.html", context, status=status)
