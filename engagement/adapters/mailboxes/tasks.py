"""Celery tasks of the IMAP mailboxes: the beat's poll, and one pass over one mailbox."""

from __future__ import annotations

from celery import shared_task

from cea.common.tasks import database_retry
from engagement.adapters.mailboxes.imap import mailbox_fetch, mailboxes_due

FETCH_MAILBOX_TASK = "engagement.mailboxes.fetch"


@shared_task(name=FETCH_MAILBOX_TASK, **database_retry(backoff_max=60))
def fetch_mailbox(mailbox_id: int) -> int | None:
    """One pass over the mailbox; the number of messages kept (``None``: skipped or failed, which
    the mailbox records and the beat retries after its delay)."""
    result = mailbox_fetch(mailbox_id=mailbox_id)
    return None if result is None else result.kept


@shared_task(name="engagement.mailboxes.fetch_due", acks_late=True)
def fetch_due_mailboxes() -> int:
    """The beat's poll: a pass over each mailbox that is due (sent one task per mailbox)."""
    due = mailboxes_due()
    for mailbox_id in due:
        fetch_mailbox.delay(mailbox_id)
    return len(due)
