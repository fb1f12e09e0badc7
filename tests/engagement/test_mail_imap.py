"""Email in over IMAP: mailboxes read from a real IMAP server on loopback (pymap), each message kept once."""

from __future__ import annotations

import io
import threading
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from engagement.access import conversations_visible_to
from engagement.adapters.mailboxes import imap
from engagement.adapters.mailboxes.imap import mailbox_fetch, mailbox_watch, mailboxes_due
from engagement.adapters.mailboxes.models import AfterFetch, Mailbox, Security
from engagement.conversations.models import Conversation, Message
from engagement.tasks import fetch_due_mailboxes
from tests.engagement.adapter_support import isolate_redis, make_customer
from tests.engagement.mail_support import (
    FIRST_EMAIL,
    INVOICE_PDF,
    REPLY_WITH_ATTACHMENT,
    STATEMENT_CSV,
    ImapServer,
    free_port,
    imap_server_fixture,
    plain_email,
    self_signed_certificate,
)

SEEN = b"\\Seen"


@pytest.fixture(scope="module")
def imap_server() -> ImapServer:
    yield from imap_server_fixture()


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    monkeypatch.setenv("CEA_SOURCE_SUPPORT_INBOX_PASSWORD", "demopass")
    yield from isolate_redis(settings)


def make_mailbox(server: ImapServer, folder: str, **fields) -> Mailbox:
    values = {
        "name": "support-inbox",
        "host": "127.0.0.1",
        "port": server.port,
        "security": Security.NONE,
        "username": "demouser",
        "folder": folder,
        **fields,
    }
    return Mailbox.objects.create(**values)


@pytest.fixture
def alice(team_a):
    return make_customer(team_a, given_name="Alice", family_name="Smith", email="alice.smith@example.com")


@pytest.mark.django_db
def test_a_thread_with_attachments_is_read_from_the_mailbox_into_one_conversation(imap_server, alice):
    # Given Alice's email with a PDF and her answer to it with a CSV, in the mailbox's folder
    folder = imap_server.new_folder(FIRST_EMAIL, REPLY_WITH_ATTACHMENT)
    mailbox = make_mailbox(imap_server, folder)
    # When the mailbox is read
    result = mailbox_fetch(mailbox_id=mailbox.pk)
    # Then both are kept, the answer threaded onto the first one's conversation, with Alice identified
    assert (result.kept, result.duplicates, result.refused) == (2, 0, 0)
    conversation = Conversation.objects.get()
    assert (conversation.channel, conversation.customer, conversation.subject) == (
        "email",
        alice,
        "Invoice INV-2025-0042 is wrong",
    )
    first, reply = conversation.messages.order_by("id")
    assert (first.external_id, reply.external_id) == (
        "CAF7x1q=abc123@mail.example.com",
        "CAF7x1q=reply777@mail.example.com",
    )
    assert reply.body == "Here is my bank statement showing both payments."
    assert reply.payload["in_reply_to"] == ["CAF7x1q=abc123@mail.example.com"]
    assert (first.payload["received_by"], reply.payload["received_by"]) == ("imap:support-inbox", "imap:support-inbox")
    pdf, csv = first.attachments.get(), reply.attachments.get()
    assert (pdf.filename, csv.filename) == ("invoice-INV-2025-0042.pdf", "statement.csv")
    with pdf.file.open("rb") as stored_pdf, csv.file.open("rb") as stored_csv:
        assert (stored_pdf.read(), stored_csv.read()) == (INVOICE_PDF, STATEMENT_CSV)
    # And the mailbox records how far it read; the server marks both messages read
    mailbox.refresh_from_db()
    flags = imap_server.uids_and_flags(folder)
    assert mailbox.last_uid == max(flags)
    assert mailbox.uid_validity is not None
    assert all(SEEN in message_flags for message_flags in flags.values())
    assert (mailbox.failures, mailbox.last_error, mailbox.retry_at) == (0, "", None)
    assert mailbox.last_fetch_at is not None


@pytest.mark.django_db
def test_a_second_fetch_reads_nothing_twice_and_then_only_what_is_new(imap_server):
    # Given a mailbox read once
    folder = imap_server.new_folder(plain_email("one@example.org"), plain_email("two@example.org"))
    mailbox = make_mailbox(imap_server, folder)
    assert mailbox_fetch(mailbox_id=mailbox.pk).kept == 2
    # When it is read again, then after a third message arrives
    again = mailbox_fetch(mailbox_id=mailbox.pk)
    imap_server.append(folder, plain_email("three@example.org"))
    third = mailbox_fetch(mailbox_id=mailbox.pk)
    # Then the second pass read nothing, the third only the new message
    assert (again.kept, again.duplicates, again.refused) == (0, 0, 0)
    assert (third.kept, third.duplicates) == (1, 0)
    assert sorted(Message.objects.values_list("external_id", flat=True)) == [
        "one@example.org",
        "three@example.org",
        "two@example.org",
    ]


