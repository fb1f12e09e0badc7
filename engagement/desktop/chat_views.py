"""The desk's download of a file a customer sent in a web chat (engagement/webchat/attachments.py)."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest
from django.views.decorators.http import require_GET

from cea.common.errors import NotFound
from engagement.access import access_conversation
from engagement.conversations.models import Attachment
from engagement.desktop.views import desk_view


@desk_view
@require_GET
def chat_attachment_download(request: HttpRequest, conversation_id: int, message_id: int, sha256: str) -> FileResponse:
    """The file ``sha256`` of message ``message_id``, to an agent or supervisor who may see the conversation.

    Always a download (``Content-Disposition: attachment``), with the type read from its content.
    """
    conversation = access_conversation(request.user, conversation_id)
    attachment = Attachment.objects.filter(
        message_id=message_id, message__conversation=conversation, sha256=sha256
    ).first()
    if attachment is None:
        raise NotFound(f"No such file in conversation {conversation.pk}.")
    response = FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.filename)
    response["Content-Type"] = attachment.content_type or "application/octet-stream"
    return response
