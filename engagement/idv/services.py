"""Identification and verification (ID&V): who is this, and have they proved it?

- **Identify** (``conversation_identify``): a channel identifier is matched to a customer
  through records; one match makes the conversation ``identified``, several are reported
  and none is chosen, none leaves the conversation as it was.
- **Verify** with a one-time passcode sent to the customer's *registered* phone or email
  (``verification_otp_start`` / ``verification_otp_check``), or with knowledge questions
  (``verification_knowledge_check``): date of birth and postcode, or the last digits of an
  account number. Success makes the conversation ``verified`` (on the conversation, in its
  context, in the audit trail and in the journey, through ``conversation_set_verification``).

Verification never reveals whether a customer is on file, nor which detail was wrong: asking
for a code answers the same whether or not a code went out, every failure gives the same
refusal, a conversation without a known customer fails and locks exactly as a known one does
(``engagement.idv.attempts``), and checking costs the same work either way.

Failures are counted per customer, across conversations and methods; too many lock
verification for a cool-off (``engagement.idv.attempts``). A failed check is *returned*, not
raised, so that the counted failure commits even when the caller turns it into an error.
"""

from __future__ import annotations

import hmac
import logging
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy

from cea.accounts.types import Actor
from cea.common.errors import ApplicationError, Conflict, ValidationFailed
from cea.common.tasks import send_on_commit
from engagement.access import require_handling_agent
from engagement.conversations.models import Conversation, ConversationStatus, VerificationLevel
from engagement.conversations.services import conversation_set_verification
from engagement.idv.attempts import (
    Failure,
    conversation_count_code_request,
    conversation_locked_until,
    conversation_register_failure,
    customer_lock_for_update,
    customer_locked_until,
    lock_active_until,
    lock_register_failure,
    lock_register_success,
    retry_after_seconds,
)
from engagement.idv.codes import code_hash, code_matches, new_code
from engagement.idv.models import ChallengeMethod, VerificationChallenge, VerificationLock
from engagement.idv.senders import sms_sender
from records.access import customer_visible
from records.customers.models import Customer
from records.identities.models import IdentityKind
from records.identities.selectors import customer_lookup, customer_lookup_any
from records.journey.services import journey_record

logger = logging.getLogger(__name__)

ANY_KIND = "any"
ACCOUNT_DIGITS = 4

FAILED_MESSAGE = "Those details could not be verified."
CODE_REQUESTED_MESSAGES = {
    ChallengeMethod.SMS: "If the details match our records, a code has been sent by SMS to the registered phone.",
    ChallengeMethod.EMAIL: "If the details match our records, a code has been sent to the registered email address.",
}


class VerificationFailed(ApplicationError):
    """A check did not pass. One message for every cause: nothing says which detail was wrong."""

    status_code = 400
    code = "verification_failed"

    def __init__(self) -> None:
        super().__init__(FAILED_MESSAGE)


class VerificationLocked(ApplicationError):
    """Too many failed attempts: verification pauses until ``retry_after_seconds`` have passed.

    429 Too Many Requests rather than 423 Locked: the refusal is about the rate of attempts and
    lifts by itself after a while, which is what 429 (with a time to wait) tells clients; 423 is
    WebDAV's "this resource is locked", which clients do not read as "retry later".
    """

    status_code = 429
    code = "verification_locked"
    reason = "Too many failed verification attempts: verification is paused."

    def __init__(self, *, retry_after_seconds: int) -> None:
        minutes = math.ceil(retry_after_seconds / 60)
        super().__init__(f"{self.reason} Try again in {minutes} minute{'s' if minutes != 1 else ''}.")
        self.retry_after_seconds = retry_after_seconds

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "retry_after_seconds": self.retry_after_seconds}


class TooManyCodeRequests(VerificationLocked):
    """Too many codes asked for in one conversation (counted whether or not the customer is known)."""

    code = "too_many_code_requests"
    reason = "Too many codes have been requested in this conversation."


class IdentifyOutcome(models.TextChoices):
    IDENTIFIED = "identified", gettext_lazy("Identified")
    AMBIGUOUS = "ambiguous", gettext_lazy("Several customers match")
    NOT_IDENTIFIED = "not_identified", gettext_lazy("Not identified")


class KnowledgeMethod(models.TextChoices):
    DOB_POSTCODE = "knowledge_dob_postcode", gettext_lazy("Date of birth and postcode")
    ACCOUNT_DIGITS = "knowledge_account_digits", gettext_lazy("Last digits of an account number")


