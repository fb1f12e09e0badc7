"""Identification and verification (ID&V) through its services, against real PostgreSQL and Redis.

Identification through records (one, several, none); one-time passcodes by SMS and email
(hashed, expiring, single-use, sent by a task that alone knows the code); knowledge questions;
lockout per customer and its cool-off; the same behaviour for unknown contacts (no
enumeration); the level on the conversation, in its context, its audit trail and the journey.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from cea.common.errors import Conflict, ValidationFailed
from engagement.context.services import context_read
from engagement.conversations.models import Conversation
from engagement.conversations.services import conversation_start
from engagement.idv import attempts, senders
from engagement.idv.models import VerificationChallenge, VerificationLock
from engagement.idv.senders import SmsSendError
from engagement.idv.services import (
    CODE_REQUESTED_MESSAGES,
    CodeRequest,
    IdentifyOutcome,
    TooManyCodeRequests,
    VerificationLocked,
    conversation_identify,
    verification_code_send,
    verification_knowledge_check,
    verification_lock_clear,
    verification_otp_check,
    verification_otp_start,
)
from engagement.idv.tasks import send_verification_code
from records.audit.selectors import audit_trail
from records.customers.models import Customer
from records.customers.services import customer_create
from records.identities.models import Identity
from records.identities.services import identity_add, identity_remove, identity_verify
from records.journey.models import JourneyEvent
from tests.records.db_locks import wait_for_lock_waiters

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("idv_env")]

PHONE = "+447911123456"
EMAIL = "alice@example.com"
BIRTH = dt.date(1980, 2, 29)


def _conversation(customer=None, **fields) -> Conversation:
    conversation, _ = conversation_start(channel="chat", customer=customer, **fields)
    return conversation


def _sent_code() -> str:
    [sms] = senders.outbox
    return re.search(r"\b(\d{6})\b", sms.text).group(1)


def _start_and_read_code(conversation, django_capture_on_commit_callbacks, method="sms") -> str:
    with django_capture_on_commit_callbacks(execute=True):
        verification_otp_start(actor=None, conversation=conversation, method=method)
    if method == "sms":
        return _sent_code()
    return re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def _kinds(customer) -> list[str]:
    """The customer's ID&V journey events, oldest first."""
    events = JourneyEvent.objects.filter(customer=customer, kind__startswith="idv.").order_by("id")
    return list(events.values_list("kind", flat=True))


def _last_idv_event(customer) -> JourneyEvent:
    return JourneyEvent.objects.filter(customer=customer, kind__startswith="idv.").order_by("-id").first()


# --- Identification -----------------------------------------------------------------------------


def test_one_matching_customer_identifies_the_conversation(alice, django_capture_on_commit_callbacks):
    # Given
    conversation = _conversation()
    # When
    with django_capture_on_commit_callbacks(execute=True):
        identification = conversation_identify(
            actor=None, conversation=conversation, kind="phone", value="+44 7911 123456"
        )
    # Then
    assert identification.outcome == IdentifyOutcome.IDENTIFIED
    assert identification.customer == alice
    conversation.refresh_from_db()
    assert (conversation.customer, conversation.verification_level, conversation.team) == (
        alice,
        "identified",
        alice.team,
    )
    assert context_read(scope="conversation", context_id=conversation.pk).values["verification_level"] == "identified"
    assert _kinds(alice)[-1] == "idv.identified"


def test_several_matching_customers_are_reported_and_none_is_chosen(team_a):
    # Given: one customer's account number is another's device id
    first = customer_create(actor=None, given_name="Ann", family_name="One", team=team_a)
    second = customer_create(actor=None, given_name="Bob", family_name="Two", team=team_a)
    identity_add(actor=None, customer=first, kind="account", value="ACC-778899")
    identity_add(actor=None, customer=second, kind="device", value="ACC778899")
    conversation = _conversation()
    # When
    identification = conversation_identify(actor=None, conversation=conversation, kind="any", value="ACC778899")
    # Then
    assert identification.outcome == IdentifyOutcome.AMBIGUOUS
    assert identification.customer is None
    assert sorted((m.kind, m.customer.pk) for m in identification.matches) == sorted(
        [("account", first.pk), ("device", second.pk)]
    )
    conversation.refresh_from_db()
    assert (conversation.customer, conversation.verification_level) == (None, "anonymous")
    assert not JourneyEvent.objects.filter(kind__startswith="idv.").exists()


def test_no_matching_customer_leaves_the_conversation_as_it_was(alice):
    # Given
    conversation = _conversation()
    # When
    identification = conversation_identify(
        actor=None, conversation=conversation, kind="email", value="nobody@example.com"
    )
    # Then
    assert (identification.outcome, identification.customer, identification.matches) == (
        IdentifyOutcome.NOT_IDENTIFIED,
        None,
        [],
    )
    conversation.refresh_from_db()
    assert (conversation.customer, conversation.verification_level) == (None, "anonymous")


