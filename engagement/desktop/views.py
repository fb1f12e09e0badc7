"""The agent desktop at /desk/: the workspace page and the fragments htmx and desktop.js put into it.

Only signed-in agents and supervisors use the desk (others: 403, anonymous: the sign-in page).
Every conversation, customer and case is fetched through ``engagement.access`` and
``records.access``, as the REST API and the websocket do; the services check the rest (only the
handling agent or a supervisor wraps up or transfers, the case state machine …).

Forms answer in place: a refusal is rendered where the form shows its errors (4xx, which the
page's htmx config swaps in). Wrap-up and transfer answer 204 with an ``HX-Trigger`` of
``desk:closed``, on which the page removes the conversation's tab and panel.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from cea.common.errors import ApplicationError, ValidationFailed
from engagement.access import access_conversation, require_desk_user
from engagement.conversations.models import Conversation
from engagement.conversations.replies import conversation_reply
from engagement.desktop.forms import (
    CallbackForm,
    CaseTransitionForm,
    OtpCheckForm,
    OtpStartForm,
    OutboundForm,
    ReplyForm,
    TransferForm,
    WrapUpForm,
)
from engagement.desktop.selectors import (
    CARD_ACTIONS,
    conversation_panel,
    customer_panel,
    desk_conversations,
    desk_offers,
    desk_presence,
    open_cases,
    presence_choices,
    transfer_agents,
    transfer_queues,
    wrap_up_codes,
)
from engagement.idv.services import verification_otp_check, verification_otp_start, verification_raise_for_failure
from engagement.orchestration import conversation_transfer, conversation_wrap_up
from engagement.outbound.services import callback_request, outbound_options, outbound_start, outreach_sources
from engagement.recommendations.selectors import (
    access_recommendation,
    access_recommendations_customer,
    recommendations_open_for,
)
from engagement.recommendations.services import recommendation_decide
from engagement.routing.models import AgentProfile, Queue
from engagement.routing.presence import agent_profile_for
from engagement.routing.selectors import transfer_target_agent
from integration.aggregation.aggregate import customer_aggregate
from integration.outbox.selectors import outbox_for_customer
from records.access import access_case, access_customer, customers_visible_to
from records.audit.access import customer_access_record
from records.cases.services import case_create, case_transition
from records.customers.selectors import customer_search
from records.forms import CaseForm

SEARCH_LIMIT = 20
WRITE_BACKS_SHOWN = 10
SHORTCUTS = [
    ("Alt+A", gettext_lazy("Accept the oldest offer")),
    ("Alt+W", gettext_lazy("Open the wrap-up of the current conversation")),
    ("Alt+1 … Alt+9", gettext_lazy("Go to the first … ninth tab")),
    ("Alt+← / Alt+→", gettext_lazy("Previous / next tab")),
    (gettext_lazy("Ctrl+Enter"), gettext_lazy("Send the reply being written")),
    (
        gettext_lazy("/ + shortcut"),
        gettext_lazy("In a reply: insert a canned response (↑/↓, Enter or Tab; Esc closes)"),
    ),
    ("?", gettext_lazy("Show or hide this help")),
]


def desk_view(view: Callable) -> Callable:
    """Signed in (else the sign-in page), and an agent or a supervisor (else 403)."""

    @wraps(view)
    def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        require_desk_user(request.user)
        return view(request, *args, **kwargs)

    return login_required(checked)


def _form_error(form) -> ValidationFailed:
    return ValidationFailed(gettext("Please correct the highlighted fields."), fields=form.errors)


def _choices(user) -> dict:
    """The choices every conversation panel's forms offer."""
    return {
        "wrap_up_codes": wrap_up_codes(),
        "queues": transfer_queues(),
        "agents": transfer_agents(user=user),
        "case_form": CaseForm(auto_id=False),
    }


def _closed(request: HttpRequest, conversation: Conversation, reason: str) -> HttpResponse:
    """The conversation left the agent's desk: htmx removes its tab and panel; a plain form goes back to the desk."""
    if not request.htmx:
        return redirect("engagement:desktop")
    response = HttpResponse(status=204)
    response["HX-Trigger"] = json.dumps({"desk:closed": {"conversation": conversation.pk, "reason": reason}})
    return response


# --- The workspace ------------------------------------------------------------------------------