def otp_method(*, method: str) -> str:
    """The verification method recorded for a passcode sent by ``method``: ``otp_sms``, ``otp_email``."""
    return f"otp_{method}"


@dataclass(frozen=True)
class Match:
    kind: str
    customer: Customer


@dataclass(frozen=True)
class Identification:
    outcome: str
    conversation: Conversation
    customer: Customer | None = None
    matches: list[Match] = field(default_factory=list)


@dataclass(frozen=True)
class CodeRequest:
    """The answer to a code request: the same whether or not a code went out."""

    method: str
    message: str
    expires_in_seconds: int


@dataclass(frozen=True)
class Verification:
    """The outcome of a check. ``locked_until`` is set when this failure locked verification."""

    verified: bool
    conversation: Conversation
    method: str
    locked_until: datetime | None = None


# --- Helpers ------------------------------------------------------------------------------------


def _open_conversation(conversation: Conversation) -> Conversation:
    """The conversation as it is now (its customer may have changed); ended ones are refused."""
    fresh = Conversation.objects.select_related("customer").get(pk=conversation.pk)
    if fresh.status == ConversationStatus.ENDED:
        raise Conflict(f"Conversation {fresh.pk} has ended.", code="conversation_ended")
    return fresh


def _survivor(customer: Customer) -> Customer:
    """A merged customer's survivor (merges can chain), so that a tombstone is never identified."""
    seen = set()
    while customer.merged_into_id is not None and customer.pk not in seen:
        seen.add(customer.pk)
        customer = customer.merged_into
    return customer


# Identities made within this of their customer came with the customer (created with it, or
# loaded with it): they are the contacts on record, not contacts added later.
CAME_WITH_CUSTOMER = timedelta(minutes=1)


def _on_record(customer: Customer, now: datetime) -> models.Q:
    """Identities codes may go to: verified, older than the hold, or the customer's own from the start."""
    held_since = now - timedelta(hours=settings.CEA_IDV_NEW_CONTACT_HOLD_HOURS)
    return (
        models.Q(verified_at__isnull=False)
        | models.Q(created_at__lte=held_since)
        | models.Q(created_at__lte=customer.created_at + CAME_WITH_CUSTOMER)
    )


def registered_destination(*, customer: Customer, method: str) -> str | None:
    """Where ``customer`` has registered to receive codes by ``method``, or ``None``.

    A phone (E.164) or email identity of the customer, the primary one first, then a verified
    one, then the oldest; failing that, the contact phone or email of the profile. Never a
    destination given by the caller: a code goes only where the records say. A phone or email
    added to an existing customer is held: not a destination until it is verified or
    ``CEA_IDV_NEW_CONTACT_HOLD_HOURS`` old, so that adding a contact cannot redirect codes
    (and while every identity of the kind is held, the profile's value is not used either).
    """
    kind = IdentityKind.PHONE if method == ChallengeMethod.SMS else IdentityKind.EMAIL
    identities = customer.identities.filter(kind=kind)
    value = (
        identities.filter(_on_record(customer, timezone.now()))
        .order_by("-is_primary", F("verified_at").desc(nulls_last=True), "created_at", "id")
        .values_list("value", flat=True)
        .first()
    )
    if value is not None or identities.exists():
        return value
    return (customer.phone if method == ChallengeMethod.SMS else customer.email) or None


def mask_destination(*, destination: str, method: str) -> str:
    """What may be shown of a destination: ``•••••••••23``, ``a•••@example.com``."""
    if method == ChallengeMethod.SMS:
        return "•" * max(len(destination) - 2, 3) + destination[-2:]
    local, _, domain = destination.partition("@")
    return f"{local[:1]}•••@{domain}"


def _knowledge_digest(value: str) -> bytes:
    # Compared as fixed-length keyed digests, so compare_digest takes the same time whatever the
    # lengths of the values compared.
    return salted_hmac("engagement.idv.knowledge", value, algorithm="sha256").digest()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(_knowledge_digest(given), _knowledge_digest(expected)) and bool(expected)


def normalise_postcode(*, value: str) -> str:
    return re.sub(r"\s+", "", value or "").upper()