def test_a_merged_customer_is_identified_as_the_survivor(alice, team_a):
    # Given
    from records.customers.services import customer_merge

    old = customer_create(actor=None, given_name="Alice", family_name="Smyth", team=team_a, email="old@example.com")
    customer_merge(actor=None, survivor_id=alice.pk, merged_id=old.pk)
    conversation = _conversation()
    # When
    identification = conversation_identify(actor=None, conversation=conversation, kind="email", value="old@example.com")
    # Then
    assert identification.customer == alice


def test_a_malformed_identifier_is_refused_with_the_field(alice):
    with pytest.raises(ValidationFailed) as refused:
        conversation_identify(actor=None, conversation=_conversation(), kind="phone", value="12")
    assert refused.value.fields == {"value": ["'12' is not a valid phone number."]}


def test_an_ended_conversation_cannot_be_identified(alice):
    # Given
    conversation = _conversation(alice)
    Conversation.objects.filter(pk=conversation.pk).update(status="ended")
    # When / Then
    with pytest.raises(Conflict) as refused:
        conversation_identify(actor=None, conversation=conversation, kind="phone", value=PHONE)
    assert refused.value.code == "conversation_ended"


# --- One-time passcodes -------------------------------------------------------------------------


def test_a_code_by_sms_goes_to_the_registered_phone_and_only_its_hash_is_kept(
    alice, django_capture_on_commit_callbacks
):
    # Given
    conversation = _conversation(alice)
    # When
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        answer = verification_otp_start(actor=None, conversation=conversation, method="sms")
    # Then
    assert answer == CodeRequest(method="sms", message=CODE_REQUESTED_MESSAGES["sms"], expires_in_seconds=300)
    assert len(callbacks) >= 1
    [sms] = senders.outbox
    code = _sent_code()
    assert sms.to == PHONE
    assert (
        sms.text
        == f"Your verification code is {code}. It expires in 5 minutes. If you did not ask for it, ignore this message."
    )
    [challenge] = VerificationChallenge.objects.filter(conversation=conversation)
    assert (challenge.customer, challenge.method, challenge.destination, challenge.used_at, challenge.attempts) == (
        alice,
        "sms",
        "•••••••••••56",
        None,
        0,
    )
    assert challenge.code_hash.startswith("scrypt$16384$8$1$")
    assert code not in challenge.code_hash
    assert dt.timedelta(seconds=299) < challenge.expires_at - challenge.created_at <= dt.timedelta(seconds=301)
    assert _kinds(alice)[-1] == "idv.code_sent"


def test_the_right_code_verifies_the_conversation_everywhere(alice, agent, django_capture_on_commit_callbacks):
    # Given
    conversation = _conversation(alice)
    code = _start_and_read_code(conversation, django_capture_on_commit_callbacks)
    # When
    with django_capture_on_commit_callbacks(execute=True):
        verification = verification_otp_check(actor=None, conversation=conversation, code=code)
    # Then: on the conversation
    assert (verification.verified, verification.method, verification.locked_until) == (True, "otp_sms", None)
    conversation.refresh_from_db()
    assert conversation.verification_level == "verified"
    assert conversation.verified_at is not None
    # in its context
    context = context_read(scope="conversation", context_id=conversation.pk)
    assert (context.values["verification_level"], context.values["customer_id"]) == ("verified", alice.pk)
    # in the audit trail
    [change] = [
        e for e in audit_trail(objs=[conversation]) if e.label == "update" and "verification_level" in e.changes
    ]
    assert change.changes["verification_level"] == ["identified", "verified"]
    # and in the journey
    event = _last_idv_event(alice)
    assert (event.kind, event.summary, event.payload) == (
        "idv.verified",
        "Verified on Web chat by otp_sms",
        {"conversation_id": conversation.pk, "method": "otp_sms"},
    )
    assert VerificationChallenge.objects.get(conversation=conversation).used_at is not None


def test_a_code_by_email_goes_to_the_registered_email(alice, django_capture_on_commit_callbacks):
    # Given
    conversation = _conversation(alice)
    # When
    code = _start_and_read_code(conversation, django_capture_on_commit_callbacks, method="email")
    verification = verification_otp_check(actor=None, conversation=conversation, code=code)
    # Then
    [message] = mail.outbox
    assert (message.to, message.subject) == ([EMAIL], "Your verification code")
    assert senders.outbox == []
    assert VerificationChallenge.objects.get(conversation=conversation).destination == "a•••@example.com"
    assert (verification.verified, verification.method) == (True, "otp_email")