def _record_panel_reads(request: HttpRequest, panels: list[dict], *, detail: str) -> None:
    """The access log's entry for the 360 panels shown (one statement for all of them)."""
    shown = [panel["customer"].pk for panel in panels if panel.get("customer") is not None]
    customer_access_record(actor=request.user, customer_ids=shown, surface="desk_panel", detail=detail)


@desk_view
@require_GET
def desktop_page(request: HttpRequest) -> HttpResponse:
    """The desk: presence, pending offers, a tab per conversation on the desk, search, shortcuts."""
    profile = AgentProfile.objects.select_related("reason").get(pk=agent_profile_for(request.user).pk)
    panels = [
        conversation_panel(user=request.user, conversation=conversation)
        for conversation in desk_conversations(user=request.user)
    ]
    _record_panel_reads(request, panels, detail="desk")
    context = {
        "presence": desk_presence(profile=profile),
        "presence_choices": presence_choices(profile=profile),
        "offers": desk_offers(user=request.user),
        "panels": panels,
        "heartbeat_seconds": settings.CEA_DESKTOP_HEARTBEAT_SECONDS,
        "shortcuts": SHORTCUTS,
        **_choices(request.user),
    }
    return render(request, "engagement/desktop/desktop.html", context)


@desk_view
@require_GET
def conversation_fragment(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """A conversation's tab and panel, for the page to add (an accepted offer, a reconnect)."""
    conversation = access_conversation(request.user, conversation_id)
    panel = conversation_panel(user=request.user, conversation=conversation)
    _record_panel_reads(request, [panel], detail=f"conversation {conversation.pk}")
    context = {"panel": panel, **_choices(request.user)}
    return render(request, "engagement/desktop/partials/conversation.html", context)


@desk_view
@require_GET
def customer_fragment(request: HttpRequest, customer_id: int) -> HttpResponse:
    """A customer's tab and 360 panel without a conversation (opened from the search)."""
    customer = access_customer(request.user, customer_id)
    panel = {"conversation": None, **customer_panel(user=request.user, customer_id=customer.pk)}
    _record_panel_reads(request, [panel], detail="opened from search")
    return render(
        request, "engagement/desktop/partials/customer_tab.html", {"panel": panel, "case_form": CaseForm(auto_id=False)}
    )


@desk_view
@require_GET
def customer_holdings_fragment(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The 360 panel's holdings: each back-end's part now, or why it is missing, and the customer's
    latest write-backs (changes the CEA sent to the back-ends) with their status. Loaded by htmx."""
    customer = access_customer(request.user, customer_id)
    customer_access_record(actor=request.user, customer_ids=[customer.pk], surface="lookup", detail="desk holdings")
    context = {
        "customer": customer,
        "aggregate": customer_aggregate(customer),
        "write_backs": list(outbox_for_customer(customer=customer, limit=WRITE_BACKS_SHOWN)),
    }
    return render(request, "engagement/desktop/partials/holdings.html", context)


@desk_view
@require_GET
def customer_search_fragment(request: HttpRequest) -> HttpResponse:
    text = request.GET.get("q", "").strip()
    customers = []
    if text:
        found = customer_search(customers=customers_visible_to(request.user).select_related("team"), text=text)
        customers = list(found.order_by("family_name", "given_name", "id")[: SEARCH_LIMIT + 1])
    context = {"q": text, "customers": customers[:SEARCH_LIMIT], "more": len(customers) > SEARCH_LIMIT}
    return render(request, "engagement/desktop/partials/search_results.html", context)


# --- Working a conversation ---------------------------------------------------------------------


@desk_view
@require_POST
def reply_action(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Send a reply on the conversation's channel; answers with the message as the panel shows it."""
    conversation = access_conversation(request.user, conversation_id)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        raise _form_error(form)
    message, _ = conversation_reply(
        actor=request.user,
        conversation=conversation,
        body=form.cleaned_data["body"],
        client_message_id=form.cleaned_data["client_message_id"],
        attachments=form.cleaned_data["attachments"],
    )
    return render(request, "engagement/desktop/partials/message.html", {"message": message})


@desk_view
@require_POST
def wrap_up_action(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """End (if still open) and wrap up the conversation with a code, disposition and notes."""
    conversation = access_conversation(request.user, conversation_id)
    form = WrapUpForm(request.POST)
    if not form.is_valid():
        raise _form_error(form)
    conversation_wrap_up(actor=request.user, conversation=conversation, **form.cleaned_data)
    return _closed(request, conversation, "wrapped_up")


def _transfer_queue(value: str) -> Queue | None:
    if not value:
        return None
    queue = Queue.objects.filter(pk=int(value)).first() if value.isascii() and value.isdigit() else None
    queue = queue or Queue.objects.filter(name=value).first()
    if queue is None:
        raise ValidationFailed(gettext("No such queue."), fields={"to_queue": gettext("Unknown queue.")})
    return queue


def _transfer_agent(value: str):
    if not value:
        return None
    agent = transfer_target_agent(reference=value)
    if agent is None:
        raise ValidationFailed(gettext("No such agent."), fields={"to_agent": gettext("Unknown agent.")})
    return agent


@desk_view
@require_POST
def transfer_action(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Hand the conversation to a queue or a named agent, with a note for them."""
    conversation = access_conversation(request.user, conversation_id)
    form = TransferForm(request.POST)
    if not form.is_valid():
        raise _form_error(form)
    conversation_transfer(
        actor=request.user,
        conversation=conversation,
        to_queue=_transfer_queue(form.cleaned_data["to_queue"]),
        to_agent=_transfer_agent(form.cleaned_data["to_agent"]),
        note=form.cleaned_data["note"],
    )
    return _closed(request, conversation, "transferred")


# --- Verification -------------------------------------------------------------------------------


def _verification(request: HttpRequest, conversation_id: int, *, status: int = 200, **extra) -> HttpResponse:
    conversation = access_conversation(request.user, conversation_id)  # as it is now (perhaps verified)
    return render(
        request,
        "engagement/desktop/partials/verification.html",
        {"panel": {"conversation": conversation}, **extra},
        status=status,
    )


@desk_view
@require_POST
def verification_start_action(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Send the customer a one-time passcode to their registered phone or email."""
    conversation = access_conversation(request.user, conversation_id)
    form = OtpStartForm(request.POST)
    try:
        if not form.is_valid():
            raise _form_error(form)
        code_request = verification_otp_start(
            actor=request.user, conversation=conversation, method=form.cleaned_data["method"]
        )
    except ApplicationError as error:
        return _verification(request, conversation.pk, error=error, status=error.status_code)
    return _verification(request, conversation.pk, code_request=code_request)


@desk_view
@require_POST
def verification_check_action(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Check the code the customer reads out; success makes the conversation verified."""
    conversation = access_conversation(request.user, conversation_id)
    form = OtpCheckForm(request.POST)
    try:
        if not form.is_valid():
            raise _form_error(form)
        # The check commits a failure before it is raised, so that failures count.
        verification_raise_for_failure(
            verification=verification_otp_check(
                actor=request.user, conversation=conversation, code=form.cleaned_data["code"]
            )
        )
    except ApplicationError as error:
        return _verification(request, conversation.pk, error=error, awaiting_code=True, status=error.status_code)
    return _verification(request, conversation.pk)


# --- Cases --------------------------------------------------------------------------------------


def _cases(request: HttpRequest, customer, *, status: int = 200, **extra) -> HttpResponse:
    conversation_id = request.POST.get("conversation", "")
    panel = {
        "customer": customer,
        "cases": open_cases(user=request.user, customer=customer),
        "conversation": {"pk": int(conversation_id)}
        if conversation_id.isascii() and conversation_id.isdigit()
        else None,
    }
    context = {"panel": panel, "case_form": CaseForm(auto_id=False), **extra}
    return render(request, "engagement/desktop/partials/cases.html", context, status=status)


@desk_view
@require_POST
def case_create_action(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Open a case for the customer from the desk; answers with the customer's open cases."""
    customer = access_customer(request.user, customer_id)
    form = CaseForm(request.POST, auto_id=False)
    try:
        if not form.is_valid():
            raise _form_error(form)
        conversation_id = request.POST.get("conversation", "")
        channel = access_conversation(request.user, conversation_id).channel if conversation_id else ""
        case = case_create(actor=request.user, customer=customer, channel=channel, **form.cleaned_data)
    except ApplicationError as error:
        return _cases(request, customer, error=error, case_form=form, status=error.status_code)
    return _cases(request, customer, notice=gettext("Case %(reference)s opened.") % {"reference": case.reference})


@desk_view
@require_POST
def case_transition_action(request: HttpRequest, case_id: str) -> HttpResponse:
    """Move one of the customer's cases on (open, pend, resolve …) with an optional note."""
    case = access_case(request.user, case_id)
    form = CaseTransitionForm(request.POST)
    try:
        if not form.is_valid():
            raise _form_error(form)
        case = case_transition(actor=request.user, case=case, **form.cleaned_data)
    except ApplicationError as error:
        return _cases(request, case.customer, error=error, status=error.status_code)
    return _cases(
        request,
        case.customer,
        notice=gettext("Case %(reference)s: %(status)s.")
        % {"reference": case.reference, "status": case.get_status_display().lower()},
    )


# --- Next best action and outbound ----------------------------------------------------------------

DECISIONS = {"accept": True, "dismiss": False}


def _next_best_action(request: HttpRequest, customer, *, status: int = 200, **extra) -> HttpResponse:
    context = {
        "customer": customer,
        "recommendations": recommendations_open_for(customer_id=customer.pk, limit=CARD_ACTIONS),
        **extra,
    }
    return render(request, "engagement/desktop/partials/next_best_action.html", context, status=status)


@desk_view
@require_GET
def next_best_action_fragment(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The customer's Next best action card, read again when their actions change (a ws push)."""
    return _next_best_action(request, access_recommendations_customer(request.user, customer_id))


@desk_view
@require_POST
def recommendation_decide_action(request: HttpRequest, recommendation_id: int, decision: str) -> HttpResponse:
    """Accept or dismiss a recommended action; answers with the card as it is now (or with why not)."""
    action = access_recommendation(request.user, recommendation_id)
    customer = access_recommendations_customer(request.user, action.customer_id)
    try:
        if decision not in DECISIONS:
            raise ValidationFailed(gettext("Accept or dismiss."), fields={"decision": "accept or dismiss"})
        action = recommendation_decide(
            actor=request.user,
            recommendation_id=action.pk,
            accepted=DECISIONS[decision],
            note=request.POST.get("note", "")[:2000],
        )
    except ApplicationError as error:
        return _next_best_action(request, customer, error=error, status=error.status_code)
    return _next_best_action(
        request,
        customer,
        decided=action.pk,
        notice=gettext("%(status)s: %(title)s.") % {"status": action.get_status_display(), "title": action.title},
    )


def _outbound(request: HttpRequest, customer, *, status: int = 200, **extra) -> HttpResponse:
    context = {
        "customer": customer,
        "outbound_options": outbound_options(customer=customer),
        "sms_sources": outreach_sources(customer=customer, channel="sms"),
        "callback_queues": transfer_queues(),
        **extra,
    }
    return render(request, "engagement/desktop/partials/outbound.html", context, status=status)


@desk_view
@require_POST
def outbound_action(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Start a conversation with the customer on a channel they consented to; it goes on the agent's desk."""
    customer = access_customer(request.user, customer_id)
    form = OutboundForm(request.POST)
    try:
        if not form.is_valid():
            raise _form_error(form)
        channel, purpose = form.cleaned_data["option"].split(":")
        conversation = outbound_start(
            actor=request.user,
            customer=customer,
            channel=channel,
            purpose=purpose,
            text=form.cleaned_data["text"],
            subject=form.cleaned_data["subject"],
            through=form.cleaned_data["through"] if channel == "sms" else "",
            source="agent",
        )
    except ApplicationError as error:
        return _outbound(request, customer, error=error, status=error.status_code)
    response = _outbound(
        request, customer, notice=gettext("Sent: %(conversation)s is on your desk.") % {"conversation": conversation}
    )
    response["HX-Trigger"] = json.dumps({"desk:opened": {"conversation": conversation.pk}})
    return response


@desk_view
@require_POST
def callback_action(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Book a callback of the customer through a queue, now or at a time: the router offers it when due."""
    customer = access_customer(request.user, customer_id)
    form = CallbackForm(request.POST)
    try:
        if not form.is_valid():
            raise _form_error(form)
        callback = callback_request(actor=request.user, source="agent", customer=customer, **form.cleaned_data)
    except ApplicationError as error:
        return _outbound(request, customer, error=error, status=error.status_code)
    due = timezone.localtime(callback.due_at).strftime("%Y-%m-%d %H:%M")
    return _outbound(
        request,
        customer,
        notice=gettext("Callback booked through %(queue)s for %(due)s.") % {"queue": callback.queue, "due": due},
    )