def _answers_match(
    customer: Customer | None, *, date_of_birth: date | None, postcode: str, account_digits: str
) -> bool:
    """Whether the answers are the customer's; every comparison is made, and made for nobody too."""
    if account_digits:
        expected = []
        if customer is not None:
            for value in customer.identities.filter(kind=IdentityKind.ACCOUNT).values_list("value", flat=True):
                digits = re.sub(r"\D", "", value)
                if len(digits) >= ACCOUNT_DIGITS:
                    expected.append(digits[-ACCOUNT_DIGITS:])
        matched = False
        for candidate in expected or [""]:
            matched |= _same(account_digits, candidate)
        return matched
    expected_birth = customer.date_of_birth.isoformat() if customer and customer.date_of_birth else ""
    expected_postcode = normalise_postcode(value=customer.postcode) if customer else ""
    # "&", not "and": both are compared, so the time taken does not say which one was wrong.
    return _same(date_of_birth.isoformat() if date_of_birth else "", expected_birth) & _same(
        normalise_postcode(value=postcode), expected_postcode
    )


def _refuse_if_locked(conversation: Conversation, now: datetime) -> None:
    """Raise ``VerificationLocked`` while the conversation's customer (or, if unknown, the conversation) is locked."""
    if conversation.customer is not None:
        locked_until = customer_locked_until(conversation.customer, now)
    else:
        locked_until = conversation_locked_until(conversation.pk, now)
    if locked_until is not None:
        raise VerificationLocked(retry_after_seconds=retry_after_seconds(locked_until, now))


def _customer_failure(
    *, lock: VerificationLock, conversation: Conversation, method: str, now: datetime
) -> Verification:
    """Count a failure of the conversation's customer (``lock`` held FOR UPDATE); lock at the limit."""
    customer = conversation.customer
    failure = lock_register_failure(lock, now)
    logger.info(
        "ID&V failure %d of %d for customer %s in conversation %s (%s)",
        failure.failures,
        settings.CEA_IDV_MAX_FAILURES,
        customer.pk,
        conversation.pk,
        method,
    )
    journey_record(
        customer=customer,
        kind="idv.failed",
        source_system="engagement",
        channel=conversation.channel,
        summary=f"Verification failed ({method}), {failure.failures} of {settings.CEA_IDV_MAX_FAILURES}",
        payload={"conversation_id": conversation.pk, "method": method, "failures": failure.failures},
        occurred_at=now,
    )
    if failure.locked_until is not None:
        _lock_taken(customer=customer, conversation=conversation, failure=failure, now=now)
    return Verification(verified=False, conversation=conversation, method=method, locked_until=failure.locked_until)


def _lock_taken(*, customer: Customer, conversation: Conversation, failure: Failure, now: datetime) -> None:
    minutes = round((failure.locked_until - now).total_seconds() / 60)
    in_a_row = f" (lock {failure.lockouts} in a row)" if failure.lockouts > 1 else ""
    logger.warning(
        "ID&V locked for customer %s after %d failed attempts (conversation %s) until %s",
        customer.pk,
        failure.failures,
        conversation.pk,
        failure.locked_until.isoformat(),
    )
    # Codes already out stop working: after the cool-off, the customer asks for a new one.
    VerificationChallenge.objects.filter(customer=customer, used_at__isnull=True, expires_at__gt=now).update(
        expires_at=now
    )
    journey_record(
        customer=customer,
        kind="idv.locked",
        source_system="engagement",
        channel=conversation.channel,
        summary=f"Verification locked for {minutes} minutes after {failure.failures} failed attempts{in_a_row}",
        payload={
            "conversation_id": conversation.pk,
            "failures": failure.failures,
            "lockouts": failure.lockouts,
            "locked_until": failure.locked_until.isoformat(),
        },
        occurred_at=now,
    )


def _anonymous_failure(*, conversation: Conversation, method: str, now: datetime) -> Verification:
    """A failure in a conversation without a known customer: counted and locked like a customer's."""
    failure = conversation_register_failure(conversation.pk, now)
    logger.info(
        "ID&V failure %d of %d in conversation %s without a known customer (%s)",
        failure.failures,
        settings.CEA_IDV_MAX_FAILURES,
        conversation.pk,
        method,
    )
    if failure.locked_until is not None:
        logger.warning(
            "ID&V locked for conversation %s (no known customer) after %d failed attempts until %s",
            conversation.pk,
            failure.failures,
            failure.locked_until.isoformat(),
        )
    return Verification(verified=False, conversation=conversation, method=method, locked_until=failure.locked_until)