def test_a_wrong_code_fails_and_counts(alice, django_capture_on_commit_callbacks):
    # Given
    conversation = _conversation(alice)
    code = _start_and_read_code(conversation, django_capture_on_commit_callbacks)
    # When
    verification = verification_otp_check(actor=None, conversation=conversation, code=_wrong(code))
    # Then
    assert (verification.verified, verification.locked_until) == (False, None)
    conversation.refresh_from_db()
    assert conversation.verification_level == "identified"
    lock = VerificationLock.objects.get(customer=alice)
    assert (lock.failures, lock.locked_until) == (1, None)
    assert VerificationChallenge.objects.get(conversation=conversation).attempts == 1
    event = _last_idv_event(alice)
    assert (event.kind, event.summary) == ("idv.failed", "Verification failed (otp), 1 of 3")
    assert code not in str(event.payload)


def test_an_expired_code_no_longer_works(alice, django_capture_on_commit_callbacks):
    # Given: the code's life has passed
    conversation = _conversation(alice)
    code = _start_and_read_code(conversation, django_capture_on_commit_callbacks)
    VerificationChallenge.objects.filter(conversation=conversation).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    # When
    verification = verification_otp_check(actor=None, conversation=conversation, code=code)
    # Then
    assert verification.verified is False
    assert VerificationLock.objects.get(customer=alice).failures == 1


def test_a_code_works_once(alice, django_capture_on_commit_callbacks):
    # Given
    conversation = _conversation(alice)
    code = _start_and_read_code(conversation, django_capture_on_commit_callbacks)
    assert verification_otp_check(actor=None, conversation=conversation, code=code).verified is True
    # When
    again = verification_otp_check(actor=None, conversation=conversation, code=code)
    # Then
    assert again.verified is False
    assert VerificationLock.objects.get(customer=alice).failures == 1


def test_a_new_code_replaces_the_earlier_one(alice, django_capture_on_commit_callbacks):
    # Given
    conversation = _conversation(alice)
    _start_and_read_code(conversation, django_capture_on_commit_callbacks)
    senders.outbox.clear()
    second = _start_and_read_code(conversation, django_capture_on_commit_callbacks)
    # When
    verification = verification_otp_check(actor=None, conversation=conversation, code=second)
    # Then
    older, newer = VerificationChallenge.objects.filter(conversation=conversation).order_by("id")
    assert older.expires_at <= newer.created_at  # replaced as the new one was made
    assert (verification.verified, newer.used_at is not None, older.used_at) == (True, True, None)


def test_too_many_code_requests_in_a_conversation_are_refused(alice, django_capture_on_commit_callbacks):
    # Given: as many codes as failures are allowed (3)
    conversation = _conversation(alice)
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            verification_otp_start(actor=None, conversation=conversation, method="sms")
    # When
    with pytest.raises(TooManyCodeRequests) as refused:
        verification_otp_start(actor=None, conversation=conversation, method="sms")
    # Then
    assert refused.value.status_code == 429
    assert refused.value.code == "too_many_code_requests"
    assert refused.value.message == "Too many codes have been requested in this conversation. Try again in 30 minutes."
    assert 0 < refused.value.retry_after_seconds <= 30 * 60
    assert len(senders.outbox) == 3


def test_a_code_is_never_sent_to_a_destination_not_on_record(team_a, django_capture_on_commit_callbacks):
    # Given: a customer with neither phone nor email, in a conversation from an unknown number
    customer = customer_create(actor=None, given_name="Carl", family_name="Nophone", team=team_a)
    conversation = _conversation(customer, contact_kind="phone", contact_value="+447700900999")
    # When
    with django_capture_on_commit_callbacks(execute=True):
        answer = verification_otp_start(actor=None, conversation=conversation, method="sms")
    # Then: the same answer, nothing sent, nothing to check
    assert answer == CodeRequest(method="sms", message=CODE_REQUESTED_MESSAGES["sms"], expires_in_seconds=300)
    assert senders.outbox == []
    assert not VerificationChallenge.objects.exists()


# --- The sending task ---------------------------------------------------------------------------


def test_only_the_challenge_id_goes_to_the_broker_after_commit(alice, monkeypatch, django_capture_on_commit_callbacks):
    # Given
    sent: list[tuple] = []
    monkeypatch.setattr(send_verification_code, "delay", lambda *args, **kwargs: sent.append((args, kwargs)))
    conversation = _conversation(alice)
    # When
    with django_capture_on_commit_callbacks(execute=True):
        verification_otp_start(actor=None, conversation=conversation, method="sms")
        assert sent == []  # nothing before the commit
    # Then: the task gets the challenge id alone; the code does not exist yet
    challenge = VerificationChallenge.objects.get(conversation=conversation)
    assert sent == [((challenge.pk,), {})]
    assert challenge.code_hash == ""
    assert senders.outbox == []


def test_no_code_goes_out_when_the_request_rolls_back(alice, django_capture_on_commit_callbacks):
    # Given
    conversation = _conversation(alice)
    # When
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        verification_otp_start(actor=None, conversation=conversation, method="sms")
        raise RuntimeError("the request failed after asking for a code")
    # Then
    assert (callbacks, senders.outbox) == ([], [])
    assert not VerificationChallenge.objects.exists()


