"""Celery tasks of ID&V: sending one-time passcodes.

Only the challenge id goes through the broker. The code is made, hashed and stored inside the
task, and sent from there: it never sits in a broker queue, a retry record or a result, where
anyone who can read Redis could read it.
"""

from __future__ import annotations

import logging
import smtplib

from celery import shared_task
from django.db import OperationalError

from engagement.idv.senders import SmsSendError
from engagement.idv.services import contact_change_notice_send, verification_code_send

logger = logging.getLogger(__name__)

MAX_RETRIES = 4


def _backoff(retries: int) -> int:
    # 5, 10, 20, 40 s: bounded well inside a code's life (CEA_IDV_CODE_TTL_SECONDS, at least 30 s, 300 by default).
    return min(5 * 2**retries, 60)


@shared_task(name="engagement.idv.send_verification_code", bind=True, acks_late=True, max_retries=MAX_RETRIES)
def send_verification_code(self, challenge_id: int, resend: bool = False) -> bool:
    """Make and send the code of challenge ``challenge_id``; ``True`` if it went out.

    Safe to run twice: a challenge whose code was already made is left alone. A send that
    failed for a passing reason is retried with ``resend=True``, which makes a new code (the
    old one never arrived). A permanent refusal (a number the provider rejects) is logged and
    not retried; the customer can ask for a code again.
    """
    try:
        return verification_code_send(challenge_id=challenge_id, resend=resend)
    except SmsSendError as exc:
        if not exc.retryable:
            logger.warning("Verification code of challenge %s not sent: the SMS provider refused it", challenge_id)
            return False
        raise self.retry(
            exc=exc, kwargs={"challenge_id": challenge_id, "resend": True}, countdown=_backoff(self.request.retries)
        ) from None
    except smtplib.SMTPRecipientsRefused:
        logger.warning("Verification code of challenge %s not sent: the mail server refused the address", challenge_id)
        return False
    except OSError as exc:  # smtplib.SMTPException included: the mail server is unreachable or busy
        raise self.retry(
            exc=exc, kwargs={"challenge_id": challenge_id, "resend": True}, countdown=_backoff(self.request.retries)
        ) from None
    except OperationalError as exc:  # the database went away; a code already made is not made again
        raise self.retry(
            exc=exc, kwargs={"challenge_id": challenge_id, "resend": resend}, countdown=_backoff(self.request.retries)
        ) from None


@shared_task(name="engagement.idv.send_contact_change_notice", bind=True, acks_late=True, max_retries=MAX_RETRIES)
def send_contact_change_notice(
    self, *, customer_id: int, kind: str, change: str, identity_id: int | None, value: str
) -> int:
    """Tell a customer's contacts on record that a phone or email was added or removed (sent after commit)."""
    arguments = {"customer_id": customer_id, "kind": kind, "change": change, "identity_id": identity_id, "value": value}
    try:
        return contact_change_notice_send(**arguments)
    except SmsSendError as exc:
        if not exc.retryable:
            logger.warning("Contact change notice for customer %s not sent: the SMS provider refused it", customer_id)
            return 0
        raise self.retry(exc=exc, kwargs=arguments, countdown=_backoff(self.request.retries)) from None
    except (OSError, OperationalError) as exc:
        raise self.retry(exc=exc, kwargs=arguments, countdown=_backoff(self.request.retries)) from None