# --- Identification -----------------------------------------------------------------------------


def _matches(*, actor: Actor, kind: str, value: str) -> list[Match]:
    """The customers ``value`` identifies that ``actor`` may see (``None``, the system, sees all).

    A customer the actor may not see is dropped after the same look-up, so that it reads
    exactly as an identifier on nobody's file: no id, no count, nothing bound.
    """
    if kind == ANY_KIND:
        if not isinstance(value, str) or not value.strip():
            raise ValidationFailed("An identifier needs a value.", fields={"value": "This field is required."})
        found = [Match(kind=k, customer=c) for k, c in customer_lookup_any(value=value)]
    else:
        customer = customer_lookup(kind=kind, value=value)  # ValidationFailed if malformed
        found = [Match(kind=kind, customer=customer)] if customer is not None else []
    unique: dict[int, Match] = {}
    for match in found:
        survivor = _survivor(match.customer)
        if actor is not None and not customer_visible(actor, survivor):
            continue
        unique.setdefault(survivor.pk, Match(kind=match.kind, customer=survivor))
    return list(unique.values())


def conversation_identify(*, actor: Actor, conversation: Conversation, kind: str, value: str) -> Identification:
    """Match a channel identifier to a customer and record it on the conversation.

    ``kind`` is an identity kind (``phone``, ``email``, ``social``, ``device``, ``account``,
    ``national_id``) or ``any`` (every kind that can read ``value``). Exactly one customer:
    the conversation becomes ``identified`` (never lowered if it was verified). Several: they
    are reported as ``ambiguous`` and nothing is set. None: ``not_identified``, nothing set.
    ``actor`` (the agent or API client, ``None`` for the system) is named in the audit trail.
    Only the conversation's handling agent, a supervisor, an administrator, an integration
    client or the system may identify (``PermissionDenied`` otherwise), and only customers
    the actor may see are matched: another team's customer is "not identified", exactly as an
    identifier on nobody's file. Raises ``ValidationFailed`` for a malformed identifier,
    ``Conflict`` if the conversation has ended or is already with another customer.
    """
    conversation = _open_conversation(conversation)
    require_handling_agent(actor, conversation, clients=True)
    matches = _matches(actor=actor, kind=kind, value=value)
    if len(matches) == 1:
        [match] = matches
        conversation = conversation_set_verification(
            actor=actor,
            conversation=conversation,
            customer=match.customer,
            level=VerificationLevel.IDENTIFIED,
            method=match.kind,
        )
        return Identification(
            outcome=IdentifyOutcome.IDENTIFIED, conversation=conversation, customer=match.customer, matches=matches
        )
    if matches:
        return Identification(outcome=IdentifyOutcome.AMBIGUOUS, conversation=conversation, matches=matches)
    return Identification(outcome=IdentifyOutcome.NOT_IDENTIFIED, conversation=conversation)


# --- One-time passcodes -------------------------------------------------------------------------


@transaction.atomic
def verification_otp_start(*, actor: Actor, conversation: Conversation, method: str) -> CodeRequest:
    """Ask for a one-time passcode by ``method`` (``sms`` or ``email``) for the conversation's customer.

    When the customer is known and has a registered destination for ``method``, a challenge
    is created and a Celery task, sent after commit, makes the code, stores its hash and sends
    it. The answer is the same in every case. A new code replaces the conversation's earlier
    ones. Only the handling agent, a supervisor, a client or the system (``actor=None``) may ask
    (``PermissionDenied``). Raises ``VerificationLocked`` while locked, ``TooManyCodeRequests``
    past the limit of requests per conversation, ``Conflict`` if the conversation has ended.
    """
    if method not in ChallengeMethod.values:
        raise ValidationFailed(
            f"Unknown method {method!r}.", fields={"method": f"Choose one of {', '.join(ChallengeMethod.values)}."}
        )
    now = timezone.now()
    conversation = _open_conversation(conversation)
    require_handling_agent(actor, conversation, clients=True)
    _refuse_if_locked(conversation, now)
    requests, seconds_left = conversation_count_code_request(conversation.pk)
    if requests > settings.CEA_IDV_MAX_FAILURES:
        raise TooManyCodeRequests(retry_after_seconds=seconds_left)
    VerificationChallenge.objects.filter(conversation=conversation, used_at__isnull=True, expires_at__gt=now).update(
        expires_at=now
    )
    customer = conversation.customer
    destination = registered_destination(customer=customer, method=method) if customer is not None else None
    if destination is not None:
        challenge = VerificationChallenge.objects.create(
            conversation=conversation,
            customer=customer,
            method=method,
            destination=mask_destination(destination=destination, method=method),
            code_hash="",  # the task makes the code and fills this in
            expires_at=now + timedelta(seconds=settings.CEA_IDV_CODE_TTL_SECONDS),
        )
        from engagement.idv.tasks import send_verification_code  # here: the task module imports this one

        send_on_commit(send_verification_code, challenge.pk)
    return CodeRequest(
        method=method,
        message=CODE_REQUESTED_MESSAGES[ChallengeMethod(method)],
        expires_in_seconds=settings.CEA_IDV_CODE_TTL_SECONDS,
    )


