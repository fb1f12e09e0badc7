"""Reading IMAP mailboxes: each new message goes through the email adapter, once.

- Where reading got is the mailbox's ``(uid_validity, last_uid)``: a pass reads the UIDs above
  ``last_uid`` in ascending order and records each one after its message is kept, so a pass cut
  short (a dropped connection, a stopped worker) goes on where it stopped. A message kept and not
  yet recorded is read again by the next pass, and the email adapter keeps it once (its
  ``Message-ID``), so nothing is kept twice.
- When the folder's UIDVALIDITY changes (the server rebuilt it: the old UIDs mean nothing), the
  folder is read again from the start; messages already kept are recognised by their
  ``Message-ID`` and left alone.
- Messages are fetched with ``BODY.PEEK[]`` (reading does not mark them read); once recorded,
  they are marked read, moved or deleted as the mailbox says. A message larger than the email
  adapter's limit is not downloaded; one that is not a readable email is skipped: both are
  logged, counted as refused and not read again.
- A mailbox that cannot be read (server down, login refused, folder missing, credential not
  set) is logged and tried again after a delay that doubles with each failure in a row
  (``CEA_MAILBOX_POLL_SECONDS`` up to ``CEA_MAILBOX_RETRY_MAX_SECONDS``); the console shows the
  last error.
- One reader at a time per mailbox: a Redis lock, so the beat's polling and a ``mailbox_watch``
  process never read the same mailbox at once. A watched mailbox (IDLE) is skipped by the beat.
"""

from __future__ import annotations

import imaplib
import logging
import ssl
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

import redis
from django.conf import settings
from django.db import close_old_connections, connections
from django.db.models import Q
from django.utils import timezone
from imapclient import IMAPClient  # type: ignore[import-untyped]
from imapclient.imapclient import DELETED, SEEN  # type: ignore[import-untyped]

from cea.common.errors import ValidationFailed
from engagement.adapters.credentials import MissingCredential, credential
from engagement.adapters.email import MAX_EMAIL_BYTES, email_ingest
from engagement.adapters.mailboxes.models import AfterFetch, Mailbox, Security

logger = logging.getLogger(__name__)

# What makes a pass fail (and the mailbox be retried later): the network, the server's refusals
# (IMAPClient's errors are imaplib's), a credential that is not configured.
MAILBOX_ERRORS: tuple[type[Exception], ...] = (OSError, imaplib.IMAP4.error, MissingCredential)
# Messages fetched per FETCH command.
FETCH_BATCH = 25
# The reader's lock outlives a stuck reader by this much; each batch renews it.
LOCK_SECONDS = 600


@dataclass
class FetchResult:
    """What one pass over a mailbox did."""

    kept: int = 0  # new messages kept
    duplicates: int = 0  # messages already kept (the same Message-ID), e.g. after a UIDVALIDITY change
    refused: int = 0  # too large or not a readable email: skipped, logged
    uid_validity_changed: bool = False


@lru_cache(maxsize=1)
def _redis() -> redis.Redis:
    return redis.Redis.from_url(str(settings.REDIS_URL))


def _key(mailbox_id: int, what: str) -> str:
    return f"{settings.REDIS_PREFIX}:mailbox:{mailbox_id}:{what}"


def mailbox_connect(mailbox: Mailbox) -> IMAPClient:
    """A client logged in to the mailbox's server. Raises one of ``MAILBOX_ERRORS``."""
    password = credential(mailbox.name, "PASSWORD")
    client = IMAPClient(
        mailbox.host,
        port=mailbox.port,
        ssl=mailbox.security == Security.SSL,
        ssl_context=ssl.create_default_context(),
        timeout=settings.CEA_MAILBOX_TIMEOUT_SECONDS,
    )
    try:
        if mailbox.security == Security.STARTTLS:
            client.starttls(ssl.create_default_context())
        client.login(mailbox.username, password)
    except BaseException:
        _close(client)
        raise
    return client


def _close(client: IMAPClient) -> None:
    try:
        client.logout()
    except MAILBOX_ERRORS:  # the connection is already gone
        with suppress(OSError):
            client.shutdown()


def _batches(uids: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(uids), size):
        yield list(uids[start : start + size])