def _challenge_without_code(alice) -> VerificationChallenge:
    return VerificationChallenge.objects.create(
        conversation=_conversation(alice),
        customer=alice,
        method="sms",
        destination="",
        code_hash="",
        expires_at=timezone.now() + dt.timedelta(minutes=5),
    )


def test_the_task_sends_a_code_once_however_often_it_runs(alice):
    # Given
    challenge = _challenge_without_code(alice)
    # When: delivered twice (acks_late redelivery)
    first = send_verification_code.apply(args=[challenge.pk]).get()
    second = send_verification_code.apply(args=[challenge.pk]).get()
    # Then
    assert (first, second) == (True, False)
    assert len(senders.outbox) == 1


def test_the_task_leaves_used_expired_and_missing_challenges_alone(alice):
    # Given
    used = _challenge_without_code(alice)
    used.used_at = timezone.now()
    used.save()
    expired = _challenge_without_code(alice)
    VerificationChallenge.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    # When / Then
    assert verification_code_send(challenge_id=used.pk) is False
    assert verification_code_send(challenge_id=expired.pk) is False
    assert verification_code_send(challenge_id=987654321) is False
    assert senders.outbox == []


class _FlakySmsSender(senders.SmsSender):
    failures_left = 1

    def send(self, to: str, text: str) -> None:
        if _FlakySmsSender.failures_left:
            _FlakySmsSender.failures_left -= 1
            raise SmsSendError("provider busy", retryable=True)
        senders.outbox.append(senders.SentSms(to=to, text=text, sent_at=timezone.now()))


class _RefusingSmsSender(senders.SmsSender):
    def send(self, to: str, text: str) -> None:
        raise SmsSendError("number barred", retryable=False)


def test_a_failed_send_is_retried_with_a_new_code(alice, settings):
    # Given: the provider fails once
    settings.CEA_SMS_SENDER = f"{__name__}._FlakySmsSender"
    _FlakySmsSender.failures_left = 1
    challenge = _challenge_without_code(alice)
    # When
    result = send_verification_code.apply(args=[challenge.pk], throw=False).get()
    # Then: the retry made and sent a code, and that code is the one that works
    assert result is True
    assert len(senders.outbox) == 1
    assert verification_otp_check(actor=None, conversation=challenge.conversation, code=_sent_code()).verified is True


def test_a_permanently_refused_send_is_not_retried(alice, settings, caplog):
    # Given
    settings.CEA_SMS_SENDER = f"{__name__}._RefusingSmsSender"
    challenge = _challenge_without_code(alice)
    # When
    with caplog.at_level(logging.WARNING, logger="engagement.idv.tasks"):
        result = send_verification_code.apply(args=[challenge.pk]).get()
    # Then
    assert result is False
    assert caplog.messages == [f"Verification code of challenge {challenge.pk} not sent: the SMS provider refused it"]


def test_the_console_sender_writes_the_message_out(capsys, settings):
    # Given
    settings.CEA_SMS_SENDER = "engagement.idv.senders.ConsoleSmsSender"
    # When
    senders.sms_sender().send(PHONE, "Your verification code is 123456.")
    # Then
    assert capsys.readouterr().out == f"SMS to {PHONE}\nYour verification code is 123456.\n{'-' * 40}\n"


def _long_known(customer) -> None:
    """Make the customer and the contacts they came with 30 days old."""
    month_ago = timezone.now() - dt.timedelta(days=30)
    Customer.objects.filter(pk=customer.pk).update(created_at=month_ago)
    Identity.objects.filter(customer=customer).update(created_at=month_ago)


def test_a_phone_added_lately_is_not_where_codes_go_until_it_ages_or_is_verified(
    alice, agent, settings, django_capture_on_commit_callbacks
):
    # Given: someone adds a new primary phone to a long-known customer
    settings.CEA_IDV_NEW_CONTACT_HOLD_HOURS = 24
    _long_known(alice)
    added = identity_add(actor=agent, customer=alice, kind="phone", value="+447400123423", is_primary=True)
    senders.outbox.clear()
    # When / Then: the code still goes to the phone on record
    _start_and_read_code(_conversation(alice), django_capture_on_commit_callbacks)
    assert [sms.to for sms in senders.outbox] == [PHONE]
    # When / Then: a day later, the new phone is where codes go
    senders.outbox.clear()
    Identity.objects.filter(pk=added.pk).update(created_at=timezone.now() - dt.timedelta(hours=24, minutes=1))
    _start_and_read_code(_conversation(alice), django_capture_on_commit_callbacks)
    assert [sms.to for sms in senders.outbox] == ["+447400123423"]