def _code_text(code: str) -> str:
    minutes = math.ceil(settings.CEA_IDV_CODE_TTL_SECONDS / 60)
    return (
        f"Your verification code is {code}. It expires in {minutes} minute{'s' if minutes != 1 else ''}. "
        "If you did not ask for it, ignore this message."
    )


def verification_code_send(*, challenge_id: int, resend: bool = False) -> bool:
    """Make the code of a challenge, store its hash and send it; ``True`` if a code went out.

    Runs in the Celery worker, so the code never travels through the broker: only the
    challenge id does, and the destination is read from the records here. Idempotent: a used
    or expired challenge, or one whose code was already made, is left alone — unless
    ``resend`` (a retry after a failed send, whose code never arrived) asks for a new code.
    The row is locked while the code is made; sending happens after the commit. Raises
    ``SmsSendError`` and mail errors for the task to retry.
    """
    now = timezone.now()
    with transaction.atomic():
        challenge = (
            VerificationChallenge.objects.select_for_update(of=("self",))  # not the customer's or conversation's rows
            .select_related("customer", "conversation")
            .filter(pk=challenge_id)
            .first()
        )
        if challenge is None or challenge.used_at is not None or challenge.expires_at <= now:
            return False
        if challenge.code_hash and not resend:
            return False
        destination = registered_destination(customer=challenge.customer, method=challenge.method)
        if destination is None:  # the customer's phone or email went away meanwhile
            challenge.expires_at = now
            challenge.save(update_fields=["expires_at", "updated_at"])
            return False
        code = new_code()
        challenge.code_hash = code_hash(challenge.pk, code)
        challenge.destination = mask_destination(destination=destination, method=challenge.method)
        challenge.save(update_fields=["code_hash", "destination", "updated_at"])
    text = _code_text(code)
    if challenge.method == ChallengeMethod.SMS:
        sms_sender().send(destination, text)
    else:
        send_mail(subject="Your verification code", message=text, from_email=None, recipient_list=[destination])
    journey_record(
        customer=challenge.customer,
        kind="idv.code_sent",
        source_system="engagement",
        channel=challenge.conversation.channel,
        summary=f"Verification code sent by {'SMS' if challenge.method == ChallengeMethod.SMS else 'email'} "
        f"to {challenge.destination}",
        payload={
            "conversation_id": challenge.conversation_id,
            "challenge_id": challenge.pk,
            "method": challenge.method,
        },
    )
    return True


@transaction.atomic
def verification_otp_check(*, actor: Actor, conversation: Conversation, code: str) -> Verification:
    """Check a one-time passcode; success makes the conversation ``verified``.

    The latest unexpired, unused code of the conversation is checked, once: a right code is
    used up, a wrong one counts a failure for the customer. Without a known customer or a code
    the check fails the same way, after the same work. Returns the outcome (a failure is not
    raised, so it commits); raises ``PermissionDenied`` for anyone but the handling agent, a
    supervisor, a client or the system, ``VerificationLocked`` while locked, ``Conflict`` if ended.
    Takes the customer's ``VerificationLock`` row FOR UPDATE, then the challenge's.
    """
    now = timezone.now()
    conversation = _open_conversation(conversation)
    require_handling_agent(actor, conversation, clients=True)
    customer = conversation.customer
    if customer is None:
        _refuse_if_locked(conversation, now)
        code_matches(None, code, None)  # the work a wrong code costs
        return _anonymous_failure(conversation=conversation, method="otp", now=now)
    lock = customer_lock_for_update(customer)
    locked_until = lock_active_until(lock, now)
    if locked_until is not None:
        raise VerificationLocked(retry_after_seconds=retry_after_seconds(locked_until, now))
    challenge = (
        VerificationChallenge.objects.select_for_update()
        .filter(conversation=conversation, customer=customer, used_at__isnull=True, expires_at__gt=now)
        .exclude(code_hash="")
        .order_by("-created_at", "-id")
        .first()
    )
    if challenge is not None and code_matches(challenge.pk, code, challenge.code_hash):
        challenge.used_at = now
        challenge.save(update_fields=["used_at", "updated_at"])
        lock_register_success(lock)
        method = otp_method(method=challenge.method)
        conversation = conversation_set_verification(
            actor=actor, conversation=conversation, customer=customer, level=VerificationLevel.VERIFIED, method=method
        )
        return Verification(verified=True, conversation=conversation, method=method)
    if challenge is None:
        code_matches(None, code, None)
    else:
        VerificationChallenge.objects.filter(pk=challenge.pk).update(attempts=F("attempts") + 1)
    return _customer_failure(lock=lock, conversation=conversation, method="otp", now=now)