@pytest.mark.django_db
def test_mail_from_an_unknown_sender_belongs_to_the_mailboxs_team(imap_server, team_a, agent, agent_b):
    # Given team A's mailbox, and mail from someone CEA does not know
    folder = imap_server.new_folder(plain_email("stranger@example.org", sender="stranger@example.net"))
    mailbox = make_mailbox(imap_server, folder, team=team_a)
    # When it is read
    assert mailbox_fetch(mailbox_id=mailbox.pk).kept == 1
    # Then the conversation is team A's: its agents find it, team B's do not
    conversation = Message.objects.get(external_id="stranger@example.org").conversation
    assert conversation.customer is None and conversation.team == team_a
    assert conversations_visible_to(agent).filter(pk=conversation.pk).exists()
    assert not conversations_visible_to(agent_b).filter(pk=conversation.pk).exists()


@pytest.mark.django_db
def test_a_changed_uidvalidity_reads_the_folder_again_and_keeps_nothing_twice(imap_server):
    # Given a mailbox read once
    folder = imap_server.new_folder(plain_email("one@example.org"), plain_email("two@example.org"))
    mailbox = make_mailbox(imap_server, folder)
    mailbox_fetch(mailbox_id=mailbox.pk)
    mailbox.refresh_from_db()
    old_validity = mailbox.uid_validity
    # When the server rebuilds the folder (new UIDVALIDITY) with the same messages and a new one
    with imap_server.client() as client:
        client.delete_folder(folder)
        client.create_folder(folder)
    for message_id in ("one@example.org", "two@example.org", "three@example.org"):
        imap_server.append(folder, plain_email(message_id))
    result = mailbox_fetch(mailbox_id=mailbox.pk)
    # Then the whole folder is read again; only the new message is kept
    mailbox.refresh_from_db()
    assert result.uid_validity_changed is True
    assert (result.kept, result.duplicates) == (1, 2)
    assert mailbox.uid_validity != old_validity
    assert Message.objects.count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("after_fetch", "left_in_folder", "in_done"),
    [(AfterFetch.MOVE, 0, 2), (AfterFetch.DELETE, 0, 0), (AfterFetch.SEEN, 2, 0)],
)
def test_kept_messages_are_moved_deleted_or_marked_read_as_configured(
    imap_server, after_fetch, left_in_folder, in_done
):
    # Given a mailbox configured to move, delete or mark read what it keeps
    folder = imap_server.new_folder(plain_email("one@example.org"), plain_email("two@example.org"))
    done = f"{folder}-done"
    mailbox = make_mailbox(imap_server, folder, after_fetch=after_fetch, move_to=done)
    # When it is read
    result = mailbox_fetch(mailbox_id=mailbox.pk)
    # Then both are kept, and the folder holds what the setting leaves there
    assert result.kept == 2
    assert len(imap_server.uids_and_flags(folder)) == left_in_folder
    with imap_server.client() as client:
        done_exists = client.folder_exists(done)
    assert (len(imap_server.uids_and_flags(done)) if done_exists else 0) == in_done


@pytest.mark.django_db
def test_a_message_that_is_not_an_email_is_skipped_once_and_the_rest_are_kept(imap_server):
    # Given a folder whose first message has no sender
    folder = imap_server.new_folder(b"Subject: no sender\r\n\r\nhello\r\n", plain_email("good@example.org"))
    mailbox = make_mailbox(imap_server, folder)
    # When it is read twice
    first = mailbox_fetch(mailbox_id=mailbox.pk)
    second = mailbox_fetch(mailbox_id=mailbox.pk)
    # Then the unreadable one is refused once, the good one kept, nothing read again
    assert (first.kept, first.refused) == (1, 1)
    assert (second.kept, second.refused) == (0, 0)
    assert list(Message.objects.values_list("external_id", flat=True)) == ["good@example.org"]


@pytest.mark.django_db
def test_a_message_over_the_size_limit_is_not_downloaded(imap_server, monkeypatch):
    # Given a limit smaller than the first message
    big = plain_email("big@example.org") + b"x" * 4000 + b"\r\n"
    folder = imap_server.new_folder(big, plain_email("small@example.org"))
    mailbox = make_mailbox(imap_server, folder)
    monkeypatch.setattr(imap, "MAX_EMAIL_BYTES", 1000)
    # When the mailbox is read
    result = mailbox_fetch(mailbox_id=mailbox.pk)
    # Then the big one is refused, the small one kept, and both are behind the mailbox's mark
    mailbox.refresh_from_db()
    assert (result.kept, result.refused) == (1, 1)
    assert list(Message.objects.values_list("external_id", flat=True)) == ["small@example.org"]
    assert mailbox.last_uid == max(imap_server.uids_and_flags(folder))