def test_a_phone_added_lately_and_verified_is_where_codes_go(alice, agent, django_capture_on_commit_callbacks):
    # Given
    _long_known(alice)
    added = identity_add(actor=agent, customer=alice, kind="phone", value="+447400123423", is_primary=True)
    identity_verify(actor=agent, identity=added)
    senders.outbox.clear()
    # When
    _start_and_read_code(_conversation(alice), django_capture_on_commit_callbacks)
    # Then
    assert [sms.to for sms in senders.outbox] == ["+447400123423"]


def test_a_customer_with_only_a_new_phone_gets_no_code_by_sms(team_a, agent, django_capture_on_commit_callbacks):
    # Given: a long-known customer with an email only; a phone is added today
    customer = customer_create(actor=None, given_name="Em", family_name="Only", team=team_a, email="em@example.com")
    _long_known(customer)
    identity_add(actor=agent, customer=customer, kind="phone", value="+447400123423")
    senders.outbox.clear()
    # When
    with django_capture_on_commit_callbacks(execute=True):
        verification_otp_start(actor=None, conversation=_conversation(customer), method="sms")
    # Then
    assert senders.outbox == []


def test_the_old_contacts_are_told_after_commit_when_a_contact_is_added(
    alice, agent, django_capture_on_commit_callbacks
):
    # Given
    _long_known(alice)
    senders.outbox.clear()
    mail.outbox.clear()
    # When
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        identity_add(actor=agent, customer=alice, kind="phone", value="+447400123423", is_primary=True)
    # Then: nothing before the commit; then the phone and the email on record are told
    assert (senders.outbox, mail.outbox) == ([], [])
    for callback in callbacks:
        callback()
    text = (
        "A new phone number (•••••••••••23) was added to your account. Verification codes will not go to it "
        "for 24 hours. If you did not ask for this, contact us at once."
    )
    assert [(sms.to, sms.text) for sms in senders.outbox] == [(PHONE, text)]
    assert [(m.to, m.subject, m.body) for m in mail.outbox] == [([EMAIL], "A new phone number on your account", text)]


def test_a_removed_contact_is_told(alice, agent, django_capture_on_commit_callbacks):
    # Given
    _long_known(alice)
    senders.outbox.clear()
    phone = alice.identities.get(kind="phone")
    # When
    with django_capture_on_commit_callbacks(execute=True):
        identity_remove(actor=agent, identity=phone)
    # Then: the removed phone and the email on record
    text = (
        "The phone number •••••••••••56 was removed from your account. If you did not ask for this, contact us at once."
    )
    assert [(sms.to, sms.text) for sms in senders.outbox] == [(PHONE, text)]
    assert [m.to for m in mail.outbox] == [[EMAIL]]


# --- Knowledge questions ------------------------------------------------------------------------


def test_date_of_birth_and_postcode_verify(alice, django_capture_on_commit_callbacks):
    # Given
    conversation = _conversation(alice)
    # When: the postcode written another way
    with django_capture_on_commit_callbacks(execute=True):
        verification = verification_knowledge_check(
            actor=None, conversation=conversation, date_of_birth=BIRTH, postcode="sw1a1aa"
        )
    # Then
    assert (verification.verified, verification.method) == (True, "knowledge_dob_postcode")
    conversation.refresh_from_db()
    assert conversation.verification_level == "verified"
    assert context_read(scope="conversation", context_id=conversation.pk).values["verification_level"] == "verified"


@pytest.mark.parametrize(
    ("date_of_birth", "postcode"),
    [(dt.date(1980, 3, 1), "SW1A 1AA"), (BIRTH, "SW1A 1AB"), (dt.date(1981, 1, 1), "N1 9GU")],
    ids=["wrong date of birth", "wrong postcode", "both wrong"],
)
def test_a_wrong_date_of_birth_or_postcode_fails_alike(alice, date_of_birth, postcode):
    # Given
    conversation = _conversation(alice)
    # When
    verification = verification_knowledge_check(
        actor=None, conversation=conversation, date_of_birth=date_of_birth, postcode=postcode
    )
    # Then
    assert (verification.verified, verification.method, verification.locked_until) == (
        False,
        "knowledge_dob_postcode",
        None,
    )
    assert VerificationLock.objects.get(customer=alice).failures == 1


def test_a_customer_without_a_date_of_birth_cannot_pass_on_it(team_a):
    # Given
    customer = customer_create(actor=None, given_name="Dee", family_name="Nodob", team=team_a, postcode="LS1 4AP")
    conversation = _conversation(customer)
    # When
    verification = verification_knowledge_check(
        actor=None, conversation=conversation, date_of_birth=BIRTH, postcode="LS1 4AP"
    )
    # Then
    assert verification.verified is False


