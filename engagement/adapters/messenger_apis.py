"""Messenger's webhook (engagement/adapters/messenger.py): Meta's subscription handshake and a Page's events.

The source is found first (404), then the POST's ``X-Hub-Signature-256`` is checked over the raw
body (401) before the body is parsed; a body that is not a Page webhook at all is a 400 naming the
field, with nothing kept. An event that cannot be read is logged and skipped, the others kept, and
Meta is answered ``200 EVENT_RECEIVED``.
"""

from __future__ import annotations

import json

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

from cea.common.errors import ValidationFailed
from engagement.adapters.messenger import messenger_events, messenger_events_record
from engagement.adapters.meta import meta_signature_check
from engagement.adapters.meta_apis import meta_subscription_get
from engagement.adapters.models import Provider
from engagement.adapters.provider_apis import REFUSALS, ProviderWebhookView
from engagement.adapters.webhooks_providers import provider_source

HUB_SIGNATURE = OpenApiParameter(
    "X-Hub-Signature-256",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="sha256= and the hex HMAC-SHA256 of the raw body, keyed with the app secret",
)


class MessengerWebhookApi(ProviderWebhookView):
    """A Facebook Page's Messenger webhook: the subscription handshake (GET) and its events (POST)."""

    parser_classes: list = []  # the raw body is read, signature first

    get = meta_subscription_get(provider=Provider.MESSENGER, operation_id="engagement_messenger_subscribe")

    @extend_schema(
        operation_id="engagement_messenger_receive",
        parameters=[HUB_SIGNATURE],
        request={"application/json": OpenApiTypes.OBJECT},
        responses={(200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="EVENT_RECEIVED"), **REFUSALS},
    )
    def post(self, request, source_name: str):
        source = provider_source(name=source_name, provider=Provider.MESSENGER)
        body = request.body
        meta_signature_check(source, body=body, signature=request.headers.get("X-Hub-Signature-256", ""))
        try:
            data = json.loads(body)
        except ValueError:
            raise ValidationFailed("The body is not JSON.", fields={"body": "JSON."}) from None
        read = messenger_events(data, page_id=source.sender_id)
        messenger_events_record(source=source, events=read.events)
        return HttpResponse("EVENT_RECEIVED", content_type="text/plain")