def verification_raise_for_failure(*, verification: Verification) -> Verification:
    """``verification`` if it passed; otherwise the one refusal every interface gives.

    ``VerificationLocked`` if this failure locked verification, else ``VerificationFailed``
    (the same message whatever was wrong). Call it after the check's transaction, so that the
    counted failure stays committed.
    """
    if verification.locked_until is not None:
        raise VerificationLocked(retry_after_seconds=retry_after_seconds(verification.locked_until, timezone.now()))
    if not verification.verified:
        raise VerificationFailed()
    return verification


# --- Knowledge questions ------------------------------------------------------------------------


def knowledge_check_input(*, date_of_birth: date | None, postcode: str, account_digits: str) -> str:
    """Which knowledge question the answers are for; ``ValidationFailed`` unless exactly one is answered fully."""
    if account_digits:
        if date_of_birth is not None or postcode:
            raise ValidationFailed(
                "Answer either date of birth and postcode, or the last digits of an account number, not both.",
                fields={"non_field_errors": "Answer one question."},
            )
        if not re.fullmatch(rf"\d{{{ACCOUNT_DIGITS}}}", account_digits):
            raise ValidationFailed(
                f"Give the last {ACCOUNT_DIGITS} digits of the account number.",
                fields={"account_digits": f"Exactly {ACCOUNT_DIGITS} digits."},
            )
        return KnowledgeMethod.ACCOUNT_DIGITS
    missing = {}
    if date_of_birth is None:
        missing["date_of_birth"] = "This field is required."
    if not normalise_postcode(value=postcode):
        missing["postcode"] = "This field is required."
    if missing:
        raise ValidationFailed(
            "Give date of birth and postcode, or the last digits of an account number.", fields=missing
        )
    return KnowledgeMethod.DOB_POSTCODE


@transaction.atomic
def verification_knowledge_check(
    *,
    actor: Actor,
    conversation: Conversation,
    date_of_birth: date | None = None,
    postcode: str = "",
    account_digits: str = "",
) -> Verification:
    """Check knowledge answers: date of birth *and* postcode, or the last 4 digits of an account number.

    Compared on normalised values (postcode without spaces, upper case) as keyed digests with
    ``hmac.compare_digest``, every comparison made. Success makes the conversation ``verified``;
    a failure counts like a wrong code. Returns the outcome; raises ``ValidationFailed`` for
    incomplete answers, ``PermissionDenied`` as ``verification_otp_check`` does,
    ``VerificationLocked`` while locked, ``Conflict`` if ended.
    """
    method = knowledge_check_input(date_of_birth=date_of_birth, postcode=postcode, account_digits=account_digits)
    now = timezone.now()
    conversation = _open_conversation(conversation)
    require_handling_agent(actor, conversation, clients=True)
    customer = conversation.customer
    if customer is None:
        _refuse_if_locked(conversation, now)
        _answers_match(None, date_of_birth=date_of_birth, postcode=postcode, account_digits=account_digits)
        return _anonymous_failure(conversation=conversation, method=method, now=now)
    lock = customer_lock_for_update(customer)
    locked_until = lock_active_until(lock, now)
    if locked_until is not None:
        raise VerificationLocked(retry_after_seconds=retry_after_seconds(locked_until, now))
    if _answers_match(customer, date_of_birth=date_of_birth, postcode=postcode, account_digits=account_digits):
        lock_register_success(lock)
        conversation = conversation_set_verification(
            actor=actor, conversation=conversation, customer=customer, level=VerificationLevel.VERIFIED, method=method
        )
        return Verification(verified=True, conversation=conversation, method=method)
    return _customer_failure(lock=lock, conversation=conversation, method=method, now=now)