def test_the_last_four_digits_of_an_account_verify(alice):
    # Given
    conversation = _conversation(alice)
    # When
    wrong = verification_knowledge_check(actor=None, conversation=conversation, account_digits="7891")
    right = verification_knowledge_check(actor=None, conversation=conversation, account_digits="7890")
    # Then
    assert (wrong.verified, right.verified, right.method) == (False, True, "knowledge_account_digits")
    lock = VerificationLock.objects.get(customer=alice)
    assert (lock.failures, lock.locked_until) == (0, None)  # success resets the count


def test_incomplete_knowledge_answers_are_refused_by_field(alice):
    conversation = _conversation(alice)
    with pytest.raises(ValidationFailed) as refused:
        verification_knowledge_check(actor=None, conversation=conversation, date_of_birth=BIRTH)
    assert refused.value.fields == {"postcode": ["This field is required."]}
    with pytest.raises(ValidationFailed) as refused:
        verification_knowledge_check(actor=None, conversation=conversation, account_digits="78")
    assert refused.value.fields == {"account_digits": ["Exactly 4 digits."]}
    with pytest.raises(ValidationFailed) as refused:
        verification_knowledge_check(actor=None, conversation=conversation, postcode="SW1A 1AA", account_digits="7890")
    assert refused.value.fields == {"non_field_errors": ["Answer one question."]}
    assert not VerificationLock.objects.exists()  # refused input is not a guess


# --- Lockout ------------------------------------------------------------------------------------


def test_repeated_failures_lock_verification_for_the_customer(alice, caplog, django_capture_on_commit_callbacks):
    # Given: two failures, by a code and by knowledge (failures count across methods)
    conversation = _conversation(alice)
    code = _start_and_read_code(conversation, django_capture_on_commit_callbacks)
    verification_otp_check(actor=None, conversation=conversation, code=_wrong(code))
    verification_knowledge_check(actor=None, conversation=conversation, account_digits="0000")
    # When: the third
    with caplog.at_level(logging.WARNING, logger="engagement.idv"):
        third = verification_otp_check(actor=None, conversation=conversation, code=_wrong(code))
    # Then: locked for 30 minutes, logged without the code, in the journey
    lock = VerificationLock.objects.get(customer=alice)
    assert lock.failures == 3
    assert lock.locked_until == lock.last_failure_at + dt.timedelta(minutes=30)
    assert third.locked_until == lock.locked_until
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"ID&V locked for customer {alice.pk} after 3 failed attempts")
    assert code not in caplog.text and PHONE not in caplog.text
    event = _last_idv_event(alice)
    assert (event.kind, event.summary) == ("idv.locked", "Verification locked for 30 minutes after 3 failed attempts")
    # the code that was out no longer works, even after the lock
    assert VerificationChallenge.objects.get(conversation=conversation).expires_at <= timezone.now()
    # and while locked, even the right answer is refused, without counting
    with pytest.raises(VerificationLocked) as refused:
        verification_knowledge_check(actor=None, conversation=conversation, account_digits="7890")
    assert (refused.value.status_code, refused.value.code) == (429, "verification_locked")
    assert (
        refused.value.message
        == "Too many failed verification attempts: verification is paused. Try again in 30 minutes."
    )
    with pytest.raises(VerificationLocked):
        verification_otp_start(actor=None, conversation=conversation, method="sms")
    assert VerificationLock.objects.get(customer=alice).failures == 3


def test_the_lock_holds_in_the_customers_other_conversations(alice):
    # Given
    first = _conversation(alice)
    for _ in range(3):
        verification_knowledge_check(actor=None, conversation=first, account_digits="0000")
    # When / Then
    with pytest.raises(VerificationLocked):
        verification_knowledge_check(actor=None, conversation=_conversation(alice), account_digits="7890")


def test_the_lock_lifts_by_itself_after_the_cool_off(alice, django_capture_on_commit_callbacks):
    # Given: locked, and the cool-off has passed
    conversation = _conversation(alice)
    for _ in range(3):
        verification_knowledge_check(actor=None, conversation=conversation, account_digits="0000")
    past = timezone.now() - dt.timedelta(minutes=31)
    VerificationLock.objects.filter(customer=alice).update(locked_until=past, last_failure_at=past)
    # When
    code = _start_and_read_code(conversation, django_capture_on_commit_callbacks)
    verification = verification_otp_check(actor=None, conversation=conversation, code=code)
    # Then: verified, and the count starts again
    assert verification.verified is True
    lock = VerificationLock.objects.get(customer=alice)
    assert (lock.failures, lock.locked_until) == (0, None)


def test_after_the_cool_off_a_failure_starts_a_fresh_count(alice):
    # Given
    conversation = _conversation(alice)
    for _ in range(3):
        verification_knowledge_check(actor=None, conversation=conversation, account_digits="0000")
    past = timezone.now() - dt.timedelta(minutes=31)
    VerificationLock.objects.filter(customer=alice).update(locked_until=past, last_failure_at=past)
    # When
    verification = verification_knowledge_check(actor=None, conversation=conversation, account_digits="0000")
    # Then
    assert verification.locked_until is None
    lock = VerificationLock.objects.get(customer=alice)
    assert (lock.failures, lock.locked_until) == (1, None)


