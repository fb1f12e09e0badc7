"""Email in over SMTP: real SMTP sessions (smtplib) with CEA's aiosmtpd server on loopback."""

from __future__ import annotations

import smtplib

import pytest

from engagement.adapters.mailboxes.smtp import Recipients, smtp_controller
from engagement.conversations.models import Conversation, Message
from tests.engagement.adapter_support import isolate_redis, make_customer
from tests.engagement.mail_support import (
    FIRST_EMAIL,
    INVOICE_PDF,
    REPLY_WITH_ATTACHMENT,
    STATEMENT_CSV,
    free_port,
    plain_email,
)

# The server keeps messages from its own thread (its own database connection): these tests commit.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.CEA_SMTP_RECIPIENTS = ["support@cea.example", "@help.cea.example"]
    yield from isolate_redis(settings)


@pytest.fixture
def smtp_port(settings):
    port = free_port()
    controller = smtp_controller(host="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def send(port: int, raw: bytes, recipients: list[str], sender: str = "alice.smith@example.com") -> dict:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as session:
        return session.sendmail(sender, recipients, raw)


def test_a_thread_with_attachments_sent_over_smtp_becomes_one_conversation(smtp_port, team_a):
    # Given Alice is a customer
    alice = make_customer(team_a, given_name="Alice", family_name="Smith", email="alice.smith@example.com")
    # When her email and her answer to it (In-Reply-To, References) arrive over SMTP
    refused = [send(smtp_port, FIRST_EMAIL, ["support@cea.example"])]
    refused.append(send(smtp_port, REPLY_WITH_ATTACHMENT, ["Support@CEA.example"]))
    # Then both were accepted and kept on one conversation, with their attachments
    assert refused == [{}, {}]
    conversation = Conversation.objects.get()
    assert (conversation.channel, conversation.customer_id) == ("email", alice.pk)
    first, reply = conversation.messages.order_by("id")
    assert (first.external_id, reply.external_id) == (
        "CAF7x1q=abc123@mail.example.com",
        "CAF7x1q=reply777@mail.example.com",
    )
    assert reply.payload["received_by"] == "smtp"
    with first.attachments.get().file.open("rb") as pdf, reply.attachments.get().file.open("rb") as csv:
        assert (pdf.read(), csv.read()) == (INVOICE_PDF, STATEMENT_CSV)


def test_the_same_message_delivered_twice_is_kept_once(smtp_port):
    # When a sending server delivers the same message twice (it missed our 250)
    send(smtp_port, plain_email("twice@example.org"), ["support@cea.example"])
    send(smtp_port, plain_email("twice@example.org"), ["support@cea.example"])
    # Then it is one message
    assert list(Message.objects.values_list("external_id", flat=True)) == ["twice@example.org"]


def test_an_unknown_recipient_is_refused_with_550_and_nothing_is_kept(smtp_port):
    # When mail is sent to an address CEA does not accept
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(smtp_port, plain_email("lost@example.org"), ["someone@elsewhere.example"])
    # Then the recipient is refused with a permanent code, and nothing is kept
    code, reason = refused.value.recipients["someone@elsewhere.example"]
    assert code == 550
    assert b"5.1.1" in reason
    assert Message.objects.count() == 0


def test_a_domain_entry_accepts_its_addresses_and_a_mixed_envelope_delivers_to_the_known_one(smtp_port):
    # When one message is sent to an address of an accepted domain and to an unknown one
    refused = send(smtp_port, plain_email("mixed@example.org"), ["billing@help.cea.example", "x@elsewhere.example"])
    # Then only the unknown one is refused, and the message is kept once
    assert list(refused) == ["x@elsewhere.example"]
    assert refused["x@elsewhere.example"][0] == 550
    assert Message.objects.count() == 1


def test_a_message_over_the_size_limit_is_refused_with_552(settings):
    # Given a server whose limit is 2,000 bytes
    settings.CEA_SMTP_MAX_BYTES = 2000
    port = free_port()
    controller = smtp_controller(host="127.0.0.1", port=port)
    controller.start()
    try:
        # When a larger message is sent
        with pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPDataError)) as refused:
            send(port, plain_email("big@example.org") + b"x" * 5000 + b"\r\n", ["support@cea.example"])
    finally:
        controller.stop()
    # Then it is refused as too large, and nothing is kept
    assert refused.value.smtp_code == 552
    assert Message.objects.count() == 0


def test_a_message_that_is_not_an_email_is_refused_with_554(smtp_port):
    # When a message without a From header is sent
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(smtp_port, b"Subject: who am I\r\n\r\nhello\r\n", ["support@cea.example"])
    # Then it is refused for good, with the reason
    assert refused.value.smtp_code == 554
    assert b"no sender address" in refused.value.smtp_error
    assert Message.objects.count() == 0


def test_recipients_are_compared_without_case_and_domains_only_whole():
    # Given
    recipients = Recipients(["Support@CEA.example", "@Help.CEA.example", " "])
    # When / Then
    assert recipients.accepts("support@cea.example")
    assert recipients.accepts("anyone@help.cea.example")
    assert not recipients.accepts("anyone@evilhelp.cea.example.com")
    assert not recipients.accepts("help.cea.example")
    assert not Recipients([])
