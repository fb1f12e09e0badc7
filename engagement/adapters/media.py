"""Files that leave with a reply: the signed, expiring URL a provider fetches each from.

``outbound_media(message)`` lists a reply's attachments as ``OutboundMedia`` (issue 16's attachments
helper builds the signed URL and its view; until then a reply carries none).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engagement.adapters.outbox import OutboundMedia
    from engagement.conversations.models import Message


def outbound_media(message: Message) -> tuple[OutboundMedia, ...]:
    """The files attached to ``message``, each with a URL a provider can fetch it from."""
    return ()