def test_old_failures_no_longer_count(alice):
    # Given: two failures longer ago than the cool-off
    conversation = _conversation(alice)
    for _ in range(2):
        verification_knowledge_check(actor=None, conversation=conversation, account_digits="0000")
    VerificationLock.objects.filter(customer=alice).update(last_failure_at=timezone.now() - dt.timedelta(minutes=31))
    # When
    verification = verification_knowledge_check(actor=None, conversation=conversation, account_digits="0000")
    # Then
    assert verification.locked_until is None
    assert VerificationLock.objects.get(customer=alice).failures == 1


def test_a_success_resets_the_failures(alice):
    # Given
    conversation = _conversation(alice)
    for _ in range(2):
        verification_knowledge_check(actor=None, conversation=conversation, account_digits="0000")
    # When
    verification_knowledge_check(actor=None, conversation=conversation, date_of_birth=BIRTH, postcode="SW1A 1AA")
    verification_knowledge_check(actor=None, conversation=conversation, account_digits="0000")
    verification_knowledge_check(actor=None, conversation=conversation, account_digits="0000")
    # Then: two failures after the success, not four
    lock = VerificationLock.objects.get(customer=alice)
    assert (lock.failures, lock.locked_until) == (2, None)


def test_clearing_a_lock_lets_the_customer_try_again(alice, supervisor):
    # Given
    conversation = _conversation(alice)
    for _ in range(3):
        verification_knowledge_check(actor=None, conversation=conversation, account_digits="0000")
    # When
    verification_lock_clear(actor=supervisor, lock=VerificationLock.objects.get(customer=alice))
    # Then
    assert verification_knowledge_check(actor=None, conversation=conversation, account_digits="7890").verified is True
    assert "idv.unlocked" in _kinds(alice)
    assert JourneyEvent.objects.get(kind="idv.unlocked").summary == "Verification lock cleared by supervisor.a"


@pytest.mark.django_db(transaction=True)
def test_two_wrong_answers_at_once_both_count(team_a):
    # Given: a first wrong answer holds the customer's lock row when a second one arrives
    customer = customer_create(actor=None, given_name="Eve", family_name="Race", team=team_a, postcode="LS1 4AP")
    identity_add(actor=None, customer=customer, kind="account", value="12345678")
    conversation = _conversation(customer)
    outcome: list[object] = []

    def guess_again() -> None:
        try:
            outcome.append(
                verification_knowledge_check(actor=None, conversation=conversation, account_digits="1111").verified
            )
        except Exception as exc:  # the outcome is asserted below
            outcome.append(exc)
        finally:
            connection.close()

    second = threading.Thread(target=guess_again)
    # When
    try:
        with transaction.atomic():
            verification_knowledge_check(actor=None, conversation=conversation, account_digits="2222")
            second.start()
            wait_for_lock_waiters(1)  # the second waits for the lock row this transaction holds
    finally:
        if second.ident is not None:
            second.join(timeout=60)
    # Then
    assert outcome == [False]
    lock = VerificationLock.objects.get(customer=customer)
    assert lock.failures == 2
    connection.close()


def _lift_lock(customer) -> dt.timedelta:
    """Let the customer's lock run out; returns how long it lasted."""
    lock = VerificationLock.objects.get(customer=customer)
    length = lock.locked_until - lock.last_failure_at
    now = timezone.now()
    VerificationLock.objects.filter(pk=lock.pk).update(
        locked_until=now - dt.timedelta(seconds=1), last_failure_at=now - length - dt.timedelta(seconds=1)
    )
    return length


def test_each_lock_in_a_row_lasts_twice_as_long_up_to_the_ceiling(alice, settings):
    # Given: locks start at 30 minutes and never last more than 100
    settings.CEA_IDV_LOCK_MAX_MINUTES = 100
    conversation = _conversation(alice)
    lengths = []
    # When: four rounds of three wrong last-four-digits guesses, each after the previous lock ran out
    for _ in range(4):
        for _ in range(3):
            verification_knowledge_check(actor=None, conversation=conversation, account_digits="0000")
        lengths.append(_lift_lock(alice))
    # Then
    assert lengths == [dt.timedelta(minutes=m) for m in (30, 60, 100, 100)]
    summaries = list(
        JourneyEvent.objects.filter(customer=alice, kind="idv.locked").order_by("id").values_list("summary", flat=True)
    )
    assert summaries[1] == "Verification locked for 60 minutes after 3 failed attempts (lock 2 in a row)"
    assert VerificationLock.objects.get(customer=alice).lockouts == 4


