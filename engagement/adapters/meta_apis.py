"""The webhook handshake Meta's two APIs share (WhatsApp Cloud API, Messenger): one GET per source.

Meta GETs the callback URL with ``hub.mode=subscribe``, ``hub.verify_token`` and ``hub.challenge``
when the webhook is configured; CEA echoes the challenge as plain text when the token is the
source's (``meta.meta_subscription_challenge``), else 403 ``bad_verify_token``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

from cea.common.errors import PermissionDenied
from engagement.adapters.meta import meta_subscription_challenge
from engagement.adapters.provider_apis import REFUSALS
from engagement.adapters.webhooks_providers import provider_source


def meta_subscription_get(*, provider: str, operation_id: str) -> Callable:
    """The ``get`` of a Meta source's webhook view: the subscription handshake."""

    @extend_schema(
        operation_id=operation_id,
        parameters=[
            OpenApiParameter("hub.mode", OpenApiTypes.STR, OpenApiParameter.QUERY, description="subscribe"),
            OpenApiParameter("hub.verify_token", OpenApiTypes.STR, OpenApiParameter.QUERY),
            OpenApiParameter("hub.challenge", OpenApiTypes.STR, OpenApiParameter.QUERY),
        ],
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="The challenge, echoed"),
            403: OpenApiResponse(description="Wrong mode, or the verify token is not the source's"),
            404: REFUSALS[404],
            409: REFUSALS[409],
        },
    )
    def get(self, request, source_name: str):
        source = provider_source(name=source_name, provider=provider)
        challenge = meta_subscription_challenge(source, request.GET)
        if challenge is None:
            raise PermissionDenied("The verify token is not this source's.", code="bad_verify_token")
        return HttpResponse(challenge, content_type="text/plain")

    return get