def mailbox_read(*, client: IMAPClient, mailbox: Mailbox, renew: Callable[[], object] | None = None) -> FetchResult:
    """Keep the messages of the mailbox's folder above its ``last_uid`` (all of them after a
    UIDVALIDITY change), recording each UID as it goes; then mark, move or delete them.

    ``client`` is logged in. Raises one of ``MAILBOX_ERRORS`` when the server fails mid-way (what
    was recorded stays recorded); a database error propagates the same way.
    """
    result = FetchResult()
    if mailbox.after_fetch == AfterFetch.MOVE and not client.folder_exists(mailbox.move_to):
        client.create_folder(mailbox.move_to)
    status = client.select_folder(mailbox.folder)
    validity = int(status[b"UIDVALIDITY"])
    if mailbox.uid_validity != validity:
        if mailbox.uid_validity is not None:
            result.uid_validity_changed = True
            logger.warning(
                "Mailbox %s: UIDVALIDITY changed from %s to %s; reading the folder again from the start",
                mailbox.name,
                mailbox.uid_validity,
                validity,
            )
        mailbox.uid_validity, mailbox.last_uid = validity, 0
        mailbox.save(update_fields=["uid_validity", "last_uid", "updated_at"])
    # "n:*" always matches the folder's last message, even below n: hence the filter.
    uids = sorted(uid for uid in client.search(["UID", f"{mailbox.last_uid + 1}:*"]) if uid > mailbox.last_uid)
    for batch in _batches(uids, FETCH_BATCH):
        if renew is not None:
            renew()
        sizes = client.fetch(batch, ["RFC822.SIZE"])
        small = [uid for uid in batch if uid in sizes and sizes[uid].get(b"RFC822.SIZE", 0) <= MAX_EMAIL_BYTES]
        bodies = client.fetch(small, ["BODY.PEEK[]"]) if small else {}
        done = []
        for uid in batch:
            if uid not in sizes:  # expunged by someone else meanwhile
                continue
            if uid in bodies:
                _keep(mailbox, uid, bodies[uid].get(b"BODY[]", b""), result)
            else:
                result.refused += 1
                logger.warning(
                    "Mailbox %s: message UID %s is %s bytes, over the limit of %s; skipped",
                    mailbox.name,
                    uid,
                    sizes[uid].get(b"RFC822.SIZE"),
                    MAX_EMAIL_BYTES,
                )
            mailbox.last_uid = uid
            mailbox.save(update_fields=["last_uid", "updated_at"])
            done.append(uid)
        if done:
            _after_fetch(client, mailbox, done)
    return result


def _keep(mailbox: Mailbox, uid: int, raw: bytes, result: FetchResult) -> None:
    try:
        ingested = email_ingest(raw=raw, queue=mailbox.queue, received_by=f"imap:{mailbox.name}", team=mailbox.team)
    except ValidationFailed as refusal:
        result.refused += 1
        logger.warning("Mailbox %s: message UID %s is not a readable email (%s); skipped", mailbox.name, uid, refusal)
        return
    if ingested.created:
        result.kept += 1
    else:
        result.duplicates += 1


def _after_fetch(client: IMAPClient, mailbox: Mailbox, uids: list[int]) -> None:
    """Mark the recorded messages read, or move or delete them, as the mailbox says."""
    if mailbox.after_fetch == AfterFetch.SEEN:
        client.add_flags(uids, [SEEN])
    elif mailbox.after_fetch == AfterFetch.MOVE and client.has_capability("MOVE"):
        client.move(uids, mailbox.move_to)
    else:  # delete, or move without the MOVE extension: copy, then delete
        if mailbox.after_fetch == AfterFetch.MOVE:
            client.copy(uids, mailbox.move_to)
        client.add_flags(uids, [DELETED])
        if client.has_capability("UIDPLUS"):
            client.uid_expunge(uids)
        else:
            client.expunge()


def mailbox_succeeded(mailbox: Mailbox) -> None:
    mailbox.failures, mailbox.retry_at, mailbox.last_error = 0, None, ""
    mailbox.last_fetch_at = timezone.now()
    mailbox.save(update_fields=["failures", "retry_at", "last_error", "last_fetch_at", "updated_at"])


def mailbox_failed(mailbox: Mailbox, error: Exception) -> float:
    """Record a failed attempt and when to try again; returns the delay in seconds."""
    mailbox.failures += 1
    delay = float(
        min(
            settings.CEA_MAILBOX_POLL_SECONDS * 2 ** min(mailbox.failures - 1, 16),
            settings.CEA_MAILBOX_RETRY_MAX_SECONDS,
        )
    )
    mailbox.retry_at = timezone.now() + timedelta(seconds=delay)
    mailbox.last_error = f"{type(error).__name__}: {error}"[:2000]
    mailbox.save(update_fields=["failures", "retry_at", "last_error", "updated_at"])
    logger.warning(
        "Mailbox %s cannot be read (failure %d in a row; next attempt in %.0f s): %s",
        mailbox.name,
        mailbox.failures,
        delay,
        mailbox.last_error,
    )
    return delay


@contextmanager
def _reading(mailbox_id: int) -> Iterator[Callable[[], object] | None]:
    """The mailbox's reader lock: yields how to renew it, or ``None`` when another reader holds it."""
    lock = _redis().lock(_key(mailbox_id, "reader"), timeout=LOCK_SECONDS)
    if not lock.acquire(blocking=False):
        yield None
        return
    try:
        yield lock.reacquire
    finally:
        with suppress(redis.exceptions.LockError):  # it expired: another reader may hold it now
            lock.release()


