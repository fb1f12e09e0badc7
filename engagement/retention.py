"""Engagement's part of retention (``records.privacy.retention``), registered in ``EngagementConfig.ready``.

Only conversations that have ended are touched, and none of a customer or a case on legal hold.
Messages are blanked (the conversation and its message count stay for the figures); attachment
files are deleted with their rows once the batch has committed; the context change log is deleted.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q, QuerySet

from cea.common.channels import Channel
from engagement.context.models import ContextChange
from engagement.conversations.models import Attachment, Message
from records.privacy.models import RetentionKind
from records.privacy.retention import (
    RECORDING_LINK,
    RECORDING_LINK_REMOVED,
    Holds,
    in_batches,
    register_retention_handler,
)

LINK_KEYS = ("recording_url", "transcript_url")


def _ended_before(messages: QuerySet, *, prefix: str, cutoff: dt.datetime, holds: Holds) -> QuerySet:
    """``messages`` (or rows under them, through ``prefix``) of conversations ended before ``cutoff``, none held."""
    conversation = f"{prefix}conversation__"
    return messages.filter(**{f"{conversation}ended_at__lt": cutoff}).exclude(
        Q(**{f"{conversation}customer_id__in": holds.customers})
        | Q(**{f"{conversation}interaction__case_id__in": holds.cases})
    )


def messages_blank(*, cutoff: dt.datetime, holds: Holds, batch_size: int) -> int:
    """Blank the text and payload of messages of conversations that ended before ``cutoff``."""
    candidates = _ended_before(Message.objects.all(), prefix="", cutoff=cutoff, holds=holds).exclude(
        body="", payload={}
    )

    def batch() -> int:
        ids = list(candidates.order_by("id").values_list("id", flat=True)[:batch_size])
        return Message.objects.filter(id__in=ids).update(body="", payload={})

    return in_batches(batch, batch_size=batch_size)


def message_recording_links_remove(*, cutoff: dt.datetime, holds: Holds, batch_size: int) -> int:
    """Cut call recording and transcript links out of voice messages of conversations ended before ``cutoff``."""
    candidates = _ended_before(
        Message.objects.filter(channel=Channel.VOICE), prefix="", cutoff=cutoff, holds=holds
    ).filter(payload__has_any_keys=list(LINK_KEYS))

    def batch() -> int:
        messages = list(candidates.order_by("id").select_for_update(skip_locked=True, of=("self",))[:batch_size])
        for message in messages:
            message.payload = {key: value for key, value in message.payload.items() if key not in LINK_KEYS}
            message.body = RECORDING_LINK.sub(RECORDING_LINK_REMOVED, message.body)
        Message.objects.bulk_update(messages, ["payload", "body"])
        return len(messages)

    return in_batches(batch, batch_size=batch_size)


def attachments_delete(*, cutoff: dt.datetime, holds: Holds, batch_size: int) -> int:
    """Delete the attachments (rows and stored files) of conversations that ended before ``cutoff``."""
    candidates = _ended_before(Attachment.objects.all(), prefix="message__", cutoff=cutoff, holds=holds)
    storage = Attachment._meta.get_field("file").storage

    def batch() -> int:
        rows = list(candidates.order_by("id").values_list("id", "file")[:batch_size])
        Attachment.objects.filter(id__in=[pk for pk, _ in rows]).delete()
        names = [name for _, name in rows if name]
        # The files go once the rows are gone for good: a rolled-back batch keeps both.
        transaction.on_commit(lambda: _delete_files(storage, names))
        return len(rows)

    return in_batches(batch, batch_size=batch_size)


def _delete_files(storage, names: list[str]) -> None:
    for name in names:
        storage.delete(name)


def context_log_delete(*, cutoff: dt.datetime, holds: Holds, batch_size: int) -> int:
    """Delete the context change log's entries written before ``cutoff``."""
    candidates = ContextChange.objects.filter(changed_at__lt=cutoff).exclude(customer_id__in=holds.customers)

    def batch() -> int:
        ids = list(candidates.order_by("id").values_list("id", flat=True)[:batch_size])
        deleted, _ = ContextChange.objects.filter(id__in=ids).delete()
        return deleted

    return in_batches(batch, batch_size=batch_size)


def register() -> None:
    register_retention_handler(RetentionKind.TRANSCRIPTS, "engagement.messages", messages_blank)
    register_retention_handler(RetentionKind.RECORDING_LINKS, "engagement.messages", message_recording_links_remove)
    register_retention_handler(RetentionKind.ATTACHMENTS, "engagement.attachments", attachments_delete)
    register_retention_handler(RetentionKind.CONTEXT_LOG, "engagement.context_log", context_log_delete)
