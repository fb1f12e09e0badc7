"""The provider's REST call-update API: ``POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json``.

The form field ``Twiml`` replaces what the call is doing with new TwiML (put through to an agent,
hold music, back into a queue, hang up). HTTP basic authentication with the account SID and auth
token, read through ``credentials.py`` for the call's source (``CEA_SOURCE_<NAME>_ACCOUNT_SID``,
``…_AUTH_TOKEN``). The base URL is ``CEA_TWILIO_API_URL`` (a loopback server in the tests).
"""

from __future__ import annotations

import logging

import httpx
from django.conf import settings

from cea.common.errors import ApplicationError
from engagement.adapters.credentials import credential
from engagement.adapters.models import WebhookSource

logger = logging.getLogger(__name__)


class CallUpdateFailed(ApplicationError):
    """The provider did not take the call update. ``retryable``: down, overloaded or unreachable (try
    again later); otherwise refused for good (the call has ended, wrong credentials …)."""

    status_code = 502
    code = "call_update_failed"

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message, code="call_update_failed")
        self.retryable = retryable


def call_update(*, source: WebhookSource, call_sid: str, twiml: str) -> dict:
    """Make the provider run ``twiml`` on the call now; returns the provider's call resource (JSON).

    Raises ``MissingCredential`` (409) when the source's account is not configured and
    ``CallUpdateFailed`` (502) when the provider refuses or cannot be reached.
    """
    account_sid = credential(source.name, "ACCOUNT_SID")
    auth_token = credential(source.name, "AUTH_TOKEN")
    url = f"{settings.CEA_TWILIO_API_URL}/2010-04-01/Accounts/{account_sid}/Calls/{call_sid}.json"
    try:
        response = httpx.post(
            url,
            data={"Twiml": twiml},
            auth=(account_sid, auth_token),
            timeout=settings.CEA_VOICE_API_TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as error:
        logger.warning("Call update of %s via %s failed: %s", call_sid, source.name, type(error).__name__)
        reason = f"The provider could not be reached ({type(error).__name__})."
        raise CallUpdateFailed(reason, retryable=True) from error
    if response.status_code == 429 or response.status_code >= 500:
        raise CallUpdateFailed(f"The provider is unavailable (HTTP {response.status_code}).", retryable=True)
    if response.status_code >= 400:
        try:
            detail = str(response.json().get("message", ""))[:200]
        except ValueError:
            detail = ""
        raise CallUpdateFailed(
            f"The provider refused the call update (HTTP {response.status_code}){': ' + detail if detail else ''}.",
            retryable=False,
        )
    try:
        return response.json()
    except ValueError:
        return {}