def mailbox_fetch(*, mailbox_id: int) -> FetchResult | None:
    """One pass over an active mailbox: connect, read what is new, log out.

    Returns ``None`` when the mailbox is gone or inactive, another reader holds it, or the pass
    failed (recorded on the mailbox, logged, retried after its delay).
    """
    mailbox = Mailbox.objects.select_related("team").filter(pk=mailbox_id, is_active=True).first()
    if mailbox is None:
        return None
    with _reading(mailbox.pk) as renew:
        if renew is None:
            return None
        try:
            client = mailbox_connect(mailbox)
            try:
                result = mailbox_read(client=client, mailbox=mailbox, renew=renew)
            finally:
                _close(client)
        except MAILBOX_ERRORS as error:
            mailbox_failed(mailbox, error)
            return None
        mailbox_succeeded(mailbox)
    logger.info(
        "Mailbox %s: %d kept, %d already kept, %d refused", mailbox.name, result.kept, result.duplicates, result.refused
    )
    return result


def mailboxes_due() -> list[int]:
    """Active mailboxes to poll now: their retry time (if any) has come and no watcher IDLEs on them."""
    now = timezone.now()
    candidates = Mailbox.objects.filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now), is_active=True)
    ids = list(candidates.order_by("pk").values_list("pk", flat=True))
    if not ids:
        return []
    watched = _redis().mget([_key(mailbox_id, "watched") for mailbox_id in ids])
    return [mailbox_id for mailbox_id, flag in zip(ids, watched, strict=True) if flag is None]


def _mark_watched(mailbox_id: int, seconds: float) -> None:
    _redis().set(_key(mailbox_id, "watched"), b"1", ex=max(1, int(seconds)))


def mailbox_watch(*, mailbox_id: int, stop: threading.Event, idle_seconds: float | None = None) -> None:
    """Read the mailbox until ``stop`` is set: a pass, then IDLE until the server announces a
    change (or ``idle_seconds`` pass: ``CEA_MAILBOX_IDLE_SECONDS``), then another pass; a server
    without IDLE is polled every ``CEA_MAILBOX_POLL_SECONDS``. A failure is recorded and logged,
    and the watcher reconnects after the mailbox's retry delay. Meant for its own thread or process
    (``manage.py mailbox_watch``): it closes its thread's database connections when it returns.
    """
    idle_for = float(idle_seconds if idle_seconds is not None else settings.CEA_MAILBOX_IDLE_SECONDS)
    try:
        _watch(mailbox_id, stop, idle_for)
    finally:
        connections.close_all()  # this thread's connections


def _watch(mailbox_id: int, stop: threading.Event, idle_for: float) -> None:
    while not stop.is_set():
        close_old_connections()
        mailbox = Mailbox.objects.select_related("team").filter(pk=mailbox_id, is_active=True).first()
        if mailbox is None:
            logger.warning("Mailbox %s is gone or inactive; the watcher stops", mailbox_id)
            return
        _mark_watched(mailbox.pk, idle_for + 2 * settings.CEA_MAILBOX_POLL_SECONDS)
        try:
            client = mailbox_connect(mailbox)
        except MAILBOX_ERRORS as error:
            stop.wait(mailbox_failed(mailbox, error))
            continue
        try:
            _watch_connected(client, mailbox, stop, idle_for)
        except MAILBOX_ERRORS as error:
            stop.wait(mailbox_failed(mailbox, error))
        except Exception:  # the database gone, a bug: the watcher must outlive it, and say so
            logger.exception("Mailbox %s: the watcher failed; reconnecting after a pause", mailbox.name)
            stop.wait(settings.CEA_MAILBOX_POLL_SECONDS)
        finally:
            _close(client)


def _watch_connected(client: IMAPClient, mailbox: Mailbox, stop: threading.Event, idle_for: float) -> None:
    can_idle = client.has_capability("IDLE")
    while not stop.is_set():
        close_old_connections()
        _mark_watched(mailbox.pk, idle_for + 2 * settings.CEA_MAILBOX_POLL_SECONDS)
        with _reading(mailbox.pk) as renew:
            if renew is not None:
                result = mailbox_read(client=client, mailbox=mailbox, renew=renew)
                mailbox_succeeded(mailbox)
                if result.kept or result.refused:
                    logger.info("Mailbox %s: %d kept, %d refused", mailbox.name, result.kept, result.refused)
        if can_idle:
            _idle(client, stop, idle_for)
        else:
            stop.wait(settings.CEA_MAILBOX_POLL_SECONDS)


def _idle(client: IMAPClient, stop: threading.Event, idle_for: float) -> None:
    """IDLE until the server says something (a new message: EXISTS), ``idle_for`` seconds pass or
    ``stop`` is set; checked each second so a stop is quick."""
    client.idle()
    try:
        waited = 0.0
        while not stop.is_set() and waited < idle_for:
            if client.idle_check(timeout=1):
                return
            waited += 1
    finally:
        client.idle_done()
