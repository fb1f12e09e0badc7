"""What every provider's own webhooks share: finding their source, and a replay window on timestamps."""

from __future__ import annotations

from cea.common.errors import NotFound
from engagement.adapters.models import WebhookSource


def provider_source(*, name: str, provider: str) -> WebhookSource:
    """The active source ``name`` that speaks ``provider``'s API; ``NotFound`` (404, ``unknown_source``) if none."""
    source = WebhookSource.objects.select_related("team").filter(name=name, is_active=True, provider=provider).first()
    if source is None:
        raise NotFound(f"No active {provider} source named {name!r}.", code="unknown_source")
    return source
