"""The customer 360 page's "Start a conversation" panel: email, SMS or WhatsApp, by the customer's consent.

Records' 360 page loads it (``hx-get`` of ``engagement:desk-outreach``), so records stays below
engagement. Only the agents and supervisors of the customer's team see it (anyone else: 404,
``outbound.services.outreach_customer``); posting it starts the conversation through
``outbound_start``, which checks the consent and the address again, and answers with the panel
(the new conversation's link to the desk, or why not with the 400/409 of the refusal).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from cea.common.errors import ApplicationError, ValidationFailed
from engagement.desktop.forms import OutreachForm
from engagement.desktop.views import desk_view
from engagement.outbound.services import (
    WHATSAPP,
    OutreachChannel,
    outbound_start,
    outreach_channels,
    outreach_customer,
    outreach_text_shape,
)
from records.customers.models import ConsentPurpose

MAX_PARAMS = 20


def _chosen(channels: list[OutreachChannel], key: str) -> OutreachChannel | None:
    """The channel asked for if it is available, else the first available one."""
    available = [channel for channel in channels if channel.available]
    return next((c for c in available if c.key == key), available[0] if available else None)


def _params(data: QueryDict) -> list[str]:
    return [value[:200] for value in data.getlist("param")[:MAX_PARAMS]]


PANEL = "engagement/desktop/partials/outreach.html"
PREVIEW = "engagement/desktop/partials/outreach_preview.html"


def _panel(
    request: HttpRequest, customer, data: QueryDict, *, status: int = 200, template_name: str = PANEL, **extra
) -> HttpResponse:
    purpose = data.get("purpose", "")
    if purpose not in ConsentPurpose.values:
        purpose = ConsentPurpose.SERVICE
    channels = outreach_channels(customer=customer, purpose=purpose)
    chosen = _chosen(channels, data.get("channel", ""))
    template = None
    if chosen is not None and chosen.key == WHATSAPP:
        asked = data.get("template", "")
        template = next((t for t in chosen.templates if str(t.id) == asked), chosen.templates[0])
    params = _params(data)
    context = {
        "customer": customer,
        "purposes": ConsentPurpose.choices,
        "purpose": purpose,
        "channels": channels,
        "chosen": chosen,
        "values": data,
        "template": template,
        "param_fields": [
            (index + 1, params[index] if index < len(params) else "")
            for index in range(template.params if template else 0)
        ],
        "preview": template.render(params) if template else "",
        "sms": outreach_text_shape(channel=chosen.key, text=data.get("text", "")) if chosen is not None else None,
        **extra,
    }
    return render(request, template_name, context, status=status)


def _template_source(channels: list[OutreachChannel], template_id: int | None) -> str:
    """The source a WhatsApp template belongs to (the panel picks the template, not the source)."""
    for channel in channels:
        for source in channel.sources:
            if any(t.id == template_id for t in source.templates):
                return source.name
    return ""


@desk_view
@require_http_methods(["GET", "POST"])
def outreach_panel(request: HttpRequest, customer_id: int) -> HttpResponse:
    """``GET``: the panel for the chosen purpose and channel (``purpose``, ``channel`` …). ``POST``:
    start the conversation; the panel then links to it on the desk, or says why not."""
    customer = outreach_customer(user=request.user, customer_id=customer_id)
    if request.method == "GET":
        return _panel(request, customer, request.GET)
    form = OutreachForm(request.POST)
    try:
        if not form.is_valid():
            problems = {name: [str(error) for error in errors] for name, errors in form.errors.items()}
            raise ValidationFailed(_("Please correct the highlighted fields."), fields=problems)
        fields = form.cleaned_data
        through = fields["through"]
        if fields["channel"] == WHATSAPP:
            channels = outreach_channels(customer=customer, purpose=fields["purpose"])
            through = _template_source(channels, fields["template"]) or through
        conversation = outbound_start(
            actor=request.user,
            customer=customer,
            channel=fields["channel"],
            purpose=fields["purpose"],
            source="agent",
            text=fields["text"],
            subject=fields["subject"],
            through=through,
            template=fields["template"],
            params=_params(request.POST),
        )
    except ApplicationError as error:
        return _panel(request, customer, request.POST, error=error, status=error.status_code)
    return _panel(request, customer, QueryDict(f"purpose={fields['purpose']}"), started=conversation)


@desk_view
@require_GET
def outreach_preview(request: HttpRequest, customer_id: int) -> HttpResponse:
    """What the message will be: an SMS's segments, or a WhatsApp template filled in."""
    customer = outreach_customer(user=request.user, customer_id=customer_id)
    return _panel(request, customer, request.GET, template_name=PREVIEW)
