"""Sending SMS: one small interface, a backend chosen by ``settings.CEA_SMS_SENDER``.

Like Django's email backends: ``ConsoleSmsSender`` (the default, for a laptop) writes each
message to standard output, ``LocmemSmsSender`` (for tests) keeps them in ``outbox``, and a
deployment points the setting at its provider's sender (a class with ``send(to, text)``).
A sender raises ``SmsSendError`` and says whether the failure is worth retrying.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string


class SmsSendError(Exception):
    """A message could not be handed to the provider; ``retryable`` says whether to try again later."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class SentSms:
    to: str
    text: str
    sent_at: datetime


class SmsSender:
    """Hands one text message to a provider. ``to`` is an E.164 number."""

    def send(self, to: str, text: str) -> None:
        raise NotImplementedError


class ConsoleSmsSender(SmsSender):
    """Writes each message to standard output, as Django's console email backend does (development only)."""

    def __init__(self, stream=None) -> None:
        self.stream = stream

    def send(self, to: str, text: str) -> None:
        stream = self.stream or sys.stdout
        stream.write(f"SMS to {to}\n{text}\n{'-' * 40}\n")
        stream.flush()


# Messages "sent" by LocmemSmsSender, oldest first; tests read and clear it (like mail.outbox).
outbox: list[SentSms] = []


class LocmemSmsSender(SmsSender):
    """Keeps each message in ``engagement.idv.senders.outbox`` instead of sending it (tests)."""

    def send(self, to: str, text: str) -> None:
        outbox.append(SentSms(to=to, text=text, sent_at=timezone.now()))


def sms_sender() -> SmsSender:
    """A new sender of the class named by ``settings.CEA_SMS_SENDER``; a bad path fails loudly."""
    return import_string(settings.CEA_SMS_SENDER)()