def test_a_success_starts_the_locks_again_from_the_shortest(alice):
    # Given: locked once, the lock ran out, then the customer verified
    conversation = _conversation(alice)
    for _ in range(3):
        verification_knowledge_check(actor=None, conversation=conversation, account_digits="0000")
    _lift_lock(alice)
    assert verification_knowledge_check(actor=None, conversation=conversation, account_digits="7890").verified is True
    # When
    for _ in range(3):
        verification_knowledge_check(actor=None, conversation=conversation, account_digits="0000")
    # Then
    assert _lift_lock(alice) == dt.timedelta(minutes=30)


def test_an_unknown_contacts_locks_grow_alike(settings):
    # Given: an unknown contact locked once, and the lock ran out
    conversation = _conversation()
    key = attempts.conversation_attempts_key(conversation.pk)
    for _ in range(3):
        verification_knowledge_check(actor=None, conversation=conversation, account_digits="0000")
    now = timezone.now()
    attempts._client().hset(
        key,
        mapping={
            "locked_until": (now - dt.timedelta(seconds=1)).timestamp(),
            "last": (now - dt.timedelta(minutes=31)).timestamp(),
        },
    )
    # When: three more wrong guesses
    outcomes = [
        verification_knowledge_check(actor=None, conversation=conversation, account_digits="0000") for _ in range(3)
    ]
    # Then: the second lock lasts an hour, as a known customer's would
    assert dt.timedelta(minutes=59) < outcomes[-1].locked_until - timezone.now() <= dt.timedelta(minutes=60)


# --- No enumeration -----------------------------------------------------------------------------


def test_asking_for_a_code_answers_the_same_for_an_unknown_contact(alice, django_capture_on_commit_callbacks):
    # Given: one conversation with a known customer, one from a number nobody has
    known = _conversation(alice)
    unknown = _conversation(contact_kind="phone", contact_value="+447700900999")
    # When
    with django_capture_on_commit_callbacks(execute=True):
        for_known = verification_otp_start(actor=None, conversation=known, method="sms")
    with django_capture_on_commit_callbacks(execute=True):
        for_unknown = verification_otp_start(actor=None, conversation=unknown, method="sms")
    # Then: the same answer; a code went to the registered phone only
    assert for_known == for_unknown
    assert [sms.to for sms in senders.outbox] == [PHONE]


def test_checks_fail_and_lock_the_same_for_an_unknown_contact(alice, django_capture_on_commit_callbacks):
    # Given
    known = _conversation(alice)
    unknown = _conversation()
    code = _start_and_read_code(known, django_capture_on_commit_callbacks)
    verification_otp_start(actor=None, conversation=unknown, method="sms")
    # When: the same wrong answers in both
    outcomes = {}
    for name, conversation in (("known", known), ("unknown", unknown)):
        outcomes[name] = [
            verification_otp_check(actor=None, conversation=conversation, code=_wrong(code)),
            verification_knowledge_check(actor=None, conversation=conversation, date_of_birth=BIRTH, postcode="N1 9GU"),
            verification_otp_check(
                actor=None, conversation=conversation, code=code if name == "unknown" else _wrong(code)
            ),
        ]
    # Then: both fail twice, then lock for the same cool-off, then refuse alike
    for name in ("known", "unknown"):
        first, second, third = outcomes[name]
        assert (first.verified, first.locked_until, second.verified, second.locked_until) == (False, None, False, None)
        assert third.verified is False
        assert dt.timedelta(minutes=29) < third.locked_until - timezone.now() <= dt.timedelta(minutes=30)
    refusals = {}
    for name, conversation in (("known", known), ("unknown", unknown)):
        with pytest.raises(VerificationLocked) as refused:
            verification_knowledge_check(actor=None, conversation=conversation, account_digits="7890")
        refusals[name] = (refused.value.status_code, refused.value.code, refused.value.message)
        with pytest.raises(VerificationLocked):
            verification_otp_start(actor=None, conversation=conversation, method="sms")
    assert refusals["known"] == refusals["unknown"]


def test_an_unknown_contacts_lock_lifts_after_the_cool_off_too(settings):
    # Given: locked
    conversation = _conversation()
    for _ in range(3):
        verification_knowledge_check(actor=None, conversation=conversation, account_digits="0000")
    with pytest.raises(VerificationLocked):
        verification_knowledge_check(actor=None, conversation=conversation, account_digits="0000")
    # When: the cool-off has passed
    past = (timezone.now() - dt.timedelta(minutes=31)).timestamp()
    attempts._client().hset(
        attempts.conversation_attempts_key(conversation.pk), mapping={"locked_until": past, "last": past}
    )
    # Then: tried again, and a fresh count
    verification = verification_knowledge_check(actor=None, conversation=conversation, account_digits="0000")
    assert (verification.verified, verification.locked_until) == (False, None)
    assert attempts._client().hget(attempts.conversation_attempts_key(conversation.pk), "failures") == "1"