@pytest.mark.django_db
def test_a_mailbox_that_is_down_is_retried_later_with_a_growing_delay_and_then_read(imap_server, settings):
    # Given a mailbox whose server does not answer (nothing listens on its port)
    folder = imap_server.new_folder(plain_email("waiting@example.org"))
    mailbox = make_mailbox(imap_server, folder, port=free_port())
    # When it is fetched twice
    assert mailbox_fetch(mailbox_id=mailbox.pk) is None
    mailbox.refresh_from_db()
    first_retry, first_error = mailbox.retry_at, mailbox.last_error
    assert mailbox_fetch(mailbox_id=mailbox.pk) is None
    mailbox.refresh_from_db()
    # Then each failure is recorded, the delay doubles, and the beat does not poll it before its time
    assert mailbox.failures == 2
    assert "ConnectionRefusedError" in first_error
    assert mailbox.retry_at - first_retry >= timedelta(seconds=settings.CEA_MAILBOX_POLL_SECONDS)
    assert mailboxes_due() == []
    assert Message.objects.count() == 0
    # When the server is back and the retry time has come
    Mailbox.objects.filter(pk=mailbox.pk).update(port=imap_server.port, retry_at=timezone.now() - timedelta(seconds=1))
    assert mailboxes_due() == [mailbox.pk]
    result = mailbox_fetch(mailbox_id=mailbox.pk)
    # Then nothing was lost and the failures are cleared
    mailbox.refresh_from_db()
    assert result.kept == 1
    assert (mailbox.failures, mailbox.retry_at, mailbox.last_error) == (0, None, "")


@pytest.mark.django_db
def test_a_refused_login_and_a_missing_password_are_failures_that_say_why(imap_server, monkeypatch):
    # Given a wrong password, and a second mailbox with no password configured
    folder = imap_server.new_folder()
    wrong = make_mailbox(imap_server, folder)
    monkeypatch.setenv("CEA_SOURCE_SUPPORT_INBOX_PASSWORD", "not-the-password")
    unset = make_mailbox(imap_server, folder, name="sales-inbox")
    # When both are fetched
    results = (mailbox_fetch(mailbox_id=wrong.pk), mailbox_fetch(mailbox_id=unset.pk))
    # Then both failed and say why
    wrong.refresh_from_db()
    unset.refresh_from_db()
    assert results == (None, None)
    assert wrong.last_error.startswith("LoginError")
    assert "CEA_SOURCE_SALES_INBOX_PASSWORD" in unset.last_error
    assert (wrong.failures, unset.failures) == (1, 1)


@pytest.mark.django_db
def test_the_beats_poll_reads_due_mailboxes_and_skips_inactive_and_busy_ones(imap_server, eager_tasks):
    # Given three mailboxes: one due, one inactive, one another reader holds
    due = make_mailbox(imap_server, imap_server.new_folder(plain_email("due@example.org")))
    make_mailbox(imap_server, imap_server.new_folder(plain_email("off@example.org")), name="off", is_active=False)
    busy = make_mailbox(imap_server, imap_server.new_folder(plain_email("busy@example.org")), name="busy")
    lock = imap._redis().lock(imap._key(busy.pk, "reader"), timeout=60)
    assert lock.acquire(blocking=False)
    # When the beat's task runs
    try:
        polled = fetch_due_mailboxes.delay().get()
    finally:
        lock.release()
    # Then the due mailbox was read; the busy one was left to its reader; the inactive one not polled
    assert polled == 2
    assert list(Message.objects.values_list("external_id", flat=True)) == ["due@example.org"]
    due.refresh_from_db()
    assert due.last_fetch_at is not None


@pytest.mark.django_db
def test_a_mailboxs_queue_is_where_its_conversations_wait(imap_server):
    # Given a mailbox that routes to the Billing email queue
    mailbox = make_mailbox(imap_server, imap_server.new_folder(plain_email("bill@example.org")), queue="Billing email")
    # When it is read
    mailbox_fetch(mailbox_id=mailbox.pk)
    # Then its conversation waits in that queue
    assert Conversation.objects.get().queue == "Billing email"


