"""Files that leave with a reply: the signed, expiring URL a provider fetches each from, and its view.

``outbound_media(message)`` lists a reply's attachments as ``OutboundMedia``, each with an absolute
URL (``CEA_PUBLIC_URL`` + ``/api/v1/engagement/media/<token>/``) whose token is signed and expires
after ``CEA_MEDIA_URL_SECONDS`` (``engagement.conversations.files``). ``AttachmentMediaApi`` serves
the file to whoever holds a valid token, without a login (Twilio fetches ``MediaUrl`` so, and the
chat widget's download links are these): 410 for an expired token, 403 for a forged one, 404 for a
file that is gone or was never sent. It never lists anything.

Which channels may carry files, how many and how big, is one table: ``media_rules`` (re-exported
here from ``engagement.conversations.files``, where ``conversation_reply`` checks it before queuing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions
from rest_framework.views import APIView

from engagement.conversations.files import MediaRules, attachment_by_token, attachment_media_url, media_rules

if TYPE_CHECKING:
    from engagement.adapters.outbox import OutboundMedia
    from engagement.conversations.models import Message

__all__ = ["AttachmentMediaApi", "MediaRules", "media_rules", "outbound_media"]


def outbound_media(message: Message) -> tuple[OutboundMedia, ...]:
    """The files attached to ``message``, each with a signed URL a provider can fetch it from."""
    from engagement.adapters.outbox import OutboundMedia  # the outbox imports this module

    return tuple(
        OutboundMedia(
            url=attachment_media_url(attachment),
            filename=attachment.filename,
            content_type=attachment.content_type,
            size=attachment.size,
        )
        for attachment in message.attachments.order_by("id")
    )


class AttachmentMediaApi(APIView):
    """A sent file, for whoever holds its signed link: no login (the token is the permission).

    Always a download, with its type read from its content and ``nosniff``.
    """

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="engagement_attachment_media",
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            403: OpenApiResponse(description="A forged or malformed token"),
            404: OpenApiResponse(description="No such sent file (gone, or never sent)"),
            410: OpenApiResponse(description="The link is older than CEA_MEDIA_URL_SECONDS"),
        },
    )
    def get(self, request, token: str):
        attachment = attachment_by_token(token)
        response = FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.filename)
        response["Content-Type"] = attachment.content_type or "application/octet-stream"
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response["Cache-Control"] = "private, max-age=300"
        response["Referrer-Policy"] = "no-referrer"
        return response