# --- The console --------------------------------------------------------------------------------


@transaction.atomic
def verification_lock_clear(*, actor: Actor, lock: VerificationLock) -> VerificationLock:
    """Lift a customer's verification lock and forget their failures (supervisors, in the console)."""
    lock = VerificationLock.objects.select_for_update().select_related("customer").get(pk=lock.pk)
    was_locked = lock_active_until(lock, timezone.now()) is not None
    lock.failures = 0
    lock.locked_until = None
    lock.lockouts = 0
    lock.save(update_fields=["failures", "locked_until", "lockouts"])
    who = getattr(actor, "username", "") or "the system"
    logger.warning("ID&V lock of customer %s cleared by %s", lock.customer_id, who)
    journey_record(
        customer=lock.customer,
        kind="idv.unlocked",
        source_system="engagement",
        summary=f"Verification lock cleared by {who}" if was_locked else f"Verification failures reset by {who}",
        payload={"actor_id": getattr(actor, "pk", None), "was_locked": was_locked},
    )
    return lock


# --- Contact changes ----------------------------------------------------------------------------

CONTACT_WORDS = {IdentityKind.PHONE: "phone number", IdentityKind.EMAIL: "email address"}
CONTACT_METHODS = {IdentityKind.PHONE: ChallengeMethod.SMS, IdentityKind.EMAIL: ChallengeMethod.EMAIL}


def contact_change_notify(*, customer_id: int, kind: str, change: str, identity_id: int | None, value: str) -> None:
    """Records' notifier (``CEA_CONTACT_CHANGE_NOTIFIER``), called in the writing transaction: the
    notice is sent by a task after commit."""
    from engagement.idv.tasks import send_contact_change_notice  # the task module imports this one

    send_on_commit(
        send_contact_change_notice,
        customer_id=customer_id,
        kind=kind,
        change=change,
        identity_id=identity_id,
        value=value,
    )


def contact_change_notice_send(*, customer_id: int, kind: str, change: str, identity_id: int | None, value: str) -> int:
    """Tell a customer's contacts on record that a phone or email was added or removed; returns how many were told.

    Added: the registered SMS and email destinations are told (the new contact is held, so it is
    not one of them); a contact the customer came with is no change. Removed: the removed contact
    and the registered destinations are told. Raises ``SmsSendError`` and mail errors for the
    task to retry.
    """
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        return 0
    word = CONTACT_WORDS[IdentityKind(kind)]
    masked = mask_destination(destination=value, method=CONTACT_METHODS[IdentityKind(kind)])
    if change == "added":
        identity = customer.identities.filter(pk=identity_id).first()
        if identity is None or identity.created_at <= customer.created_at + CAME_WITH_CUSTOMER:
            return 0
        hours = settings.CEA_IDV_NEW_CONTACT_HOLD_HOURS
        text = (
            f"A new {word} ({masked}) was added to your account. Verification codes will not go to it "
            f"for {hours} hours. If you did not ask for this, contact us at once."
        )
        subject = f"A new {word} on your account"
        recipients: list[tuple[str, str]] = []
    else:
        text = f"The {word} {masked} was removed from your account. If you did not ask for this, contact us at once."
        subject = f"A {word} was removed from your account"
        recipients = [(CONTACT_METHODS[IdentityKind(kind)], value)]
    for method in (ChallengeMethod.SMS, ChallengeMethod.EMAIL):
        destination = registered_destination(customer=customer, method=method)
        if destination is not None and (method, destination) not in recipients:
            recipients.append((method, destination))
    recipients = [(method, to) for method, to in recipients if not (change == "added" and to == value)]
    for method, to in recipients:
        if method == ChallengeMethod.SMS:
            sms_sender().send(to, text)
        else:
            send_mail(subject=subject, message=text, from_email=None, recipient_list=[to])
    if recipients:
        journey_record(
            customer=customer,
            kind="idv.contact_change_notified",
            source_system="engagement",
            summary=f"Told the contacts on record that the {word} {masked} was {change}",
            payload={"kind": kind, "change": change, "told": len(recipients)},
        )
    return len(recipients)