@pytest.mark.django_db(transaction=True)
def test_a_watched_mailbox_idles_and_keeps_new_mail_as_it_arrives(imap_server):
    # Given a mailbox watched by its own thread (the server supports IDLE)
    folder = imap_server.new_folder(plain_email("before@example.org"))
    mailbox = make_mailbox(imap_server, folder)
    stop = threading.Event()
    # (Mail that lands between a pass and the IDLE command is announced to no one: the watcher reads
    # again after idle_seconds whatever happens, 10 s here, CEA_MAILBOX_IDLE_SECONDS in production.)
    watcher = threading.Thread(
        target=mailbox_watch, kwargs={"mailbox_id": mailbox.pk, "stop": stop, "idle_seconds": 10}
    )
    watcher.start()
    try:
        assert _eventually(lambda: Message.objects.filter(external_id="before@example.org").exists())
        # When a message arrives while it idles
        imap_server.append(folder, plain_email("after@example.org"))
        # Then it is kept, and the beat leaves the watched mailbox alone
        assert _eventually(lambda: Message.objects.filter(external_id="after@example.org").exists())
        assert mailboxes_due() == []
    finally:
        stop.set()
        watcher.join(timeout=30)
    assert not watcher.is_alive()
    assert Message.objects.count() == 2


def _eventually(condition, *, within: float = 120.0) -> bool:
    """Whether ``condition()`` becomes true within ``within`` seconds (a wait, not a timing assertion)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_a_mailbox_moving_to_its_own_folder_or_to_no_folder_is_refused():
    # Given / When / Then
    with pytest.raises(Exception, match="Name the folder"):
        Mailbox(folder="INBOX", after_fetch=AfterFetch.MOVE, move_to="").clean()
    with pytest.raises(Exception, match="other than the one read"):
        Mailbox(folder="INBOX", after_fetch=AfterFetch.MOVE, move_to="INBOX").clean()


@pytest.mark.django_db
def test_the_watch_command_reads_each_mailbox_once_with_once(imap_server):
    # Given a mailbox with one message
    make_mailbox(imap_server, imap_server.new_folder(plain_email("once@example.org")))
    output = io.StringIO()
    # When the command reads it once
    call_command("mailbox_watch", "--once", stdout=output)
    # Then it says what it did
    assert output.getvalue() == "support-inbox: 1 kept, 0 already kept, 0 refused\n"
    assert Message.objects.get().external_id == "once@example.org"


@pytest.mark.django_db
def test_an_admin_has_a_failed_mailbox_read_now_and_a_supervisor_cannot(
    imap_server, client, admin_user, supervisor, team_a, eager_tasks, django_capture_on_commit_callbacks
):
    # Given team A's mailbox waiting to be retried after a failure
    mailbox = make_mailbox(imap_server, imap_server.new_folder(plain_email("now@example.org")), team=team_a)
    Mailbox.objects.filter(pk=mailbox.pk).update(failures=3, retry_at=timezone.now() + timedelta(hours=1))
    action = {"action": "read_now", "_selected_action": [str(mailbox.pk)]}
    # When team A's supervisor, then an admin, ask for it to be read now
    client.force_login(supervisor)
    refused = client.post("/admin/engagement/mailbox/", action)
    assert Message.objects.count() == 0
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post("/admin/engagement/mailbox/", action)
    # Then only the admin's request reads it, and its failures are cleared
    mailbox.refresh_from_db()
    assert (refused.status_code, done.status_code) == (200, 302)
    assert list(Message.objects.values_list("external_id", flat=True)) == ["now@example.org"]
    assert (mailbox.failures, mailbox.retry_at) == (0, None)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return self_signed_certificate(tmp_path_factory.mktemp("imap-tls"))


@pytest.fixture(scope="module")
def starttls_server(certificate) -> ImapServer:
    yield from imap_server_fixture(tls=certificate)


@pytest.mark.django_db
def test_a_starttls_mailbox_is_read_over_tls_and_an_untrusted_certificate_is_a_failure(
    starttls_server, certificate, monkeypatch
):
    # Given a STARTTLS mailbox whose server's certificate is not trusted
    folder = starttls_server.new_folder(plain_email("tls@example.org"))
    mailbox = make_mailbox(starttls_server, folder, security=Security.STARTTLS)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0].parent / "no-such-ca.pem"))
    # When it is read, then read again once the certificate is trusted
    untrusted = mailbox_fetch(mailbox_id=mailbox.pk)
    mailbox.refresh_from_db()
    error = mailbox.last_error
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    Mailbox.objects.filter(pk=mailbox.pk).update(retry_at=None)
    trusted = mailbox_fetch(mailbox_id=mailbox.pk)
    # Then the first attempt failed on the certificate and the second read the message
    assert untrusted is None
    assert error.startswith("SSLCertVerificationError")
    assert trusted.kept == 1
    assert Message.objects.get().external_id == "tls@example.org"
